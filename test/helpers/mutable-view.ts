import type { ClusterView } from '../../src/cluster/view.ts';
import { workloadInfo, type WorkloadInfo } from '../../src/cluster/workloads.ts';
import { bareNamespace, namespaceInfo, podInfo } from '../../src/k8s/objects.ts';
import type { KubeObject, NamespaceInfo, NetworkPolicy, PodInfo } from '../../src/k8s/types.ts';

/**
 * A ClusterView whose objects tests change one at a time, keeping the view contract: a list is
 * replaced (never mutated) when it changes, as the live view does.
 */
export class MutableView implements ClusterView {
  private readonly nss = new Map<string, NamespaceInfo>();
  private readonly podLists = new Map<string, readonly PodInfo[]>();
  private readonly policyLists = new Map<string, readonly NetworkPolicy[]>();
  private readonly workloadLists = new Map<string, readonly WorkloadInfo[]>();

  constructor(objects: readonly KubeObject[] = []) {
    for (const o of objects) this.apply(o);
  }

  apply(o: KubeObject): this {
    const ns = o.metadata?.namespace ?? 'default';
    switch (o.kind) {
      case 'Namespace':
        this.nss.set(o.metadata!.name!, namespaceInfo(o));
        return this;
      case 'Pod':
        this.ensure(ns);
        this.podLists.set(ns, replace(this.podLists.get(ns), podInfo(o), (p) => p.name));
        return this;
      case 'NetworkPolicy':
        this.ensure(ns);
        this.policyLists.set(ns, replace(this.policyLists.get(ns), { ...o, metadata: { ...o.metadata, namespace: ns } } as NetworkPolicy, (p) => p.metadata.name));
        return this;
      default:
        this.ensure(ns);
        this.workloadLists.set(ns, replace(this.workloadLists.get(ns), workloadInfo(o)!, (w) => `${w.kind}/${w.name}`));
        return this;
    }
  }

  remove(kind: string, namespace: string, name: string): this {
    if (kind === 'Namespace') {
      this.nss.delete(name);
      this.podLists.delete(name);
      this.policyLists.delete(name);
      this.workloadLists.delete(name);
    } else if (kind === 'Pod') this.podLists.set(namespace, (this.podLists.get(namespace) ?? []).filter((p) => p.name !== name));
    else if (kind === 'NetworkPolicy') this.policyLists.set(namespace, (this.policyLists.get(namespace) ?? []).filter((p) => p.metadata.name !== name));
    else this.workloadLists.set(namespace, (this.workloadLists.get(namespace) ?? []).filter((w) => !(w.kind === kind && w.name === name)));
    return this;
  }

  private ensure(ns: string): void {
    if (!this.nss.has(ns)) this.nss.set(ns, bareNamespace(ns));
  }

  namespace(name: string): NamespaceInfo | undefined {
    return this.nss.get(name);
  }
  namespaces(): readonly NamespaceInfo[] {
    return [...this.nss.values()];
  }
  pods(ns: string): readonly PodInfo[] {
    return this.podLists.get(ns) ?? EMPTY;
  }
  networkPolicies(ns: string): readonly NetworkPolicy[] {
    return this.policyLists.get(ns) ?? EMPTY;
  }
  workloads(ns: string): readonly WorkloadInfo[] {
    return this.workloadLists.get(ns) ?? EMPTY;
  }
  synced(): boolean {
    return true;
  }
  describe(): string {
    return 'mutable test view';
  }
}

const EMPTY: readonly never[] = Object.freeze([]);

function replace<T>(list: readonly T[] | undefined, item: T, key: (x: T) => string): readonly T[] {
  const k = key(item);
  const out = (list ?? []).filter((x) => key(x) !== k);
  out.push(item);
  return out;
}
