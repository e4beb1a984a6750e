/** The simulated clock and seeded randomness of coherence-sim.ts: the same seed, the same run. */

/** A min-heap of timed events on a simulated clock; microtasks run to completion between events. */
export class SimClock {
  now = 0;
  private sequence = 0;
  private readonly heap: { t: number; s: number; run: () => void }[] = [];

  at(t: number, run: () => void): void {
    const heap = this.heap;
    heap.push({ t, s: this.sequence++, run });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  readonly sleep = (ms: number): Promise<void> => new Promise((resolve) => this.at(this.now + Math.max(0, ms), resolve));

  async run(untilMs: number): Promise<void> {
    while (this.heap.length > 0 && this.heap[0].t <= untilMs) {
      const next = this.pop();
      this.now = next.t;
      next.run();
      // Let every promise chain the event resumed settle before the next event.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.now = untilMs;
  }

  /** Runs events until `promise` settles; fails when nothing is left to run before it does. */
  async drive<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (!settled) {
      if (this.heap.length === 0) throw new Error('simulation deadlock: no event left and the final reads have not settled');
      const next = this.pop();
      this.now = next.t;
      next.run();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return watched;
  }

  private before(a: { t: number; s: number }, b: { t: number; s: number }): boolean {
    return a.t < b.t || (a.t === b.t && a.s < b.s);
  }

  private pop(): { t: number; s: number; run: () => void } {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.before(heap[l], heap[m])) m = l;
        if (r < heap.length && this.before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
