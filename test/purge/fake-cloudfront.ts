import {
  CreateInvalidationCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
  TooManyInvalidationsInProgress,
} from '@aws-sdk/client-cloudfront';
import type { AwsStub } from 'aws-sdk-client-mock';
export { seededRandom as seeded } from '../coherence/sim-clock';
import type { ServiceInputTypes, ServiceOutputTypes, CloudFrontClientResolvedConfig } from '@aws-sdk/client-cloudfront';

/** A simulated clock: sleeping advances it, nothing really waits. */
export class SimClock {
  now = 0;
  sleep = async (ms: number): Promise<void> => {
    this.now += ms;
  };
}

interface Invalidation {
  readonly id: string;
  readonly paths: string[];
  readonly createdAt: number;
  readonly completesAt: number;
  readonly callerReference: string;
}

/**
 * CloudFront as far as invalidations go: the in-progress quotas per distribution enforced as
 * CloudFront does (a request that would take the paths in progress over 3,000 files or 15
 * wildcards is refused with TooManyInvalidationsInProgress), each invalidation in progress for
 * `minMs`..`maxMs` of simulated time, CallerReference idempotency, ListInvalidations newest first
 * in pages, GetInvalidation with the paths.
 */
export class FakeCloudFront {
  readonly invalidations: Invalidation[] = [];
  refusals = 0;
  maxFilesInProgress = 0;
  maxWildcardsInProgress = 0;
  private next = 1;

  constructor(
    private readonly clock: SimClock,
    private readonly random: () => number,
    readonly options = { files: 3000, wildcards: 15, minMs: 20_000, maxMs: 60_000, pageSize: 100 },
  ) {}

  install(mock: AwsStub<ServiceInputTypes, ServiceOutputTypes, CloudFrontClientResolvedConfig>): void {
    mock.on(CreateInvalidationCommand).callsFake((input) => this.create(input as never));
    mock.on(ListInvalidationsCommand).callsFake((input) => this.list(input as never));
    mock.on(GetInvalidationCommand).callsFake((input) => this.get(input as never));
  }

  inProgress(): Invalidation[] {
    return this.invalidations.filter((i) => i.completesAt > this.clock.now);
  }

  private counts(list: Invalidation[]) {
    let files = 0;
    let wildcards = 0;
    for (const i of list) for (const p of i.paths) p.endsWith('*') ? wildcards++ : files++;
    return { files, wildcards };
  }

  private create(input: { InvalidationBatch: { CallerReference: string; Paths: { Quantity: number; Items: string[] } } }) {
    const { CallerReference, Paths } = input.InvalidationBatch;
    if (Paths.Quantity !== Paths.Items.length) throw new Error('Quantity does not match Items');
    const same = this.invalidations.find((i) => i.callerReference === CallerReference);
    if (same) return this.describe(same);
    const busy = this.counts(this.inProgress());
    const adding = this.counts([{ paths: Paths.Items } as Invalidation]);
    if (busy.files + adding.files > this.options.files || busy.wildcards + adding.wildcards > this.options.wildcards) {
      this.refusals++;
      throw new TooManyInvalidationsInProgress({ message: 'Your request contains too many invalidations.', $metadata: { httpStatusCode: 400 } });
    }
    const duration = this.options.minMs + Math.floor(this.random() * (this.options.maxMs - this.options.minMs));
    const invalidation = { id: `I${this.next++}`, paths: [...Paths.Items], createdAt: this.clock.now, completesAt: this.clock.now + duration, callerReference: CallerReference };
    this.invalidations.push(invalidation);
    const now = this.counts(this.inProgress());
    this.maxFilesInProgress = Math.max(this.maxFilesInProgress, now.files);
    this.maxWildcardsInProgress = Math.max(this.maxWildcardsInProgress, now.wildcards);
    return this.describe(invalidation);
  }

  private list(input: { Marker?: string; MaxItems?: number }) {
    const newestFirst = [...this.invalidations].reverse();
    const start = input.Marker ? newestFirst.findIndex((i) => i.id === input.Marker) + 1 : 0;
    const size = Math.min(input.MaxItems ?? this.options.pageSize, this.options.pageSize);
    const page = newestFirst.slice(start, start + size);
    const truncated = start + size < newestFirst.length;
    return {
      InvalidationList: {
        Items: page.map((i) => ({ Id: i.id, Status: i.completesAt > this.clock.now ? 'InProgress' : 'Completed', CreateTime: new Date(i.createdAt) })),
        IsTruncated: truncated,
        NextMarker: truncated ? page[page.length - 1].id : undefined,
        Quantity: page.length,
        MaxItems: size,
        Marker: input.Marker ?? '',
      },
    };
  }

  private get(input: { Id: string }) {
    const found = this.invalidations.find((i) => i.id === input.Id);
    if (!found) throw Object.assign(new Error('NoSuchInvalidation'), { name: 'NoSuchInvalidation', $metadata: { httpStatusCode: 404 } });
    return this.describe(found);
  }

  private describe(i: Invalidation) {
    return {
      Invalidation: {
        Id: i.id,
        Status: i.completesAt > this.clock.now ? 'InProgress' : 'Completed',
        CreateTime: new Date(i.createdAt),
        InvalidationBatch: { CallerReference: i.callerReference, Paths: { Quantity: i.paths.length, Items: i.paths } },
      },
    };
  }
}
