import { isExcludedNamespace } from '../admission/context.ts';
import { AuditEngine } from '../audit/engine.ts';
import { sameSpec } from '../baseline/plan.ts';
import type { ClusterView } from '../cluster/view.ts';
import type { NetfenceConfig, PeerClass } from '../config/types.ts';
import type { NamespaceInfo, PodInfo } from '../k8s/types.ts';
import { PolicyIndex } from '../netpol/index.ts';
import { defaultDenyStatus, hasBaselineLabels } from '../rules/default-deny.ts';
import type { DecisionStats } from './decisions.ts';
import { namespaceGraph, type NamespaceGraph } from './graph.ts';
import { tierReach, type TierReach } from './tiers.ts';

// The content of `netfence report`: one value, rendered as JSON as it is, and as HTML and
// Markdown from it, so that the three always say the same.

export const REPORT_SCHEMA = 1;
/** Violations listed one by one (all are counted). */
export const MAX_VIOLATION_ITEMS = 2000;
/** Namespaces drawn as graphs, those with violations first. */
export const MAX_GRAPHS = 100;

export interface NamespaceCoverage {
  name: string;
  excluded: boolean;
  defaultDeny: { ingress: boolean; egress: boolean };
  /** Carries the baseline labels. */
  adopted: boolean;
  /** in place: every baseline policy there as configured; missing: some absent or edited; not adopted. */
  baseline: 'in place' | 'missing' | 'not adopted' | 'excluded';
  missingPolicies: string[];
  pods: number;
  policies: number;
}

export interface ViolationItem {
  namespace: string;
  kind: string;
  name: string;
  rule: string;
  mode: string;
  result: 'fail' | 'warn';
  path: string;
  message: string;
}

export interface ExemptionStatus {
  id: string;
  namespaces: string[];
  rules: string[];
  reason: string;
  expires?: string;
  /** Days until expiry (negative once expired); absent for an exemption without expiry. */
  daysLeft?: number;
  status: 'active' | 'expiring' | 'expired' | 'permanent';
  /** Results it exempts now (skip results naming it). */
  exempting: number;
}

export interface ReportData {
  schema: typeof REPORT_SCHEMA;
  generatedAt: string;
  source: string;
  configHash: string;
  coverage: {
    namespaces: number;
    excluded: number;
    defaultDeny: { both: number; ingressOnly: number; egressOnly: number; none: number };
    adopted: number;
    baselineInPlace: number;
    list: NamespaceCoverage[];
  };
  violations: {
    total: number;
    byRule: Array<{ rule: string; mode: string; fail: number; warn: number }>;
    byNamespace: Array<{ namespace: string; fail: number; warn: number }>;
    items: ViolationItem[];
    omitted: number;
  };
  exemptions: ExemptionStatus[];
  tiers: TierReach[];
  graphs: NamespaceGraph[];
  graphsOmitted: number;
  decisions?: DecisionStats;
}

const DAY = 86_400_000;

export interface ReportInput {
  view: ClusterView;
  config: NetfenceConfig;
  configHash: string;
  now: Date;
  netfenceNamespace: string;
  decisions?: DecisionStats;
  /** An audit already run over the view (the bench reuses one); else one is run here. */
  engine?: AuditEngine;
}

