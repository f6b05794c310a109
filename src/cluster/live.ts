import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { namespaceInfo, networkPolicyInfo, podInfo } from '../k8s/objects.ts';
import { type KubeObject, type NamespaceInfo, type NetworkPolicy, type PodInfo } from '../k8s/types.ts';
import { Reflector, type ListWatchClient, type ReflectorOptions, type ReflectorStore, type RestartReason } from './reflector.ts';
import type { ClusterView } from './view.ts';
import { liveWorkloadInfo, WORKLOAD_RESOURCES, type WorkloadInfo } from './workloads.ts';


/** Namespaces, Pods, NetworkPolicies: the caches admission decisions read, first in the list. */
const ADMISSION_CACHES = 3;
export interface LiveViewEvents {
  /** A namespace was added or changed (a relist announces only those that changed). */
  namespace: [string];
  /** A NetworkPolicy was added, changed or deleted (not for one stored by putNetworkPolicy). */
  networkpolicy: [namespace: string, name: string];
  /** A cache listed for the first time (`networkpolicies`, `pods`, …). */
  synced: [resource: string];
}

/** a >= b for resourceVersions that are both integers (etcd's); false when either is not. */
function atLeast(a: string, b: string): boolean {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) >= BigInt(b);
}

const NONE: readonly never[] = Object.freeze([]);

interface Entry<T> {
  value: T;
  resourceVersion: string;
}

/**
 * Objects of one kind by namespace and name, each with its resourceVersion. A namespace's list
 * is built when read after a change (not on every event), and replaced, never mutated, so that
 * caches keyed on the list (PolicyIndex) see every change.
 */
class NamespacedStore<T> {
  private readonly byNs = new Map<string, { items: Map<string, Entry<T>>; list: readonly T[] | undefined }>();
  private count = 0;

  has(namespace: string): boolean {
    return this.byNs.has(namespace);
  }

  versionOf(namespace: string, name: string): string | undefined {
    return this.byNs.get(namespace)?.items.get(name)?.resourceVersion;
  }

  get(namespace: string, name: string): T | undefined {
    return this.byNs.get(namespace)?.items.get(name)?.value;
  }

  put(namespace: string, name: string, resourceVersion: string, value: T): void {
    let bucket = this.byNs.get(namespace);
    if (!bucket) this.byNs.set(namespace, (bucket = { items: new Map(), list: undefined }));
    if (!bucket.items.has(name)) this.count++;
    bucket.items.set(name, { value, resourceVersion });
    bucket.list = undefined;
  }

  drop(namespace: string, name: string): boolean {
    const bucket = this.byNs.get(namespace);
    if (!bucket?.items.delete(name)) return false;
    this.count--;
    if (bucket.items.size === 0) this.byNs.delete(namespace);
    else bucket.list = undefined;
    return true;
  }

  list(namespace: string): readonly T[] {
    const bucket = this.byNs.get(namespace);
    if (!bucket) return NONE;
    if (!bucket.list) bucket.list = Object.freeze(Array.from(bucket.items.values(), (e) => e.value));
    return bucket.list;
  }

  *keys(): Iterable<readonly [string, string]> {
    for (const [ns, bucket] of this.byNs) for (const name of bucket.items.keys()) yield [ns, name];
  }

  get size(): number {
    return this.count;
  }
}

/**
 * A reflector store over a NamespacedStore: reduces each object as it arrives (reduce), and
 * announces changes (changed).
 */
function storeOf<T>(
  store: NamespacedStore<T>,
  reduce: (obj: KubeObject) => T,
  changed: (namespace: string, name: string) => void = () => undefined,
): ReflectorStore {
  return {
    versionOf: (ns, name) => store.versionOf(ns, name),
    upsert: (obj) => {
      const ns = obj.metadata?.namespace ?? '';
      const name = obj.metadata?.name ?? '';
      const rv = obj.metadata?.resourceVersion ?? '';
      // Already cached at this version (netfence's own write, stored when the API server
      // answered it): nothing changed, nothing to announce.
      if (rv !== '' && store.versionOf(ns, name) === rv) return;
      store.put(ns, name, rv, reduce(obj));
      changed(ns, name);
    },
    remove: (ns, name) => {
      if (store.drop(ns, name)) changed(ns, name);
    },
    keys: () => store.keys(),
  };
}

