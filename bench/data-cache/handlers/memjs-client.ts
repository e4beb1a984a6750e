// For the client choice only: memjs (binary protocol, no gets/cas) created at module scope.
import * as memjs from 'memjs';

const client = memjs.Client.create(`${process.env.BENCH_HOST ?? '127.0.0.1'}:${process.env.BENCH_PORT ?? 11211}`);

export const handler = async (): Promise<{ statusCode: number; body: string }> => {
  const { value } = await client.get('item');
  return { statusCode: 200, body: value?.toString() ?? '{}' };
};