export function buildReport(input: ReportInput): ReportData {
  const { view, config, now } = input;
  const engine = input.engine ?? new AuditEngine(view, config, { netfenceNamespace: input.netfenceNamespace });
  if (!input.engine) engine.runAll(now);
  const index = new PolicyIndex(view);
  const excluded = (ns: string): boolean => isExcludedNamespace({ config, netfenceNamespace: input.netfenceNamespace }, ns);
  const namespaces = [...view.namespaces()].sort((a, b) => (a.name < b.name ? -1 : 1));

  const list = namespaces.map((ns) => coverageOf(ns, index, config, excluded(ns.name)));
  const judged = list.filter((n) => !n.excluded);
  const coverage = {
    namespaces: list.length,
    excluded: list.length - judged.length,
    defaultDeny: {
      both: judged.filter((n) => n.defaultDeny.ingress && n.defaultDeny.egress).length,
      ingressOnly: judged.filter((n) => n.defaultDeny.ingress && !n.defaultDeny.egress).length,
      egressOnly: judged.filter((n) => !n.defaultDeny.ingress && n.defaultDeny.egress).length,
      none: judged.filter((n) => !n.defaultDeny.ingress && !n.defaultDeny.egress).length,
    },
    adopted: judged.filter((n) => n.adopted).length,
    baselineInPlace: judged.filter((n) => n.baseline === 'in place').length,
    list,
  };

  const items: ViolationItem[] = [];
  const byRule = new Map<string, { rule: string; mode: string; fail: number; warn: number }>();
  const byNamespace = new Map<string, { namespace: string; fail: number; warn: number }>();
  const exempting = new Map<string, number>();
  let total = 0;
  for (const o of [...engine.all()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    for (const r of o.results) {
      if (r.result === 'skip' && r.exemption) exempting.set(r.exemption.id, (exempting.get(r.exemption.id) ?? 0) + 1);
      if (r.result !== 'fail' && r.result !== 'warn') continue;
      total++;
      const rule = byRule.get(r.rule) ?? { rule: r.rule, mode: r.mode, fail: 0, warn: 0 };
      rule[r.result]++;
      byRule.set(r.rule, rule);
      const ns = byNamespace.get(o.subject.namespace) ?? { namespace: o.subject.namespace, fail: 0, warn: 0 };
      ns[r.result]++;
      byNamespace.set(o.subject.namespace, ns);
      if (items.length < MAX_VIOLATION_ITEMS) {
        items.push({ namespace: o.subject.namespace, kind: o.subject.kind, name: o.subject.name, rule: r.rule, mode: r.mode, result: r.result, path: r.path ?? '', message: r.message ?? '' });
      }
    }
  }

  const exemptions: ExemptionStatus[] = config.exemptions.map((e) => {
    const at = e.expires ? Date.parse(e.expires) : undefined;
    const daysLeft = at === undefined ? undefined : Math.floor((at - now.getTime()) / DAY * 10) / 10;
    const status = at === undefined ? 'permanent' : at <= now.getTime() ? 'expired' : at - now.getTime() <= 7 * DAY ? 'expiring' : 'active';
    return { id: e.id, namespaces: e.namespaces, rules: e.rules, reason: e.reason, ...(e.expires ? { expires: e.expires, daysLeft } : {}), status, exempting: exempting.get(e.id) ?? 0 };
  });

  const withViolations = new Set(byNamespace.keys());
  const drawable = judged.filter((n) => n.pods > 0).sort((a, b) => Number(withViolations.has(b.name)) - Number(withViolations.has(a.name)) || (a.name < b.name ? -1 : 1));
  const graphs = drawable.slice(0, MAX_GRAPHS).map((n) => namespaceGraph(index, config, n.name)).sort((a, b) => (a.namespace < b.namespace ? -1 : 1));

  return {
    schema: REPORT_SCHEMA,
    generatedAt: now.toISOString(),
    source: view.describe(),
    configHash: input.configHash,
    coverage,
    violations: {
      total,
      byRule: [...byRule.values()].sort((a, b) => b.fail + b.warn - (a.fail + a.warn) || (a.rule < b.rule ? -1 : 1)),
      byNamespace: [...byNamespace.values()].sort((a, b) => b.fail + b.warn - (a.fail + a.warn) || (a.namespace < b.namespace ? -1 : 1)),
      items,
      omitted: total - items.length,
    },
    exemptions,
    tiers: tierReach(index, config, namespaces.filter((n) => !excluded(n.name))),
    graphs,
    graphsOmitted: drawable.length - graphs.length,
    ...(input.decisions ? { decisions: input.decisions } : {}),
  };
}

function coverageOf(ns: NamespaceInfo, index: PolicyIndex, config: NetfenceConfig, excluded: boolean): NamespaceCoverage {
  const policies = index.policies(ns.name);
  const adopted = hasBaselineLabels(ns, config.baseline.labels);
  const missing = adopted
    ? config.baseline.policies.filter((t) => !policies.some((p) => p.name === t.name && sameSpec(p.policy.spec, t.spec))).map((t) => t.name)
    : [];
  return {
    name: ns.name,
    excluded,
    defaultDeny: { ingress: defaultDenyStatus(policies, 'Ingress').defaultDeny, egress: defaultDenyStatus(policies, 'Egress').defaultDeny },
    adopted,
    baseline: excluded ? 'excluded' : !adopted ? 'not adopted' : missing.length > 0 ? 'missing' : 'in place',
    missingPolicies: missing,
    pods: index.pods(ns.name).length,
    policies: policies.length,
  };
}

/** The classes a report names, in the order it names them. */
export const CLASS_ORDER: readonly PeerClass[] = ['anywhere', 'internet', 'allNamespaces', 'otherNamespaces'];

export type { PodInfo };
