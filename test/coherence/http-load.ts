/**
 * Readers and writers of the catalog over HTTP, judged against the coherence contract as they
 * go: a read is stale when a write acknowledged before the read started has a higher price.
 */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Ack {
  readonly price: number;
  readonly ackedAt: number;
}

/** Readers and writers against the dev server; writes to one id are sequential (one writer owns it), prices only grow. */
export class Load {
  readonly acks = new Map<string, Ack[]>();
  staleReads = 0;
  reads = 0;
  readonly examples: string[] = [];
  private price = 0;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly url: string,
    readonly ids: readonly string[],
  ) {
    for (const id of ids) this.acks.set(id, []);
  }

  async put(id: string): Promise<void> {
    const price = ++this.price;
    const res = await fetch(`${this.url}/items/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `item ${id}`, price }),
    });
    if (res.status !== 200) throw new Error(`PUT ${id}: ${res.status} ${await res.text()}`);
    this.acks.get(id)!.push({ price, ackedAt: performance.now() });
  }

  /** One read, judged: stale if a write acknowledged before it started has a higher price. */
  async get(id: string): Promise<number> {
    const startedAt = performance.now();
    const res = await fetch(`${this.url}/items/${id}`);
    if (res.status !== 200) throw new Error(`GET ${id}: ${res.status} ${await res.text()}`);
    const { price } = (await res.json()) as { price: number };
    this.reads++;
    const newer = this.acks.get(id)!.find((a) => a.ackedAt <= startedAt && a.price > price);
    if (newer) {
      this.staleReads++;
      if (this.examples.length < 5) {
        this.examples.push(`GET ${id} returned price ${price}, ${(startedAt - newer.ackedAt).toFixed(0)} ms after price ${newer.price} was acknowledged (${res.headers.get('x-cache')}, data ${res.headers.get('x-data-cache')})`);
      }
    }
    return price;
  }

  start(readers = 4, writers = 2): void {
    this.running = true;
    const pick = (list: readonly string[]) => list[Math.floor(Math.random() * list.length)];
    for (let r = 0; r < readers; r++) {
      this.loops.push((async () => {
        while (this.running) await this.get(pick(this.ids));
      })());
    }
    for (let w = 0; w < writers; w++) {
      const owned = this.ids.filter((_, i) => i % writers === w);
      this.loops.push((async () => {
        while (this.running) {
          await this.put(pick(owned));
          await sleep(10);
        }
      })());
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Reads every id once and counts those that differ from their last acknowledged write. */
  async finalMismatches(): Promise<number> {
    let mismatches = 0;
    for (const id of this.ids) {
      const acks = this.acks.get(id)!;
      const last = acks[acks.length - 1];
      if (last && (await this.get(id)) !== last.price) mismatches++;
    }
    return mismatches;
  }
}
