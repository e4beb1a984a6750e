// The client alone: iovalkey, created at module scope without connecting (as a handler would).
import Redis from 'iovalkey';

const client = new Redis({ host: process.env.BENCH_HOST ?? '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 6379), lazyConnect: true });

export const handler = async (): Promise<{ statusCode: number; body: string }> => ({ statusCode: 200, body: (await client.get('item')) ?? '{}' });
