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
