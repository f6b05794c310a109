import type { AdmissionContext } from '../admission/context.ts';
import type { ForbidEgressToRule, ForbidIngressFromRule, PeerClass } from '../config/types.ts';
import type { LabelSelector, PolicyType } from '../k8s/types.ts';
import { admitsClass, reachesTier } from '../netpol/analysis.ts';
import { describeOpenings, policyChangeOpens } from '../netpol/impact.ts';
import { rulesOf, type CompiledPolicy } from '../netpol/policy.ts';
import { selectingPolicies } from '../netpol/reach.ts';
import { CompiledSelector } from '../netpol/selector.ts';
import type { PodSubject, PolicySubject } from './subjects.ts';
import { FindingList, type Finding } from './types.ts';

// forbidIngressFrom and forbidEgressTo: one is the mirror image of the other, so both are this
// module with the direction as a parameter.

export interface PeerClassRule {
  direction: PolicyType;
  tier: string;
  classes: readonly PeerClass[];
}

export function asPeerClassRule(rule: ForbidIngressFromRule | ForbidEgressToRule): PeerClassRule {
  return rule.type === 'forbidIngressFrom'
    ? { direction: 'Ingress', tier: rule.tier, classes: rule.sources }
    : { direction: 'Egress', tier: rule.tier, classes: rule.destinations };
}

const CLASS_WORDS: Record<PeerClass, string> = {
  anywhere: 'anywhere',
  internet: 'the internet',
  allNamespaces: 'all namespaces',
  otherNamespaces: 'other namespaces',
};

function fixFor(peerClass: PeerClass, direction: PolicyType, tier: string, ns: string): string {
  const towards = direction === 'Ingress' ? 'sources that need to reach it' : 'destinations it needs';
  switch (peerClass) {
    case 'allNamespaces':
      return `name the namespaces allowed (namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: <namespace>}}), or drop namespaceSelector to stay within ${ns}`;
    case 'otherNamespaces':
      return `use a podSelector without namespaceSelector, so that only pods of ${ns} are admitted`;
    case 'anywhere':
    case 'internet':
      return `list the ${towards} with pod and namespace selectors; tier ${tier} may not be ${direction === 'Ingress' ? 'reached from' : 'connected to'} ${CLASS_WORDS[peerClass]}`;
  }
}

function tierSelector(ctx: AdmissionContext, tier: string): CompiledSelector {
  return ctx.index.selector(ctx.config.tiers[tier] as LabelSelector);
}

/** Findings of one rule of the policy, for the listed classes, merged per field path. */
function ruleFindings(
  policy: CompiledPolicy,
  r: PeerClassRule,
  ctx: AdmissionContext,
): Array<{ path: string; reason: string; classes: PeerClass[]; rule: string }> {
  // Keyed by path, so that a policy of thousands of rules is not compared finding by finding.
  const byPath = new Map<string, { path: string; reason: string; classes: PeerClass[]; rule: string }>();
  for (const rule of rulesOf(policy, r.direction)) {
    for (const c of r.classes) {
      const f = admitsClass(rule, c, policy.namespace, ctx.index);
      if (!f) continue;
      const same = byPath.get(f.path);
      if (same) same.classes.push(c);
      else byPath.set(f.path, { path: f.path, reason: f.reason, classes: [c], rule: rule.path });
    }
  }
  return [...byPath.values()];
}

