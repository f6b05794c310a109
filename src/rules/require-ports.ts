import type { AdmissionContext } from '../admission/context.ts';
import type { RequirePortsRule } from '../config/types.ts';
import { admitsAllPorts, reachesTier } from '../netpol/analysis.ts';
import { rulesOf } from '../netpol/policy.ts';
import type { PolicySubject } from './subjects.ts';
import { FindingList, type Finding } from './types.ts';

/** On NetworkPolicy CREATE/UPDATE: rules that admit every port are refused (for the tier, when given). */
export function requirePorts(rule: RequirePortsRule, subject: PolicySubject, ctx: AdmissionContext): Finding[] {
  const policy = subject.policy;
  if (!policy) return [];
  const tier = rule.tier === undefined ? undefined : ctx.index.selector(ctx.config.tiers[rule.tier]!);
  if (tier && !reachesTier(policy, tier, (...s) => ctx.index.findPod(subject.namespace, ...s)).reaches) {
    return [];
  }
  const findings = new FindingList();
  for (const direction of ['Ingress', 'Egress'] as const) {
    if (!policy.affects[direction]) continue;
    for (const r of rulesOf(policy, direction)) {
      const f = admitsAllPorts(r);
      if (f) findings.add(f.path, () => `${f.reason}. Fix: list the ports the traffic uses under ${r.path}.ports, e.g. [{protocol: TCP, port: 8080}]`);
    }
  }
  return findings.list();
}
