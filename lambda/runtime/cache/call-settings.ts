import type { CacheGetOptions } from './types';

/** A policy in milliseconds. */
export interface Lifetimes {
  readonly freshMs: number;
  readonly negativeMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  readonly jitter: number;
}

/** What a call's options resolve to, validated. */
export interface CallSettings {
  readonly policy: Lifetimes;
  readonly loadTimeoutMs: number;
  /** freshMs plus the longest stale window: what the store must be able to keep. */
  readonly longestMs: number;
}

/** The option values a call's settings depend on, read once from the caller's object. */
interface Inputs {
  readonly ttlSeconds: number | undefined;
  readonly negativeTtlSeconds: number | undefined;
  readonly staleWhileRevalidateSeconds: number | undefined;
  readonly staleIfErrorSeconds: number | undefined;
  readonly jitter: number | undefined;
  readonly loadTimeoutMs: number | undefined;
}

interface Resolved extends Inputs {
  readonly settings: CallSettings;
}

/** Distinct option sets remembered; a process uses a handful (one per call site and route). */
const MAX_REMEMBERED = 8;

/**
 * Per-call settings, resolved once per distinct set of option VALUES. Merging, validating and
 * converting the options on every call was most of the kit's CPU on a cache hit (an
 * Object.entries/fromEntries round and several objects per call). The memo is keyed by the
 * values, not by the options object: handlers pass a fresh literal per call, and a caller may
 * mutate an object it passed before, so identity would either never hit or go stale.
 * `resolve` must be a pure function of the inputs (it throws for invalid ones; those are not
 * remembered, so they throw again on every call).
 */
export class CallSettingsMemo {
  private readonly recent: Resolved[] = [];

  constructor(private readonly resolve: (options: Inputs) => CallSettings) {}

  get(options: CacheGetOptions): CallSettings {
    // The lifetimes are the options' own properties only (they were always read by a copy of
    // them); a plain object's properties are its own, anything else is copied to find them.
    const own: CacheGetOptions = Object.getPrototypeOf(options) === Object.prototype ? options : { ...options };
    const ttlSeconds = own.ttlSeconds;
    const negativeTtlSeconds = own.negativeTtlSeconds;
    const staleWhileRevalidateSeconds = own.staleWhileRevalidateSeconds;
    const staleIfErrorSeconds = own.staleIfErrorSeconds;
    const jitter = own.jitter;
    const loadTimeoutMs = options.loadTimeoutMs;
    const recent = this.recent;
    for (let i = 0; i < recent.length; i++) {
      const r = recent[i];
      if (
        r.ttlSeconds === ttlSeconds &&
        r.negativeTtlSeconds === negativeTtlSeconds &&
        r.staleWhileRevalidateSeconds === staleWhileRevalidateSeconds &&
        r.staleIfErrorSeconds === staleIfErrorSeconds &&
        r.jitter === jitter &&
        r.loadTimeoutMs === loadTimeoutMs
      ) {
        return r.settings;
      }
    }
    const inputs: Inputs = { ttlSeconds, negativeTtlSeconds, staleWhileRevalidateSeconds, staleIfErrorSeconds, jitter, loadTimeoutMs };
    const settings = this.resolve(inputs);
    // Newest first; the oldest is forgotten (only costs a re-resolution if it comes back).
    recent.unshift({ ...inputs, settings });
    if (recent.length > MAX_REMEMBERED) recent.pop();
    return settings;
  }
}
