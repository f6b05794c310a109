import { evaluate } from '../admission/admit.ts';
import type { AdmissionContext, ExemptionUse, Verdict, Violation } from '../admission/context.ts';
import type { HandlerTable } from '../admission/handlers.ts';
import type { ClusterView } from '../cluster/view.ts';
import type { Mode, NetfenceConfig, Rule, RuleType } from '../config/types.ts';
import type { PolicyType } from '../k8s/types.ts';
import type { PolicyIndex } from '../netpol/index.ts';
import { defaultDenyStatus, hasBaselineLabels } from '../rules/default-deny.ts';
import { judge, type Finding } from '../rules/types.ts';
import { createRequest, type AuditSubject } from './subjects.ts';

/** PolicyReport result values netfence uses (`error` is never produced: decisions are total). */
export type ResultValue = 'pass' | 'fail' | 'warn' | 'skip';

/** One rule's result for one object. */
export interface RuleResult {
  rule: string;
  type: RuleType;
  mode: Mode;
  /** fail: violated (enforce or audit mode); warn: violated in warn mode; skip: exempted; pass. */
  result: ResultValue;
  /** Field path in the object, for fail and warn. */
  path?: string;
  message?: string;
  /** When the namespace's scope downgraded the rule (not adopted: audit mode), its configured mode. */
  configuredMode?: Mode;
  /** The exemption that matched: applied (result skip) or expired (the violation stands). */
  exemption?: Omit<ExemptionUse, 'rule' | 'namespace'>;
}

export interface AuditedObject {
  key: string;
  subject: Omit<AuditSubject, 'object'>;
  /** Never mutated: lists and results are shared between objects (see AuditEngine). */
  results: readonly RuleResult[];
  /** For Namespaces: whether it is default-deny, per direction (whatever the rules). */
  defaultDeny?: Record<PolicyType, boolean>;
}

/** Which rule types judge a subject's CREATE, by kind (the routing of rules/evaluate.ts). */
const APPLIES: Record<'Namespace' | 'NetworkPolicy' | 'Pod', readonly RuleType[]> = {
  Namespace: ['requireDefaultDeny'],
  NetworkPolicy: ['forbidIngressFrom', 'forbidEgressTo', 'restrictIngressSources', 'requirePorts'],
  Pod: ['requireDefaultDeny', 'forbidIngressFrom', 'forbidEgressTo'],
};

function appliesTo(kindKey: string): readonly RuleType[] {
  if (kindKey === 'Namespace' || kindKey === 'NetworkPolicy') return APPLIES[kindKey];
  return APPLIES.Pod; // Pods and workloads through their pod templates
}

export interface JudgeInput {
  config: NetfenceConfig;
  cluster: ClusterView;
  index: PolicyIndex;
  handlers: HandlerTable;
  now: Date;
  netfenceNamespace: string;
}

/**
 * Namespace default-deny, for each requireDefaultDeny rule: admission denies the namespace's
 * pods when it is not; the audit says so on the namespace itself (the ClusterPolicyReport).
 */
function namespaceDefaultDeny(input: JudgeInput, ctx: AdmissionContext, namespace: string): { verdict: Verdict; state: Record<PolicyType, boolean> } {
  const policies = input.index.policies(namespace);
  const status = { Ingress: defaultDenyStatus(policies, 'Ingress'), Egress: defaultDenyStatus(policies, 'Egress') };
  const adopted = hasBaselineLabels(input.index.namespace(namespace), input.config.baseline.labels);
  const labels = Object.entries(input.config.baseline.labels).map(([k, v]) => `${k}=${v}`).join(', ');
  const results: Array<{ rule: Rule; findings: Finding[] }> = [];
  for (const rule of input.config.rules) {
    if (rule.type !== 'requireDefaultDeny') continue;
    const missing = rule.directions.filter((d) => !status[d].defaultDeny);
    if (missing.length === 0) continue;
    const fix = adopted
      ? 'the namespace carries the baseline labels: netfence is creating or restoring its baseline NetworkPolicies'
      : `label the namespace ${labels || 'with the baseline labels'} (netfence then keeps the baseline policies there), or create a NetworkPolicy with podSelector: {} and policyTypes: [${missing.join(', ')}]`;
    results.push({
      rule,
      findings: [{ path: 'metadata.name', message: `namespace ${namespace} is not default-deny (${missing.map((d) => `${d}: ${status[d].reason}`).join('; ')}), so ${adopted ? 'admission denies new pods and workloads there' : 'once adopted, admission would deny new pods and workloads there'}. Fix: ${fix}` }],
    });
  }
  const { violations, exemptions } = judge(ctx, namespace, results);
  return { verdict: { violations, exemptions, warnings: [] }, state: { Ingress: status.Ingress.defaultDeny, Egress: status.Egress.defaultDeny } };
}

function resultOf(v: Violation): ResultValue {
  return v.mode === 'warn' ? 'warn' : 'fail';
}

/** Per applicable rule: its violations (fail/warn), its applied exemption (skip), or pass. */
export function resultsOf(config: NetfenceConfig, kindKey: string, verdict: Verdict): RuleResult[] {
  const types = appliesTo(kindKey);
  const out: RuleResult[] = [];
  for (const rule of config.rules) {
    if (!types.includes(rule.type)) continue;
    const use = verdict.exemptions.find((e) => e.rule === rule.id);
    const exemption = use ? { id: use.id, status: use.status, reason: use.reason, ...(use.expires ? { expires: use.expires } : {}) } : undefined;
    const violations = verdict.violations.filter((v) => v.rule === rule.id);
    const base = { rule: rule.id, type: rule.type, mode: rule.mode };
    if (violations.length > 0) {
      // The mode it was judged with: a namespace that is not adopted has every rule in audit mode.
      for (const v of violations) out.push({ ...base, mode: v.mode, result: resultOf(v), path: v.path, message: v.message, ...(v.downgraded ? { configuredMode: v.downgraded.from } : {}), ...(exemption ? { exemption } : {}) });
    } else if (exemption?.status === 'applied') {
      out.push({ ...base, result: 'skip', message: `exempted by ${exemption.id}: ${exemption.reason}`, exemption });
    } else {
      out.push({ ...base, result: 'pass' });
    }
  }
  return out;
}

/**
 * Judges one existing object as admission would judge its CREATE (the same `evaluate`), and a
 * Namespace also on its default-deny state. Objects in excluded namespaces get no results.
 */
export function judgeSubject(subject: AuditSubject, key: string, input: JudgeInput): AuditedObject {
  const ctx: AdmissionContext = {
    request: createRequest(subject),
    config: input.config,
    cluster: input.cluster,
    index: input.index,
    now: input.now,
    netfenceNamespace: input.netfenceNamespace,
  };
  const { object: _object, ...ref } = subject;
  let verdict = evaluate(ctx, input.handlers, 'validate');
  let defaultDeny: Record<PolicyType, boolean> | undefined;
  if (subject.kindKey === 'Namespace') {
    const dd = namespaceDefaultDeny(input, ctx, subject.name);
    defaultDeny = dd.state;
    verdict = {
      violations: [...verdict.violations, ...dd.verdict.violations],
      exemptions: [...verdict.exemptions, ...dd.verdict.exemptions.filter((e) => !verdict.exemptions.some((x) => x.id === e.id && x.rule === e.rule))],
      warnings: verdict.warnings,
    };
  }
  return { key, subject: ref, results: resultsOf(input.config, subject.kindKey, verdict), ...(defaultDeny ? { defaultDeny } : {}) };
}
