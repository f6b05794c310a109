import { EventEmitter } from 'node:events';
import { CoreV1Api, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { namespaceInfo, podInfo } from '../k8s/objects.ts';
import { type KubeObject, type NamespaceInfo, type NetworkPolicy, type PodInfo } from '../k8s/types.ts';
import { Reflector, type ListResult } from './reflector.ts';
import type { ClusterView } from './view.ts';

export interface LiveViewEvents {
  /** A namespace was added or changed. */
  namespace: [string];
  /** A NetworkPolicy was added, changed or deleted. */
  networkpolicy: [namespace: string, name: string];
}

const NONE: readonly never[] = Object.freeze([]);

/** Loads a KubeConfig: --kubeconfig, else KUBECONFIG or ~/.kube/config, else in-cluster. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else if (process.env.KUBECONFIG) kc.loadFromDefault();
  else kc.loadFromCluster();
  return kc;
}

/** A NetworkPolicy reduced to what decisions and the reconciler read. */
function slimPolicy(obj: KubeObject): NetworkPolicy {
  const m = obj.metadata ?? {};
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: m.name ?? '', namespace: m.namespace ?? '', ...(m.labels ? { labels: m.labels } : {}) },
    spec: (obj.spec ?? { podSelector: {} }) as NetworkPolicy['spec'],
  };
}

function list(promise: Promise<{ items: unknown[]; metadata?: { resourceVersion?: string } }>): Promise<ListResult> {
  return promise.then((l) => ({ items: l.items, resourceVersion: l.metadata?.resourceVersion ?? '' }));
}

/**
 * Objects of one kind by namespace. Each namespace's list is replaced, never mutated, when it
 * changes, so that caches keyed on the list (PolicyIndex) see every change.
 */
class NamespacedStore<T> {
  private readonly byNs = new Map<string, Map<string, T>>();
  private readonly lists = new Map<string, readonly T[]>();
  private readonly keyOf: (item: T) => { namespace: string; name: string };

  constructor(keyOf: (item: T) => { namespace: string; name: string }) {
    this.keyOf = keyOf;
  }

  replace(items: readonly T[]): void {
    this.byNs.clear();
    this.lists.clear();
    for (const item of items) this.map(this.keyOf(item).namespace).set(this.keyOf(item).name, item);
    for (const [ns, m] of this.byNs) this.lists.set(ns, [...m.values()]);
  }

  put(item: T): void {
    const { namespace, name } = this.keyOf(item);
    const m = this.map(namespace);
    m.set(name, item);
    this.lists.set(namespace, [...m.values()]);
  }

  drop(namespace: string, name: string): boolean {
    const m = this.byNs.get(namespace);
    if (!m?.delete(name)) return false;
    if (m.size === 0) {
      this.byNs.delete(namespace);
      this.lists.delete(namespace);
    } else {
      this.lists.set(namespace, [...m.values()]);
    }
    return true;
  }

  list(namespace: string): readonly T[] {
    return this.lists.get(namespace) ?? NONE;
  }

  get size(): number {
    let n = 0;
    for (const m of this.byNs.values()) n += m.size;
    return n;
  }

  private map(namespace: string): Map<string, T> {
    let m = this.byNs.get(namespace);
    if (!m) this.byNs.set(namespace, (m = new Map()));
    return m;
  }
}

/**
 * The ClusterView over the live cluster: Namespaces, Pods and NetworkPolicies cached from
 * list+watch, reduced to what decisions need (a pod keeps its labels, container ports and IPs).
 * Decisions read the caches; nothing in the admission path calls the API server.
 */
export class LiveClusterView extends EventEmitter<LiveViewEvents> implements ClusterView {
  private readonly namespacesByName = new Map<string, NamespaceInfo>();
  private readonly podStore = new NamespacedStore<PodInfo>((p) => p);
  private readonly policyStore = new NamespacedStore<NetworkPolicy>((p) => p.metadata);
  private readonly reflectors: Reflector[];
  private readonly server: string;
  /** Caches not heard from for this long make the view not synced (and /readyz fail). */
  private readonly staleAfterMs: number;

