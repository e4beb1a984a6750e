import { getCacheClient } from 'cdk-cacheable-api/runtime/cache';

export const handler = async (): Promise<void> => {
  await getCacheClient().invalidateGroup('sessions');
};
