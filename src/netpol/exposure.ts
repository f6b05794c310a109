import type { PeerClass } from '../config/types.ts';
import type { PodInfo, PolicyType } from '../k8s/types.ts';
import { admitsClass } from './analysis.ts';
import { describePorts } from './describe.ts';
import type { PolicyIndex } from './index.ts';
import { rulesOf, type CompiledPeer } from './policy.ts';
import { selectingPolicies } from './reach.ts';

/** One rule through which a pod can be reached, and from what. */
export interface ExposureEntry {
  policy: string;
  rule: number;
  path: string;
  /** The peer classes the rule admits. */
  classes: PeerClass[];
  /** Existing namespaces whose pods the rule admits (some or all of their pods). */
  namespaces: string[];
  /** Whether the rule admits addresses outside the cluster (ipBlocks or no peers). */
  addresses: boolean;
  ports: string;
}

export interface PodExposure {
  pod: string;
  isolated: Record<PolicyType, boolean>;
  /** Ingress rules that open the pod; empty when isolated and nothing is let in. */
  ingress: ExposureEntry[];
}

const CLASSES: readonly PeerClass[] = ['anywhere', 'internet', 'allNamespaces', 'otherNamespaces'];

/** For each pod, from where it can be reached, on which ports, through which policy rule. */
export function podExposure(index: PolicyIndex, pod: PodInfo): PodExposure {
  const ingressPolicies = selectingPolicies(index, pod, 'Ingress');
  const egressPolicies = selectingPolicies(index, pod, 'Egress');
  const entries: ExposureEntry[] = [];
  for (const policy of ingressPolicies) {
    for (const rule of rulesOf(policy, 'Ingress')) {
      const classes = CLASSES.filter((c) => admitsClass(rule, c, policy.namespace, index) !== undefined);
      const namespaces = index
        .namespaces()
        .filter((ns) => rule.allPeers || rule.peers.some((peer) => peer.kind === 'pods' && nsCanMatch(peer, policy.namespace, ns.name, ns.labels)))
        .map((ns) => ns.name)
        .sort();
      entries.push({
        policy: policy.name,
        rule: rule.index,
        path: rule.path,
        classes,
        namespaces,
        addresses: rule.allPeers || rule.peers.some((p) => p.kind === 'ipBlock'),
        ports: describePorts(rule),
      });
    }
  }
  return {
    pod: `${pod.namespace}/${pod.name}`,
    isolated: { Ingress: ingressPolicies.length > 0, Egress: egressPolicies.length > 0 },
    ingress: entries,
  };
}

function nsCanMatch(
  peer: CompiledPeer,
  policyNamespace: string,
  name: string,
  labels: Readonly<Record<string, string>>,
): boolean {
  return peer.namespaceSelector ? peer.namespaceSelector.matches(labels) : name === policyNamespace;
}
