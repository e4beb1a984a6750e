/**
 * Skips the cache after `failureThreshold` consecutive failures, for `cooldownMs`; then lets
 * one call through as a probe. A dead cache therefore costs at most one timeout per cool-down
 * once the breaker is open.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly failureThreshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number,
  ) {}

  get isOpen(): boolean {
    return this.openUntil !== 0;
  }

  /** Whether a call may use the cache now. */
  allow(): boolean {
    if (this.openUntil === 0) return true;
    if (this.probing || this.now() < this.openUntil) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.openUntil = 0;
    this.probing = false;
  }

  /** Records a failure; true when this failure opened the breaker. */
  failure(): boolean {
    this.failures++;
    if (!this.probing && this.failures < this.failureThreshold) return false;
    const opened = this.openUntil === 0;
    this.openUntil = this.now() + this.cooldownMs;
    this.probing = false;
    return opened;
  }
}

/** Property set on an error that one node of several caused: that node's breaker handles it. */
const NODE = Symbol.for('cdk-cacheable-api.cache.node');

/**
 * A key whose node is skipped by the node's own breaker (stores that spread keys over nodes).
 * Fails fast; the CacheClient falls back to the load for that key only.
 */
export class CacheNodeUnavailableError extends Error {
  constructor(readonly node: string) {
    super(`Data cache node ${node} is skipped after repeated failures`);
    this.name = 'CacheNodeUnavailableError';
    (this as unknown as Record<symbol, string>)[NODE] = node;
  }
}

/** Tags `err` as caused by one node of several; returns it. */
export function markNodeError(err: unknown, node: string): unknown {
  if (err !== null && typeof err === 'object') (err as Record<symbol, string>)[NODE] = node;
  return err;
}

/** Whether `err` is one node's failure (counted by that node's breaker, not the whole cache's). */
export function isNodeError(err: unknown): boolean {
  return err !== null && typeof err === 'object' && typeof (err as Record<symbol, unknown>)[NODE] === 'string';
}
