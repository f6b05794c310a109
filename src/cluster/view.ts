import type { NamespaceInfo, NetworkPolicy, PodInfo } from '../k8s/types.ts';
import type { WorkloadInfo } from './workloads.ts';

/**
 * What the decisions know of the cluster. Two implementations: a static one from manifest
 * files (serve --snapshot, check, reach) and a live one over informers. Decisions read it and
 * never call the API server, so admission latency does not depend on the API server.
 */
export interface ClusterView {
  /** The namespace, or undefined when the view has never seen it. */
  namespace(name: string): NamespaceInfo | undefined;
  namespaces(): readonly NamespaceInfo[];
  pods(namespace: string): readonly PodInfo[];
  networkPolicies(namespace: string): readonly NetworkPolicy[];
  /**
   * The namespace's workloads, for the background audit only (admission never reads them).
   * Optional: a view that does not watch workloads leaves it out and the audit judges none.
   */
  workloads?(namespace: string): readonly WorkloadInfo[];
  // Derived data (PolicyIndex) is cached by the identity of the lists returned here: both
  // implementations return the same list until it changes, and a new one when it does.
  /** True once the view reflects the cluster (always true for a static view). */
  synced(): boolean;
  /**
   * True once the workloads reflect the cluster too; a view without it is synced as a whole.
   * Readiness uses synced() only: admission never reads workloads.
   */
  workloadsSynced?(): boolean;
  /** One line for the start-up log: where the view comes from. */
  describe(): string;
}
