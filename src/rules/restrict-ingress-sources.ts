import type { AdmissionContext } from '../admission/context.ts';
import type { AllowedSource, RestrictIngressSourcesRule } from '../config/types.ts';
import { NAMESPACE_NAME_LABEL } from '../k8s/types.ts';
import { reachesTier } from '../netpol/analysis.ts';
import type { CompiledPeer } from '../netpol/policy.ts';
import { CompiledSelector } from '../netpol/selector.ts';
import { subsumes } from '../netpol/subsume.ts';
import type { PolicySubject } from './subjects.ts';
import { FindingList, type Finding } from './types.ts';

function describeAllowed(allow: readonly AllowedSource[], ns: string): string {
  return allow
    .map((a) => `${a.tier ? `tier ${a.tier}` : 'any pod'} in ${a.namespaces ? a.namespaces.join(', ') : ns}`)
    .join('; ');
}

/**
 * Whether every pod a peer admits is an allowed source. An allowed source is pods of a tier
 * (in the policy's namespace, or in the listed namespaces) or any pod of the listed
 * namespaces. A tier without namespaces means that tier in the policy's own namespace: in
 * other namespaces, owners choose their own pod labels. An ipBlock is always outside.
 */
function peerAllowed(peer: CompiledPeer, policyNamespace: string, allow: readonly AllowedSource[], tier: (name: string) => CompiledSelector): boolean {
  if (peer.kind === 'ipBlock') return false;
  return allow.some((a) => {
    if (a.tier !== undefined) {
      if (!peer.podSelector || !subsumes(tier(a.tier), peer.podSelector)) return false;
    }
    const names = a.namespaces ?? [policyNamespace];
    if (!peer.namespaceSelector) return names.includes(policyNamespace);
    const listed = new CompiledSelector({ matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: names }] });
    return subsumes(listed, peer.namespaceSelector);
  });
}

/** On NetworkPolicy CREATE/UPDATE: ingress rules reaching the tier may admit only the allowed sources. */
export function restrictIngressSources(rule: RestrictIngressSourcesRule, subject: PolicySubject, ctx: AdmissionContext): Finding[] {
  const policy = subject.policy;
  if (!policy || !policy.affects.Ingress) return [];
  const tier = ctx.index.selector(ctx.config.tiers[rule.tier]!);
  if (!reachesTier(policy, tier, (...s) => ctx.index.findPod(subject.namespace, ...s)).reaches) return [];
  const allowed = describeAllowed(rule.allow, subject.namespace);
  const example = JSON.stringify(ctx.config.tiers[rule.allow[0]?.tier ?? '']?.matchLabels ?? {});
  const findings = new FindingList();
  for (const r of policy.ingress) {
    if (r.allPeers) {
      findings.add(r.peersPath, () => `admits every source into tier ${rule.tier}, whose only allowed sources are: ${allowed}. Fix: list the sources in from: with podSelector (and namespaceSelector) for exactly those`);
      continue;
    }
    for (const peer of r.peers) {
      if (peerAllowed(peer, subject.namespace, rule.allow, (name) => ctx.index.selector(ctx.config.tiers[name]!))) continue;
      const what = peer.kind === 'ipBlock' ? 'an ipBlock (addresses outside the cluster)' : 'pods outside the allowed sources';
      findings.add(peer.path, () => `admits ${what} into tier ${rule.tier}, whose only allowed sources are: ${allowed}. Fix: select only those, e.g. podSelector: {matchLabels: ${example}}`);
    }
  }
  return findings.list();
}
