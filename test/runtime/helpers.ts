import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { CacheStore, CacheClientOptions } from '../../lambda/runtime/cache/types';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let sequence = 0;
/** A key no other test uses (tests share one server per file). */
export function uniqueKey(label: string): string {
  sequence += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${sequence}`;
}

/** A clock the test moves by hand, starting at the real time so store TTLs stay meaningful. */
export class FakeClock {
  current = Date.now();
  readonly now = (): number => this.current;
  advance(ms: number): void {
    this.current += ms;
  }
}

/** A loader that counts its calls and can be slowed down. */
export function countingLoader<T>(value: T | (() => T), delayMs = 0): { load: () => Promise<T>; calls: () => number } {
  let calls = 0;
  return {
    load: async () => {
      calls += 1;
      if (delayMs > 0) await sleep(delayMs);
      return typeof value === 'function' ? (value as () => T)() : value;
    },
    calls: () => calls,
  };
}

export function cacheOver(store: CacheStore, options: Partial<CacheClientOptions> = {}): CacheClient {
  return new CacheClient({ ttlSeconds: 60, jitter: 0, store, ...options });
}
