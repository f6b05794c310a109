import type { ClusterView } from '../cluster/view.ts';
import type { NamespaceInfo, PodInfo } from '../k8s/types.ts';
import { PolicyIndex, type CompiledCache } from '../netpol/index.ts';
import type { CompiledPolicy } from '../netpol/policy.ts';
import type { CompiledSelector } from '../netpol/selector.ts';

/**
 * What one judgement read of the cluster. The audit re-judges an object when something it read
 * changes, so the dependencies are exact by construction: nothing is guessed about which rule
 * reads what, and a new rule type is covered without touching the audit.
 */
export interface Reads {
  /** Namespaces whose NetworkPolicies were read. */
  policies: Set<string>;
  /** Namespaces whose whole pod list was read. */
  pods: Set<string>;
  /** "Is there a pod in this namespace that all these selectors select?" */
  podQueries: Array<{ namespace: string; selectors: readonly CompiledSelector[] }>;
  /** Namespaces whose labels were read. */
  namespaces: Set<string>;
  /** Whether the list of all namespaces (and their labels) was read. */
  allNamespaces: boolean;
}

export function emptyReads(): Reads {
  return { policies: new Set(), pods: new Set(), podQueries: [], namespaces: new Set(), allNamespaces: false };
}

/** Empties a Reads for the next judgement: one scratch object for all of them, not three sets each. */
export function clearReads(r: Reads): void {
  r.policies.clear();
  r.pods.clear();
  r.podQueries.length = 0;
  r.namespaces.clear();
  r.allNamespaces = false;
}

export type PodQuery = Reads['podQueries'][number];

/**
 * What a judgement read, as the audit keeps it until the object is judged again: arrays, the
 * shared empty one where nothing was read. Sets cost ~200 bytes each even when they hold one
 * name; at 85,000 objects with three each, that was 50 MB of the audit's memory.
 */
export interface StoredReads {
  readonly policies: readonly string[];
  readonly pods: readonly string[];
  readonly podQueries: readonly PodQuery[];
  readonly namespaces: readonly string[];
  readonly allNamespaces: boolean;
}

const NONE: readonly never[] = Object.freeze([]);

export function storeReads(r: Reads): StoredReads {
  const arr = <T>(s: ReadonlySet<T> | readonly T[]): readonly T[] => {
    const size = 'size' in s ? s.size : s.length;
    return size === 0 ? NONE : Array.from(s);
  };
  return { policies: arr(r.policies), pods: arr(r.pods), podQueries: arr(r.podQueries), namespaces: arr(r.namespaces), allNamespaces: r.allNamespaces };
}

/**
 * A PolicyIndex that records every read into `current`. Its caches are the PolicyIndex's own,
 * keyed by list identity, so recording costs one set insertion per read.
 */
export class RecordingIndex extends PolicyIndex {
  current: Reads = emptyReads();

  constructor(view: ClusterView, compiled?: CompiledCache) {
    super(view, compiled);
  }

  override policies(namespace: string): readonly CompiledPolicy[] {
    this.current.policies.add(namespace);
    return super.policies(namespace);
  }

  override namespace(name: string): NamespaceInfo {
    this.current.namespaces.add(name);
    return super.namespace(name);
  }

  override namespaces(): readonly NamespaceInfo[] {
    this.current.allNamespaces = true;
    return super.namespaces();
  }

  override pods(namespace: string): readonly PodInfo[] {
    this.current.pods.add(namespace);
    return super.pods(namespace);
  }

  override findPod(namespace: string, ...selectors: CompiledSelector[]): PodInfo | undefined {
    this.current.podQueries.push({ namespace, selectors });
    return super.findPod(namespace, ...selectors);
  }
}
