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

/**
 * A loader that does not return until `open()`. Who answered while it was held shows who did not
 * wait for it: an order, which a slow scheduler cannot break the way a wall-clock budget can.
 */
export function gatedLoader<T>(value: T | (() => T)): { load: () => Promise<T>; calls: () => number; open: () => void } {
  let calls = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return {
    load: async () => {
      calls += 1;
      await gate;
      return typeof value === 'function' ? (value as () => T)() : value;
    },
    calls: () => calls,
    open: () => open(),
  };
}

/**
 * Waits until `condition()` holds. `hangMs` only turns a hang into a failure with a message; it
 * is not a timing claim (the default is far beyond any scheduler stall).
 */
export async function waitUntil(condition: () => boolean, what: string, hangMs = 20_000): Promise<void> {
  const deadline = Date.now() + hangMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${hangMs} ms: ${what}`);
    await sleep(5);
  }
}

export function cacheOver(store: CacheStore, options: Partial<CacheClientOptions> = {}): CacheClient {
  return new CacheClient({ ttlSeconds: 60, jitter: 0, store, ...options });
}