  constructor(
    kc: KubeConfig,
    logger: Logger,
    options: { silenceMs?: number; staleAfterMs?: number; onRestart?: (resource: string, reason: string) => void } = {},
  ) {
    super();
    this.server = kc.getCurrentCluster()?.server ?? '(unknown)';
    this.staleAfterMs = options.staleAfterMs ?? 300_000;
    const core = kc.makeApiClient(CoreV1Api);
    const networking = kc.makeApiClient(NetworkingV1Api);
    const common = options.silenceMs ? { silenceMs: options.silenceMs } : {};
    const restart = (resource: string) => (reason: string) => options.onRestart?.(resource, reason);
    this.reflectors = [
      new Reflector(kc, logger, {
        ...common,
        resource: 'namespaces',
        watchPath: '/api/v1/namespaces',
        list: () => list(core.listNamespace()),
        replace: (items) => {
          this.namespacesByName.clear();
          for (const i of items) this.namespacesByName.set(...entry(i as KubeObject));
          for (const name of this.namespacesByName.keys()) this.emit('namespace', name);
        },
        upsert: (i) => {
          const [name, ns] = entry(i as KubeObject);
          this.namespacesByName.set(name, ns);
          this.emit('namespace', name);
        },
        remove: (i) => {
          this.namespacesByName.delete((i as KubeObject).metadata?.name ?? '');
        },
        onRestart: restart('namespaces'),
      }),
      new Reflector(kc, logger, {
        ...common,
        resource: 'pods',
        watchPath: '/api/v1/pods',
        list: () => list(core.listPodForAllNamespaces()),
        replace: (items) => {
          this.podStore.replace(items.map((i) => podInfo(i as KubeObject)));
        },
        upsert: (i) => {
          this.podStore.put(podInfo(i as KubeObject));
        },
        remove: (i) => {
          const m = (i as KubeObject).metadata;
          this.podStore.drop(m?.namespace ?? '', m?.name ?? '');
        },
        onRestart: restart('pods'),
      }),
      new Reflector(kc, logger, {
        ...common,
        resource: 'networkpolicies',
        watchPath: '/apis/networking.k8s.io/v1/networkpolicies',
        list: () => list(networking.listNetworkPolicyForAllNamespaces()),
        replace: (items) => {
          const all = items.map((i) => slimPolicy(i as KubeObject));
          this.policyStore.replace(all);
          for (const p of all) this.emit('networkpolicy', p.metadata.namespace, p.metadata.name);
        },
        upsert: (i) => {
          const p = slimPolicy(i as KubeObject);
          this.policyStore.put(p);
          this.emit('networkpolicy', p.metadata.namespace, p.metadata.name);
        },
        remove: (i) => {
          const p = slimPolicy(i as KubeObject);
          this.policyStore.drop(p.metadata.namespace, p.metadata.name);
          this.emit('networkpolicy', p.metadata.namespace, p.metadata.name);
        },
        onRestart: restart('networkpolicies'),
      }),
    ];
  }

  start(): void {
    for (const r of this.reflectors) r.start();
  }

  stop(): void {
    for (const r of this.reflectors) r.stop();
  }

  namespace(name: string): NamespaceInfo | undefined {
    return this.namespacesByName.get(name);
  }

  namespaces(): readonly NamespaceInfo[] {
    return [...this.namespacesByName.values()];
  }

  pods(namespace: string): readonly PodInfo[] {
    return this.podStore.list(namespace);
  }

  networkPolicies(namespace: string): readonly NetworkPolicy[] {
    return this.policyStore.list(namespace);
  }

  /** Seconds since each cache last heard from the cluster (Infinity before its first list). */
  staleness(): Record<string, number> {
    const now = Date.now();
    return Object.fromEntries(this.reflectors.map((r) => [r.resource, r.lastContact ? (now - r.lastContact) / 1000 : Infinity]));
  }

  synced(): boolean {
    const now = Date.now();
    return this.reflectors.every((r) => r.synced && now - r.lastContact < this.staleAfterMs);
  }

  describe(): string {
    return `live cluster ${this.server}: ${this.namespacesByName.size} namespaces, ${this.podStore.size} pods, ${this.policyStore.size} network policies`;
  }
}

function entry(obj: KubeObject): [string, NamespaceInfo] {
  const ns = namespaceInfo(obj);
  return [ns.name, ns];
}
