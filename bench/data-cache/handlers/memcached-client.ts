// The memcached client alone: the kit's own text-protocol client (connects on first use).
import { MemcachedConnection } from '../../../lambda/runtime/cache/memcached-client';

let connection: Promise<MemcachedConnection> | undefined;

export const handler = async (): Promise<{ statusCode: number; body: string }> => {
  connection ??= MemcachedConnection.connect({ host: process.env.BENCH_HOST ?? '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 11211) });
  const found = await (await connection).gets(['item']);
  return { statusCode: 200, body: found.get('item')?.value ?? '{}' };
};
