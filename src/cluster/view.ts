import type { NamespaceInfo, NetworkPolicy, PodInfo } from '../k8s/types.ts';

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
  // Derived data (PolicyIndex) is cached by the identity of the lists returned here: both
  // implementations return the same list until it changes, and a new one when it does.
  /** True once the view reflects the cluster (always true for a static view). */
  synced(): boolean;
  /** One line for the start-up log: where the view comes from. */
  describe(): string;
}
