import { bareNamespace, namespaceInfo, podInfo } from '../k8s/objects.ts';
import type { NamespaceInfo, NetworkPolicy, PodInfo } from '../k8s/types.ts';
import type { ManifestObject } from './manifests.ts';
import type { ClusterView } from './view.ts';
import { workloadInfo, type WorkloadInfo } from './workloads.ts';

/**
 * A ClusterView fixed at construction: Namespaces, Pods, workloads and NetworkPolicies read
 * from manifests (or listed once from a cluster). Workloads are not pods of the view: the
 * rules count pods that exist; the CLI answers for workloads through workloads(). A namespace
 * that objects refer to but that no manifest defines exists with only its name label, as the
 * API server would have created it.
 */
export class StaticClusterView implements ClusterView {
  private readonly namespaceByName = new Map<string, NamespaceInfo>();
  private readonly podsByNamespace = new Map<string, PodInfo[]>();
  private readonly policiesByNamespace = new Map<string, NetworkPolicy[]>();
  private readonly workloadsByNamespace = new Map<string, WorkloadInfo[]>();
  /** Pods a controller made (a ReplicaSet's, a Job's): their workload stands for them in listings. */
  private readonly controlledPods = new WeakSet<PodInfo>();
  private readonly origin: string;

  constructor(objects: readonly ManifestObject[], origin = 'static snapshot') {
    this.origin = origin;
    const referenced = new Set<string>();
    for (const { object } of objects) {
      switch (object.kind) {
        case 'Namespace': {
          const ns = namespaceInfo(object);
          this.namespaceByName.set(ns.name, ns);
          break;
        }
        case 'Pod': {
          const pod = podInfo(object);
          const owners = object.metadata?.ownerReferences;
          if (Array.isArray(owners) && owners.some((o) => (o as { controller?: unknown })?.controller === true)) this.controlledPods.add(pod);
          referenced.add(pod.namespace);
          push(this.podsByNamespace, pod.namespace, pod);
          break;
        }
        case 'NetworkPolicy': {
          const namespace = object.metadata?.namespace ?? 'default';
          const policy = {
            ...object,
            metadata: { ...object.metadata, name: object.metadata?.name ?? '', namespace },
          } as NetworkPolicy;
          referenced.add(namespace);
          push(this.policiesByNamespace, namespace, policy);
          break;
        }
        default: {
          const workload = workloadInfo(object);
          if (workload) {
            referenced.add(workload.namespace);
            push(this.workloadsByNamespace, workload.namespace, workload);
          } else if (object.metadata?.namespace) {
            referenced.add(object.metadata.namespace);
          }
        }
      }
    }
    for (const name of referenced) {
      if (!this.namespaceByName.has(name)) this.namespaceByName.set(name, bareNamespace(name));
    }
  }

  static empty(): StaticClusterView {
    return new StaticClusterView([], 'empty view (no cluster, no snapshot)');
  }

  namespace(name: string): NamespaceInfo | undefined {
    return this.namespaceByName.get(name);
  }

  namespaces(): readonly NamespaceInfo[] {
    return [...this.namespaceByName.values()];
  }

  pods(namespace: string): readonly PodInfo[] {
    return this.podsByNamespace.get(namespace) ?? NONE;
  }

  /** Whether a controller made the pod (it then belongs to a workload). */
  isControlled(pod: PodInfo): boolean {
    return this.controlledPods.has(pod);
  }

  /** The workloads of the namespace (Deployments, …; not bare Pods), in manifest order. */
  workloads(namespace: string): readonly WorkloadInfo[] {
    return this.workloadsByNamespace.get(namespace) ?? NONE;
  }

  networkPolicies(namespace: string): readonly NetworkPolicy[] {
    return this.policiesByNamespace.get(namespace) ?? NONE;
  }

  synced(): boolean {
    return true;
  }

  describe(): string {
    const pods = [...this.podsByNamespace.values()].reduce((n, list) => n + list.length, 0);
    const policies = [...this.policiesByNamespace.values()].reduce((n, list) => n + list.length, 0);
    const workloads = [...this.workloadsByNamespace.values()].reduce((n, list) => n + list.length, 0);
    return `${this.origin}: ${this.namespaceByName.size} namespaces, ${pods} pods, ${workloads ? `${workloads} workloads, ` : ''}${policies} network policies`;
  }
}

// One shared empty list: callers cache derived data by list identity.
const NONE: readonly never[] = Object.freeze([]);

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