export interface LiveViewOptions {
  /** Caches not heard from for this long make the view not synced (and /readyz fail). */
  staleAfterMs?: number;
  onRestart?: (resource: string, reason: RestartReason) => void;
  /** The API server's address, for describe(). */
  server?: string;
  /** Passed to every reflector (page size, watch timeouts, backoff). */
  reflector?: Pick<ReflectorOptions, 'pageSize' | 'targetPageBytes' | 'watchTimeoutSeconds' | 'graceMs' | 'minBackoffMs' | 'maxBackoffMs' | 'refusedRetryMs'>;
}

/**
 * The ClusterView over the live cluster: Namespaces, Pods, NetworkPolicies and workloads
 * (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs) cached from paginated
 * lists and watches (plain JSON, reduced as they arrive to what decisions read: a pod keeps its
 * labels, container ports and IPs; a workload its pod template's labels and container ports; a
 * NetworkPolicy its whole spec and the metadata the reconciler writes with). Decisions read the
 * caches; nothing in the admission path calls the API server (workloads are read by the audit
 * only).
 */
export class LiveClusterView extends EventEmitter<LiveViewEvents> implements ClusterView {
  private readonly namespaceStore = new NamespacedStore<NamespaceInfo>();
  private readonly podStore = new NamespacedStore<PodInfo>();
  private readonly policyStore = new NamespacedStore<NetworkPolicy>();
  /** One store per workload kind: each reflector's relist diffs against its own kind only. */
  private readonly workloadStores = WORKLOAD_RESOURCES.map(() => new NamespacedStore<WorkloadInfo>());
  /** A namespace's workloads of all kinds, rebuilt only when one kind's list changed. */
  private readonly workloadLists = new Map<string, { parts: ReadonlyArray<readonly WorkloadInfo[]>; list: readonly WorkloadInfo[] }>();
  private readonly reflectors: Reflector[];
  /** The NetworkPolicies' reflector: how far its watch has got, for putNetworkPolicy. */
  private readonly policyReflector: Reflector;
  private readonly server: string;
  private readonly staleAfterMs: number;

  constructor(client: ListWatchClient, logger: Logger, options: LiveViewOptions = {}) {
    super();
    this.server = options.server ?? '(unknown)';
    this.staleAfterMs = options.staleAfterMs ?? 300_000;
    const reflector = (resource: string, path: string, store: ReflectorStore): Reflector => {
      const r: Reflector = new Reflector(client, logger, {
        ...options.reflector,
        resource,
        path,
        store,
        onRestart: (reason) => options.onRestart?.(resource, reason),
        onList: () => {
          if (r.lists === 1) this.emit('synced', resource);
        },
      });
      return r;
    };
    // The first ADMISSION_CACHES reflectors are the ones admission reads (see synced()).
    this.reflectors = [
      reflector('namespaces', '/api/v1/namespaces', storeOf(this.namespaceStore, namespaceInfo, (_ns, name) => {
        if (this.namespaceStore.get('', name)) this.emit('namespace', name);
      })),
      reflector('pods', '/api/v1/pods', storeOf(this.podStore, (obj) => podInfo(obj))),
      reflector('networkpolicies', '/apis/networking.k8s.io/v1/networkpolicies', storeOf(this.policyStore, networkPolicyInfo, (ns, name) => this.emit('networkpolicy', ns, name))),
      ...WORKLOAD_RESOURCES.map(({ kind, resource, path }, i) => reflector(resource, path, storeOf(this.workloadStores[i]!, (obj) => liveWorkloadInfo(kind, obj), (ns) => {
        // A namespace's last workload gone: forget its combined list (bounded by what exists).
        if (this.workloadStores.every((s) => s.list(ns).length === 0)) this.workloadLists.delete(ns);
      }))),
    ];
    this.policyReflector = this.reflectors.find((r) => r.resource === 'networkpolicies')!;
  }

