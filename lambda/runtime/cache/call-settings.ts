import { DEFAULT_JITTER, DEFAULT_NEGATIVE_TTL_SECONDS } from './env';
import type { CacheGetOptions, CachePolicy } from './types';

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

/** A policy in milliseconds, validated (the first invalid setting is named). */
export function lifetimes(policy: CachePolicy): Lifetimes {
  const ttl = policy.ttlSeconds;
  if (!(ttl > 0) || !Number.isFinite(ttl)) throw new Error(`Data cache ttlSeconds must be a positive number, got ${ttl}`);
  const jitter = policy.jitter ?? DEFAULT_JITTER;
  if (!(jitter >= 0 && jitter < 1)) throw new Error(`Data cache jitter must be in [0, 1), got ${jitter}`);
  const seconds = (value: number | undefined, name: string): number => {
    const v = value ?? 0;
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`Data cache ${name} must be a number >= 0, got ${value}`);
    return v * 1000;
  };
  return {
    freshMs: ttl * 1000,
    negativeMs: Math.min(seconds(policy.negativeTtlSeconds ?? DEFAULT_NEGATIVE_TTL_SECONDS, 'negativeTtlSeconds'), ttl * 1000),
    staleWhileRevalidateMs: seconds(policy.staleWhileRevalidateSeconds, 'staleWhileRevalidateSeconds'),
    staleIfErrorMs: seconds(policy.staleIfErrorSeconds, 'staleIfErrorSeconds'),
    jitter,
  };
}

/** Drops keys whose value is undefined, so `{ ttlSeconds: undefined }` does not override a default. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
