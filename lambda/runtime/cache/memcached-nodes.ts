import { createHash } from 'node:crypto';
import { CircuitBreaker, markNodeError, CacheNodeUnavailableError } from './circuit-breaker';
import { hashTag } from './keys';
import type { MemcachedConnection, MemcachedEndpoint } from './memcached-client';
import type { ConnectionSlot } from './store';

/** Where a node is reached: by IP when Auto Discovery gives one (no DNS lookup), TLS-checked against its name. */
export interface NodeAddress extends MemcachedEndpoint {
  readonly servername?: string;
  /** `host:port` as keys are hashed against it; defaults to the address's. */
  readonly id?: string;
}

interface Node {
  /** `host:port`, what keys are hashed against: the same in every container. */
  readonly id: string;
  /** The address connected to; a node whose IP changed gets a new connection. */
  readonly address: string;
  readonly slot: ConnectionSlot<MemcachedConnection>;
  /** Skips this node's keys after repeated failures, without touching the other nodes'. */
  readonly breaker: CircuitBreaker;
}

export interface MemcachedNodesOptions {
  /** The servers, or the one configuration endpoint with `autoDiscovery`. */
  readonly servers: readonly MemcachedEndpoint[];
  readonly autoDiscovery: boolean;
  /** How often the node list is asked again. */
  readonly discoveryIntervalMs: number;
  /** How soon a discovery that could not reach the endpoint is tried again. @default 1000, at most discoveryIntervalMs */
  readonly discoveryRetryMs?: number;
  /** Opens a connection slot to one node (or to the configuration endpoint). */
  readonly slot: (endpoint: NodeAddress) => ConnectionSlot<MemcachedConnection>;
  /** Per-node breaker; only used when there is more than one node. @default 3 failures, 5 s */
  readonly nodeBreaker?: { readonly failureThreshold?: number; readonly cooldownMs?: number };
  readonly now?: () => number;
}

/**
 * The nodes of a memcached cluster and which one owns a key:
 * - rendezvous hashing of the key's hash tag over node ids (`host:port` as Auto Discovery names
 *   them), so every container and the stream purge agree on each key's node, whatever order
 *   they learnt the nodes in;
 * - Auto Discovery (`config get cluster` on an ElastiCache configuration endpoint) falls back to
 *   "the endpoint is the only node" only on an explicit `ERROR` reply (a plain memcached or a
 *   serverless cache does not know the command). A dropped connection or a timeout says nothing
 *   about the cluster: the last node list is kept and discovery is retried soon;
 * - with several nodes, each has its own breaker: a dead node costs only its own keys.
 */
export class MemcachedNodes {
  private nodes: Node[] = [];
  private readonly configEndpoint: ConnectionSlot<MemcachedConnection> | undefined;
  private readonly now: () => number;
  private nextDiscoveryAt = 0;
  private discovering: Promise<void> | undefined;

  constructor(private readonly options: MemcachedNodesOptions) {
    if (options.servers.length === 0) throw new Error('MemcachedStore needs at least one server');
    this.now = options.now ?? Date.now;
    if (options.autoDiscovery) {
      if (options.servers.length !== 1) throw new Error('Auto Discovery takes the one configuration endpoint');
      this.configEndpoint = options.slot(options.servers[0]);
    } else {
      this.setNodes(options.servers);
    }
  }

  /** The nodes now in use, as `host:port`. */
  get ids(): string[] {
    return this.nodes.map((n) => n.id);
  }

  /** Runs `command` on the node that owns `key`, finding the nodes first if needed. */
  run<T, R = T>(key: string, command: (connection: MemcachedConnection) => Promise<T>, map?: (reply: T) => R): Promise<R> {
    if (this.configEndpoint !== undefined && (this.nodes.length === 0 || this.now() >= this.nextDiscoveryAt)) {
      const discovery = this.discover();
      // With a node list in hand, refresh it alongside rather than delay this command.
      if (this.nodes.length === 0) return discovery.then(() => this.runOn(key, command, map));
      discovery.catch(() => undefined);
    }
    return this.runOn(key, command, map);
  }