  start(): void {
    for (const r of this.reflectors) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.reflectors.map((r) => r.stop()));
  }

  namespace(name: string): NamespaceInfo | undefined {
    return this.namespaceStore.get('', name);
  }

  namespaces(): readonly NamespaceInfo[] {
    return this.namespaceStore.list('');
  }

  pods(namespace: string): readonly PodInfo[] {
    return this.podStore.list(namespace);
  }

  networkPolicies(namespace: string): readonly NetworkPolicy[] {
    return this.policyStore.list(namespace);
  }

  /**
   * The namespace's workloads of every kind. The same list until one of its kinds changes (the
   * audit finds changes by list identity); a namespace without workloads gets the shared empty
   * list and no cache entry, so the cache is bounded by the namespaces that have workloads.
   */
  workloads(namespace: string): readonly WorkloadInfo[] {
    // Asked for every namespace every audit cycle: a namespace without workloads allocates nothing.
    if (!this.workloadStores.some((s) => s.has(namespace))) {
      this.workloadLists.delete(namespace);
      return NONE;
    }
    const parts = this.workloadStores.map((s) => s.list(namespace));
    const cached = this.workloadLists.get(namespace);
    if (cached && cached.parts.every((p, i) => p === parts[i])) return cached.list;
    const list = Object.freeze(parts.flat());
    this.workloadLists.set(namespace, { parts, list });
    return list;
  }

  /** One cached NetworkPolicy (with its resourceVersion), or undefined. */
  networkPolicy(namespace: string, name: string): NetworkPolicy | undefined {
    return this.policyStore.get(namespace, name);
  }

  /**
   * Stores what a write of netfence's answered (the reconciler's), so that the next reconcile
   * and admission see it before the watch brings it; not announced (the watch event of the same
   * resourceVersion is not either). Ignored when the watch has already reached that version
   * (resourceVersions compared as integers, as client-go's mutation cache does): the cache
   * then holds that write or something newer, a deletion included.
   */
  putNetworkPolicy(obj: KubeObject): void {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    const rv = obj.metadata?.resourceVersion ?? '';
    if (rv === '' || !ns || !name || this.policyStore.versionOf(ns, name) === rv) return;
    if (atLeast(this.policyReflector.resourceVersion, rv)) return;
    this.policyStore.put(ns, name, rv, networkPolicyInfo(obj));
  }

  /** Whether a cache (`networkpolicies`, `pods`, …) has listed once; unlike synced(), staleness aside. */
  hasListed(resource: string): boolean {
    return this.reflectors.some((r) => r.resource === resource && r.synced);
  }

  /** Seconds since each cache last heard from the cluster (Infinity before its first list). */
  staleness(): Record<string, number> {
    const now = Date.now();
    return Object.fromEntries(this.reflectors.map((r) => [r.resource, r.lastContact ? (now - r.lastContact) / 1000 : Infinity]));
  }

  /** Lists made per resource (the first included): relists are the expensive path. */
  lists(): Record<string, number> {
    return Object.fromEntries(this.reflectors.map((r) => [r.resource, r.lists]));
  }

  /**
   * Synced for admission: the Namespace, Pod and NetworkPolicy caches, the only ones decisions
   * read. The workload caches feed the background audit alone, so a workload kind netfence
   * cannot list (an older ClusterRole kept through an upgrade: 403) never makes a replica
   * unready; it only holds the audit back (workloadsSynced), and the reflector logs the error.
   */
  synced(): boolean {
    return this.reflectors.slice(0, ADMISSION_CACHES).every((r) => this.fresh(r));
  }

  /** The workload caches have listed, and are fresh: the audit judges workloads only then. */
  workloadsSynced(): boolean {
    return this.reflectors.slice(ADMISSION_CACHES).every((r) => this.fresh(r));
  }

  private fresh(r: Reflector): boolean {
    return r.synced && Date.now() - r.lastContact < this.staleAfterMs;
  }

  describe(): string {
    return `live cluster ${this.server}: ${this.namespaceStore.size} namespaces, ${this.podStore.size} pods, ${this.workloadStores.reduce((n, s) => n + s.size, 0)} workloads, ${this.policyStore.size} network policies`;
  }
}
