import { BudgetConfig, BudgetLimit } from './config';
import { AiError } from './format';

/** An atomic counter shared by every container (DynamoDbStore), or by one process (MemoryCounter). */
export interface UsageCounter {
  /** Adds `amount` and returns the new total; the counter reads 0 after `expiresAtMs`. */
  increment(key: string, amount: number, expiresAtMs: number): Promise<number>;
  /** The current total, 0 when missing or expired. */
  counter(key: string): Promise<number>;
}

/** Per-process counters: local runs and tests. */
export class MemoryCounter implements UsageCounter {
  private readonly totals = new Map<string, { n: number; expiresAt: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  async increment(key: string, amount: number, expiresAtMs: number): Promise<number> {
    const slot = this.live(key) ?? { n: 0, expiresAt: expiresAtMs };
    slot.n += amount;
    this.totals.set(key, slot);
    return slot.n;
  }

  async counter(key: string): Promise<number> {
    return this.live(key)?.n ?? 0;
  }

  private live(key: string) {
    const slot = this.totals.get(key);
    if (slot && slot.expiresAt <= this.now()) {
      this.totals.delete(key);
      return undefined;
    }
    return slot;
  }
}

/** The budget period containing `now` (UTC): its counter name and when it ends. */
export function budgetPeriod(limit: BudgetLimit, now: number): { label: string; endsAt: number } {
  const d = new Date(now);
  if (limit.period === 'day') {
    const endsAt = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
    return { label: d.toISOString().slice(0, 10), endsAt };
  }
  const endsAt = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { label: d.toISOString().slice(0, 7), endsAt };
}

export function budgetFor(config: BudgetConfig | undefined, consumer: string): BudgetLimit | undefined {
  if (!config) return undefined;
  return config.consumers?.find((c) => c.consumer === consumer) ?? config.default;
}

/** The state of one consumer's budget before a call. */
export interface BudgetState {
  readonly limit: BudgetLimit;
  readonly key: string;
  readonly endsAt: number;
  readonly used: number;
}

/**
 * Checks `consumer`'s budget: throws a 429 with `Retry-After` (seconds to the end of the
 * period) once the period's tokens are spent. A check and the later `charge` are separate
 * steps, so calls already in flight when the budget runs out may take it past the limit by
 * their own tokens; no call starts once it is spent.
 */
export async function checkBudget(counter: UsageCounter, config: BudgetConfig | undefined, consumer: string, now: number): Promise<BudgetState | undefined> {
  const limit = budgetFor(config, consumer);
  if (!limit) return undefined;
  const period = budgetPeriod(limit, now);
  const key = `budget:${consumer}:${period.label}`;
  const used = await counter.counter(key);
  if (used >= limit.tokens) {
    const retryAfter = Math.max(1, Math.ceil((period.endsAt - now) / 1000));
    throw new AiError(
      429,
      'insufficient_quota',
      `Token budget of ${limit.tokens} per ${limit.period} is spent (${used} used); it renews in ${retryAfter} s`,
      'budget_exceeded',
      null,
      { 'Retry-After': String(retryAfter), ...budgetHeaders({ limit, key, endsAt: period.endsAt, used }) },
    );
  }
  return { limit, key, endsAt: period.endsAt, used };
}

/** Adds the tokens a call used; resolves to the new total. */
export function charge(counter: UsageCounter, state: BudgetState, tokens: number): Promise<number> {
  return counter.increment(state.key, tokens, state.endsAt);
}

export function budgetHeaders(state: BudgetState, used = state.used): Record<string, string> {
  return {
    'X-Budget-Limit-Tokens': String(state.limit.tokens),
    'X-Budget-Remaining-Tokens': String(Math.max(0, state.limit.tokens - used)),
    'X-Budget-Reset': new Date(state.endsAt).toISOString(),
  };
}