  /** Closes every connection, the configuration endpoint's too, including any still being opened. */
  async close(): Promise<void> {
    await Promise.all([this.configEndpoint?.close(), ...this.nodes.map((node) => node.slot.close())]);
  }

  private runOn<T, R>(key: string, command: (connection: MemcachedConnection) => Promise<T>, map?: (reply: T) => R): Promise<R> {
    const node = this.nodeFor(key);
    if (this.nodes.length === 1) return node.slot.run(command, map);
    if (!node.breaker.allow()) return Promise.reject(new CacheNodeUnavailableError(node.id));
    return node.slot.run(command, map).then(
      (reply) => {
        node.breaker.success();
        return reply;
      },
      (err: unknown) => {
        node.breaker.failure();
        throw markNodeError(err, node.id);
      },
    );
  }

  private discover(): Promise<void> {
    this.discovering ??= this.askForNodes().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  private async askForNodes(): Promise<void> {
    const endpoint = this.configEndpoint as ConnectionSlot<MemcachedConnection>;
    try {
      const { nodes } = await endpoint.run((c) => c.configGetCluster());
      this.setNodes(nodes.map((n) => ({ id: `${n.host}:${n.port}`, host: n.ip ?? n.host, port: n.port, servername: n.host })));
    } catch (err) {
      if (isUnknownCommandReply(err)) {
        // Not a configuration endpoint (a serverless cache or a plain memcached): it is the node.
        this.setNodes(this.options.servers);
      } else {
        // Unreachable, dropped or timed out: keep what we have (nothing yet: this call fails
        // open) and ask again soon.
        this.nextDiscoveryAt = this.now() + Math.min(this.options.discoveryRetryMs ?? 1000, this.options.discoveryIntervalMs);
        if (this.nodes.length === 0) throw err;
        return;
      }
    }
    this.nextDiscoveryAt = this.now() + this.options.discoveryIntervalMs;
  }

  private setNodes(endpoints: readonly NodeAddress[]): void {
    const current = new Map(this.nodes.map((n) => [n.address, n]));
    const { failureThreshold = 3, cooldownMs = 5000 } = this.options.nodeBreaker ?? {};
    this.nodes = endpoints.map((endpoint) => {
      const id = endpoint.id ?? `${endpoint.host}:${endpoint.port}`;
      const address = `${endpoint.servername ?? ''}|${endpoint.host}:${endpoint.port}`;
      const node = current.get(address) ?? { id, address, slot: this.options.slot(endpoint), breaker: new CircuitBreaker(failureThreshold, cooldownMs, this.now) };
      current.delete(address);
      return node;
    });
    for (const gone of current.values()) gone.slot.close();
  }

  private nodeFor(key: string): Node {
    return this.nodes[nodeIndexForKey(this.ids, key)];
  }
}

/**
 * Rendezvous hashing on the hash tag: a value, its lease and its group counter share a node, and
 * the result depends only on the set of node ids (not their order), so every process agrees.
 */
export function nodeIndexForKey(nodeIds: readonly string[], key: string): number {
  if (nodeIds.length <= 1) return 0;
  const tag = hashTag(key);
  let best = 0;
  let bestScore = -1;
  nodeIds.forEach((id, i) => {
    const score = createHash('sha1').update(`${id}/${tag}`).digest().readUInt32BE(0);
    if (score > bestScore || (score === bestScore && id < nodeIds[best])) {
      best = i;
      bestScore = score;
    }
  });
  return best;
}

/**
 * Whether a failed `config get cluster` was answered with the protocol's `ERROR` ("unknown
 * command"), as opposed to a connection error, a timeout or a malformed reply.
 */
export function isUnknownCommandReply(err: unknown): boolean {
  return err instanceof Error && err.name === 'MemcachedError' && /replied ERROR$/.test(err.message);
}
