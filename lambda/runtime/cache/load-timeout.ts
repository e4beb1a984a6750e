/**
 * Loader timeout. A load that never settles (a hung origin call) would hold its key for ever:
 * every later caller in the process joins the same pending load. Wrapping the loader makes it
 * reject after `ms`, so the callers waiting on it get a CacheLoadTimeoutError, the key and its
 * fill lease are freed, and stale-if-error can serve the last value instead. The load itself
 * cannot be cancelled; if it settles later, its result is dropped.
 */
import { Loader } from './types';

export { DEFAULT_LOAD_TIMEOUT_MS } from './env';

export class CacheLoadTimeoutError extends Error {
  constructor(key: string, ms: number) {
    super(`Data cache load of "${key}" timed out after ${ms} ms`);
    this.name = 'CacheLoadTimeoutError';
  }
}

/** `ms`, checked: a positive number of milliseconds, or Infinity for "no timeout". */
export function checkLoadTimeout(ms: number): number {
  if (!(ms > 0)) throw new RangeError(`Data cache loadTimeoutMs must be a positive number of milliseconds (or Infinity), got ${ms}`);
  return ms;
}

/**
 * `load`, rejecting with a CacheLoadTimeoutError after `ms` (`onTimeout` counts it). The timer
 * only exists while a load runs, never on a cache hit.
 */
export function withLoadTimeout<T>(load: Loader<T>, key: string, ms: number, onTimeout: () => void): Loader<T> {
  if (ms === Infinity) return load;
  return () => {
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new CacheLoadTimeoutError(key, ms));
      }, ms);
    });
    // `then(load)` also turns a synchronous throw into a rejection.
    return Promise.race([Promise.resolve().then(load), expiry]).finally(() => clearTimeout(timer));
  };
}
