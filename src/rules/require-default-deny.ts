import type { AdmissionContext } from '../admission/context.ts';
import type { RequireDefaultDenyRule } from '../config/types.ts';
import type { PolicyType } from '../k8s/types.ts';
import { admitsAllNamespaces, admitsAllPorts, admitsAnywhere } from '../netpol/analysis.ts';
import { rulesOf, type CompiledPolicy } from '../netpol/policy.ts';
import { fieldPath } from '../util/field-errors.ts';
import { defaultDenyStatus, hasBaselineLabels } from './default-deny.ts';
import type { PodSubject, PolicySubject } from './subjects.ts';
import type { Finding } from './types.ts';

/** The namespace controller deletes every policy of a namespace being deleted: never block it. */
const NAMESPACE_CONTROLLER = 'system:serviceaccount:kube-system:namespace-controller';

const fixDefaultDeny = (ns: string, directions: readonly PolicyType[]): string =>
  `create a NetworkPolicy in ${ns} with podSelector: {} and policyTypes: [${directions.join(', ')}] (netfence keeps one in every namespace labelled with its baseline labels)`;

/**
 * On UPDATE or DELETE of a NetworkPolicy: a namespace that was default-deny in a listed
 * direction must still be after the change. (A change in a namespace that was not default-deny
 * before is left alone: it cannot make things worse, and may be the fix.)
 */
export function requireDefaultDenyOnPolicy(rule: RequireDefaultDenyRule, subject: PolicySubject, ctx: AdmissionContext): Finding[] {
  if (subject.operation === 'CREATE') return [];
  const namespace = ctx.index.namespace(subject.namespace);
  if (namespace.terminating || ctx.request.userInfo.username === NAMESPACE_CONTROLLER) return [];
  const others = ctx.index.policies(subject.namespace).filter((p) => p.name !== subject.name);
  const before = subject.old ? [...others, subject.old] : ctx.index.policies(subject.namespace);
  const after = subject.policy ? [...others, subject.policy] : others;
  const findings: Finding[] = [];
  for (const direction of rule.directions) {
    if (!defaultDenyStatus(before, direction).defaultDeny) continue;
    const status = defaultDenyStatus(after, direction);
    if (status.defaultDeny) continue;
    const verb = subject.operation === 'DELETE' ? 'deleting' : 'this change to';
    findings.push({
      path: subject.policy ? weakeningPath(subject.policy, direction) : '',
      message: `${verb} NetworkPolicy ${subject.name} would leave namespace ${subject.namespace} without default-deny for ${direction} (${status.reason}). Keep it, or first ${fixDefaultDeny(subject.namespace, [direction])}`,
    });
  }
  return findings;
}

/** The field of the new policy that takes away default-deny in a direction. */
function weakeningPath(policy: CompiledPolicy, direction: PolicyType): string {
  if (!policy.podSelector.empty) return 'spec.podSelector';
  if (!policy.affects[direction]) return 'spec.policyTypes';
  const open = rulesOf(policy, direction).find((r) => admitsAnywhere(r) && admitsAllNamespaces(r) && admitsAllPorts(r));
  return open ? open.path : 'spec';
}

/** On Pod CREATE and workload CREATE/UPDATE: the namespace must be default-deny. */
export function requireDefaultDenyOnPod(rule: RequireDefaultDenyRule, subject: PodSubject, ctx: AdmissionContext): Finding[] {
  const policies = ctx.index.policies(subject.namespace);
  const missing = rule.directions.map((d) => ({ d, status: defaultDenyStatus(policies, d) })).filter((x) => !x.status.defaultDeny);
  if (missing.length === 0) return [];
  const why = missing.map((x) => `${x.d}: ${x.status.reason}`).join('; ');
  // A namespace the view has not seen yet was just created, with the baseline labels (scope.ts).
  const known = ctx.cluster.namespace(subject.namespace);
  const fix = !known || hasBaselineLabels(known, ctx.config.baseline.labels)
    ? `netfence is creating the baseline NetworkPolicies of this namespace; retry in a few seconds (controllers retry by themselves)`
    : fixDefaultDeny(subject.namespace, missing.map((x) => x.d));
  return [
    {
      path: 'metadata.namespace',
      message: `namespace ${subject.namespace} is not default-deny (${why}), so no workload may run there yet. Fix: ${fix}`,
    },
  ];
}

/** On Namespace CREATE/UPDATE: baseline labels may not be set to another value, nor removed. */
export function requireDefaultDenyOnNamespace(ctx: AdmissionContext): Finding[] {
  const labels = ctx.request.object?.metadata?.labels ?? {};
  const oldLabels = ctx.request.oldObject?.metadata?.labels ?? {};
  const findings: Finding[] = [];
  for (const [key, value] of Object.entries(ctx.config.baseline.labels)) {
    const path = fieldPath('metadata.labels', key);
    const now = labels[key];
    if (now !== undefined && now !== value) {
      findings.push({ path, message: `baseline label ${key} must be ${JSON.stringify(value)}, not ${JSON.stringify(now)}: it keeps the namespace's default-deny baseline. Remove the label (netfence sets it) or set it to ${JSON.stringify(value)}; ask the platform team for an exemption if this namespace must opt out` });
    } else if (now === undefined && oldLabels[key] === value) {
      findings.push({ path, message: `baseline label ${key}=${value} may not be removed: it keeps the namespace's default-deny baseline. Keep the label; ask the platform team for an exemption if this namespace must opt out` });
    }
  }
  return findings;
}
