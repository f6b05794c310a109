import type { NetfenceConfig, PeerClass } from '../config/types.ts';
import type { NamespaceInfo, PodInfo } from '../k8s/types.ts';
import { admitsClass } from '../netpol/analysis.ts';
import type { PolicyIndex } from '../netpol/index.ts';
import { rulesOf, type CompiledPolicy, type CompiledRule } from '../netpol/policy.ts';
import { selectingPolicies } from '../netpol/reach.ts';

/** What can reach the pods of one tier: classes of sources, and existing namespaces. */
export interface TierReach {
  tier: string;
  pods: number;
  /** Tier pods that no policy isolates for ingress: open to every source. */
  unisolated: number;
  classes: PeerClass[];
  /** Existing namespaces with pods that can reach some pod of the tier (first 50 by name). */
  fromNamespaces: string[];
  fromNamespacesCount: number;
  /** Whether addresses outside the cluster can reach some pod of the tier. */
  addresses: boolean;
  byNamespace: Array<{ namespace: string; pods: number; unisolated: number; classes: PeerClass[]; fromNamespaces: number }>;
}

const CLASSES: readonly PeerClass[] = ['anywhere', 'internet', 'allNamespaces', 'otherNamespaces'];
const MAX_NAMES = 50;

interface RuleReach {
  classes: PeerClass[];
  namespaces: string[];
  addresses: boolean;
}

/**
 * Per tier, the union over its pods of what their ingress admits (the building blocks of
 * `netfence exposure`). A rule's answer is the same for every pod it selects, so it is computed
 * once per rule: the cost is per policy, not per pod.
 */
export function tierReach(index: PolicyIndex, config: NetfenceConfig, namespaces: readonly NamespaceInfo[]): TierReach[] {
  const cache = new Map<CompiledRule, RuleReach>();
  const ruleReach = (policy: CompiledPolicy, rule: CompiledRule): RuleReach => {
    let r = cache.get(rule);
    if (!r) {
      // Peers without a namespaceSelector stay in the policy's namespace: only the others
      // need the namespace list (keeping the cost per policy, not per policy and namespace).
      const selectors = rule.peers.flatMap((p) => (p.kind === 'pods' && p.namespaceSelector ? [p.namespaceSelector] : []));
      const own = rule.peers.some((p) => p.kind === 'pods' && !p.namespaceSelector);
      const from = rule.allPeers
        ? namespaces.map((n) => n.name)
        : selectors.length === 0
          ? own ? [policy.namespace] : []
          : namespaces.filter((ns) => (own && ns.name === policy.namespace) || selectors.some((sel) => sel.matches(ns.labels))).map((n) => n.name);
      r = {
        classes: CLASSES.filter((c) => admitsClass(rule, c, policy.namespace, index) !== undefined),
        namespaces: from,
        addresses: rule.allPeers || rule.peers.some((p) => p.kind === 'ipBlock'),
      };
      cache.set(rule, r);
    }
    return r;
  };
  return Object.entries(config.tiers).map(([tier, selector]) => {
    const compiled = index.selector(selector);
    const classes = new Set<PeerClass>();
    const from = new Set<string>();
    let pods = 0;
    let unisolated = 0;
    let addresses = false;
    const byNamespace: TierReach['byNamespace'] = [];
    for (const ns of namespaces) {
      const tierPods = index.pods(ns.name).filter((p: PodInfo) => compiled.matches(p.labels));
      if (tierPods.length === 0) continue;
      const nsClasses = new Set<PeerClass>();
      const nsFrom = new Set<string>();
      let nsOpen = 0;
      for (const pod of tierPods) {
        const policies = selectingPolicies(index, pod, 'Ingress');
        if (policies.length === 0) {
          nsOpen++;
          for (const c of CLASSES) nsClasses.add(c);
          for (const n of namespaces) nsFrom.add(n.name);
          addresses = true;
          continue;
        }
        for (const policy of policies) {
          for (const rule of rulesOf(policy, 'Ingress')) {
            const r = ruleReach(policy, rule);
            for (const c of r.classes) nsClasses.add(c);
            for (const n of r.namespaces) nsFrom.add(n);
            addresses ||= r.addresses;
          }
        }
      }
      pods += tierPods.length;
      unisolated += nsOpen;
      for (const c of nsClasses) classes.add(c);
      for (const n of nsFrom) from.add(n);
      byNamespace.push({ namespace: ns.name, pods: tierPods.length, unisolated: nsOpen, classes: CLASSES.filter((c) => nsClasses.has(c)), fromNamespaces: nsFrom.size });
    }
    const names = [...from].sort();
    return { tier, pods, unisolated, classes: CLASSES.filter((c) => classes.has(c)), fromNamespaces: names.slice(0, MAX_NAMES), fromNamespacesCount: names.length, addresses, byNamespace };
  });
}
