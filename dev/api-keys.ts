import type { ApiConsumer, ThrottleSettings } from '../lib/api/api-consumers';

/** A consumer as the dev server knows it: the stack's consumer settings and the key value it accepts. */
export interface DevConsumer extends ApiConsumer {
  /** The key the consumer sends in `x-api-key` (in the stack: the value in its Secrets Manager secret). */
  readonly apiKey: string;
}

/** API Gateway's answer when a key check fails: status, gateway response type and message. */
export interface ApiKeyRejection {
  readonly statusCode: 403 | 429;
  readonly code: 'INVALID_API_KEY' | 'THROTTLED' | 'QUOTA_EXCEEDED';
  readonly message: string;
}

/** A token bucket: `burstLimit` tokens, refilled at `rateLimit` per second. */
class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(private readonly limits: ThrottleSettings, now: number) {
    this.tokens = limits.burstLimit;
    this.at = now;
  }

  public take(now: number): boolean {
    this.tokens = Math.min(this.limits.burstLimit, this.tokens + ((now - this.at) / 1000) * this.limits.rateLimit);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Start of the quota period that contains `now` (UTC calendar day, ISO week from Monday, month). */
function periodStart(period: string, now: number): number {
  const d = new Date(now);
  if (period === 'MONTH') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'WEEK') return day - ((d.getUTCDay() + 6) % 7) * 86_400_000;
  return day;
}

interface ConsumerState {
  readonly consumer: DevConsumer;
  readonly throttle?: TokenBucket;
  readonly routeThrottles: Map<string, TokenBucket>;
  used: number;
  periodStart: number;
}

/**
 * API keys and usage plans in memory, for the dev server: a route with `requireApiKey` needs a
 * known key in `x-api-key` (403 `INVALID_API_KEY` otherwise, as API Gateway answers a missing
 * or wrong key), then the consumer's route and plan throttles (429 `THROTTLED`) and quota
 * (429 `QUOTA_EXCEEDED`) apply. Only accepted requests count against the quota.
 */
export class DevApiKeys {
  private readonly byKey = new Map<string, ConsumerState>();

  constructor(consumers: readonly DevConsumer[], private readonly now: () => number = Date.now) {
    const t = now();
    for (const consumer of consumers) {
      if (typeof consumer.apiKey !== 'string' || consumer.apiKey.length < 20) {
        throw new Error(`consumers: the dev key of "${consumer.name}" must be at least 20 characters, as API Gateway requires`);
      }
      if (this.byKey.has(consumer.apiKey)) throw new Error(`consumers: "${consumer.name}" reuses another consumer's key`);
      this.byKey.set(consumer.apiKey, {
        consumer,
        throttle: consumer.throttle ? new TokenBucket(consumer.throttle, t) : undefined,
        routeThrottles: new Map(Object.entries(consumer.routeThrottles ?? {}).map(([route, limits]) => [route, new TokenBucket(limits, t)])),
        used: 0,
        periodStart: consumer.quota ? periodStart(consumer.quota.period, t) : 0,
      });
    }
  }

  /** Checks one request to `routeKey`; returns the consumer, or API Gateway's rejection. */
  public check(routeKey: string, apiKey: string | undefined): { consumer: DevConsumer } | { rejection: ApiKeyRejection } {
    const state = apiKey === undefined ? undefined : this.byKey.get(apiKey);
    if (!state) return { rejection: { statusCode: 403, code: 'INVALID_API_KEY', message: 'Forbidden' } };
    const now = this.now();
    const routeBucket = state.routeThrottles.get(routeKey);
    if ((routeBucket && !routeBucket.take(now)) || (state.throttle && !state.throttle.take(now))) {
      return { rejection: { statusCode: 429, code: 'THROTTLED', message: 'Too Many Requests' } };
    }
    const quota = state.consumer.quota;
    if (quota) {
      const start = periodStart(quota.period, now);
      if (start !== state.periodStart) {
        state.periodStart = start;
        state.used = 0;
      }
      if (state.used >= quota.limit) return { rejection: { statusCode: 429, code: 'QUOTA_EXCEEDED', message: 'Limit Exceeded' } };
      state.used += 1;
    }
    return { consumer: state.consumer };
  }
}
