/**
 * One container of the cross-process stampede benchmark (bench/data-cache/stampede.ts): a separate
 * Node.js process configured by the DATA_CACHE_* environment like a deployed function, driven by
 * IPC messages: `warm` opens its connection; `run` waits for the common start time, fires
 * `callers` concurrent `cacheAside` misses of one key and answers how many origin loads it made.
 */
import { cacheAside } from '../../lambda/runtime/cache/from-env';

type Message =
  | { type: 'warm' }
  | { type: 'run'; key: string; callers: number; startAt: number; originMs: number }
  | { type: 'exit' };

process.on('message', (message: Message) => {
  void (async () => {
    if (message.type === 'exit') process.exit(0);
    if (message.type === 'warm') {
      await cacheAside(`warm-${process.pid}`, async () => 'warm');
      process.send!({ type: 'ready' });
      return;
    }
    let loads = 0;
    const load = async () => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, message.originMs));
      return { id: message.key, body: 'x'.repeat(1000) };
    };
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, message.startAt - Date.now())));
    await Promise.all(Array.from({ length: message.callers }, () => cacheAside(message.key, load)));
    process.send!({ type: 'done', loads, finishedAt: Date.now() });
  })().catch((error) => {
    process.stderr.write(String(error?.stack ?? error) + '\n');
    process.exit(1);
  });
});