/** On NetworkPolicy CREATE/UPDATE: a policy that affects the direction, reaches the tier and admits a listed class. */
export function forbidPeerClassOnPolicy(r: PeerClassRule, subject: PolicySubject, ctx: AdmissionContext): Finding[] {
  const policy = subject.policy;
  if (!policy || !policy.affects[r.direction]) return [];
  const reach = reachesTier(policy, tierSelector(ctx, r.tier), (...s) => ctx.index.findPod(subject.namespace, ...s));
  if (!reach.reaches) return [];
  const how =
    reach.how === 'pod'
      ? `its podSelector selects ${subject.namespace}/${reach.pod}, a pod of tier ${r.tier}`
      : reach.how === 'within'
        ? `its podSelector selects only pods of tier ${r.tier} (whether or not one exists yet)`
        : policy.podSelector.empty
          ? `its podSelector {} selects every pod in ${subject.namespace}, tier ${r.tier} included`
          : `its podSelector selects every pod of tier ${r.tier}`;
  const findings = new FindingList();
  const opened = subject.operation === 'UPDATE' ? changeOpened(r, subject, policy, ctx) : '';
  for (const f of ruleFindings(policy, r, ctx)) {
    findings.add(
      f.path,
      () =>
        `${f.reason}; ${how}, and tier ${r.tier} may not be ${r.direction === 'Ingress' ? 'reached from' : 'connected to'} ${f.classes.map((c) => CLASS_WORDS[c]).join(' or ')}.${opened} Fix: ${fixFor(f.classes[0]!, r.direction, r.tier, subject.namespace)}; or narrow spec.podSelector so that it does not select tier ${r.tier}`,
    );
  }
  return findings.list();
}

/** Openings named in an UPDATE's denial: at most this many, the rest counted. */
const OPENINGS_NAMED = 3;

/**
 * On UPDATE, what the change opened that the stored version did not admit (a wider
 * podSelector onto the tier, a new rule, a wider peer), for the denial to name: " This change
 * opens tier data from all namespaces (…), which the previous version did not admit." Empty
 * when the stored version already admitted every class found (the policy is denied all the
 * same: it still breaks the rule).
 */
function changeOpened(r: PeerClassRule, subject: PolicySubject, policy: CompiledPolicy, ctx: AdmissionContext): string {
  const openings = policyChangeOpens(subject.old, policy, r.direction, tierSelector(ctx, r.tier), r.classes, (...s) => ctx.index.findPod(subject.namespace, ...s), ctx.index);
  if (openings.length === 0) return '';
  const more = openings.length > OPENINGS_NAMED ? ` (and ${openings.length - OPENINGS_NAMED} more)` : '';
  return ` ${describeOpenings(openings.slice(0, OPENINGS_NAMED), r.tier, r.direction).replace(/^this/, 'This')}${more}.`;
}

/** On Pod CREATE (and workload templates): a tier pod opened to a listed class, or not isolated at all. */
export function forbidPeerClassOnPod(r: PeerClassRule, subject: PodSubject, ctx: AdmissionContext): Finding[] {
  if (!tierSelector(ctx, r.tier).matches(subject.pod.labels)) return [];
  const path = `${subject.metadataPath}.labels`;
  const policies = selectingPolicies(ctx.index, subject.pod, r.direction);
  const dir = r.direction.toLowerCase();
  if (policies.length === 0) {
    return [
      {
        path,
        message: `this pod is in tier ${r.tier} and no NetworkPolicy in ${subject.namespace} isolates it for ${dir}, so it would be open to ${r.direction === 'Ingress' ? 'every source' : 'every destination'}. Fix: create a NetworkPolicy whose podSelector selects it with policyTypes [${r.direction}] (a namespace default-deny does this) before creating the pod`,
      },
    ];
  }
  const findings = new FindingList();
  for (const policy of policies) {
    for (const f of ruleFindings(policy, r, ctx)) {
      findings.add(
        path,
        () =>
          `NetworkPolicy ${policy.name} selects this pod of tier ${r.tier}, and ${f.path}: ${f.reason}; tier ${r.tier} may not be ${r.direction === 'Ingress' ? 'reached from' : 'connected to'} ${f.classes.map((c) => CLASS_WORDS[c]).join(' or ')}. Fix: change NetworkPolicy ${policy.name} (${fixFor(f.classes[0]!, r.direction, r.tier, subject.namespace)}), or give this pod labels that policy does not select`,
      );
    }
  }
  return findings.list();
}
