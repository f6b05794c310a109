import type { AuditedObject, ResultValue, RuleResult } from '../audit/judge.ts';
import type { Mode, RuleType } from '../config/types.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../baseline/plan.ts';

// PolicyReports (wgpolicyk8s.io/v1alpha2), as Policy Reporter reads them unchanged: one
// PolicyReport per namespace for its objects, one ClusterPolicyReport for the Namespaces.
// Bounded on purpose: at most MAX_RESULTS_PER_REPORT results (violations first), the summary
// counting every result, and annotations saying how many were left out.

export const REPORT_GROUP = 'wgpolicyk8s.io';
export const REPORT_VERSION = 'v1alpha2';
export const REPORT_API_VERSION = `${REPORT_GROUP}/${REPORT_VERSION}`;
/** The name of netfence's report in each namespace, and of its ClusterPolicyReport. */
export const REPORT_NAME = 'netfence';
export const REPORT_SOURCE = 'netfence';
/**
 * Results kept per report. A result is about 1 KB at most (messages are capped below), so a
 * report stays well under etcd's 1.5 MiB object limit and Policy Reporter's UI stays usable.
 */
export const MAX_RESULTS_PER_REPORT = 500;
export const MAX_MESSAGE_CHARS = 800;
export const ANNOTATION_CAP = 'netfence.io/results-cap';
export const ANNOTATION_OMITTED = 'netfence.io/results-omitted';

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export interface PolicyReportResult {
  source: string;
  policy: string;
  rule: string;
  category: string;
  severity: 'high' | 'medium' | 'low';
  timestamp: { seconds: number; nanos: number };
  result: ResultValue;
  scored: boolean;
  resources: ObjectReference[];
  message: string;
  properties: Record<string, string>;
}

export interface PolicyReportSummary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

export interface PolicyReport {
  apiVersion: typeof REPORT_API_VERSION;
  kind: 'PolicyReport' | 'ClusterPolicyReport';
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string>; resourceVersion?: string };
  summary: PolicyReportSummary;
  results: PolicyReportResult[];
}

const CATEGORY: Record<RuleType, string> = {
  requireDefaultDeny: 'Default deny',
  forbidIngressFrom: 'Tier exposure',
  forbidEgressTo: 'Tier exposure',
  restrictIngressSources: 'Tier exposure',
  requirePorts: 'Ports',
};

const SEVERITY: Record<Mode, PolicyReportResult['severity']> = { enforce: 'high', warn: 'medium', audit: 'low' };

/** Violations first, so that a capped report drops passes before anything that needs fixing. */
const RANK: Record<ResultValue, number> = { fail: 0, warn: 1, skip: 2, pass: 3 };

function truncate(s: string): string {
  return s.length <= MAX_MESSAGE_CHARS ? s : `${s.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
}

function messageOf(r: RuleResult, o: AuditedObject): string {
  const what = `${o.subject.kind} ${o.subject.kindKey === 'Namespace' ? '' : `${o.subject.namespace}/`}${o.subject.name}`;
  if (r.result === 'pass') return `${what} complies with ${r.rule}`;
  return truncate(r.path ? `${r.path}: ${r.message ?? ''}` : (r.message ?? ''));
}

function propertiesOf(r: RuleResult): Record<string, string> {
  const p: Record<string, string> = { mode: r.mode, ruleType: r.type };
  if (r.configuredMode) p.configuredMode = r.configuredMode;
  if (r.path) p.path = r.path;
  if (r.exemption) {
    p.exemption = r.exemption.id;
    p.exemptionStatus = r.exemption.status;
    p.exemptionReason = truncate(r.exemption.reason);
    if (r.exemption.expires) p.exemptionExpires = r.exemption.expires;
  }
  return p;
}

function referenceOf(o: AuditedObject): ObjectReference {
  const s = o.subject;
  return {
    apiVersion: s.apiVersion,
    kind: s.kind,
    name: s.name,
    ...(s.kindKey === 'Namespace' ? {} : { namespace: s.namespace }),
    ...(s.uid ? { uid: s.uid } : {}),
  };
}

/**
 * The report of one scope: a namespace's PolicyReport (namespace given) or the
 * ClusterPolicyReport (namespace undefined) from the audited objects it covers.
 */
export function buildPolicyReport(namespace: string | undefined, objects: readonly AuditedObject[], now: Date, cap = MAX_RESULTS_PER_REPORT): PolicyReport {
  const summary: PolicyReportSummary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  const all: Array<{ r: RuleResult; o: AuditedObject; order: string }> = [];
  for (const o of objects) {
    for (const r of o.results) {
      summary[r.result]++;
      all.push({ r, o, order: `${RANK[r.result]}|${o.key}|${r.rule}|${r.path ?? ''}` });
    }
  }
  all.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  const kept = all.slice(0, cap);
  const seconds = Math.floor(now.getTime() / 1000);
  const results = kept.map(({ r, o }) => ({
    source: REPORT_SOURCE,
    policy: r.rule,
    rule: r.type,
    category: CATEGORY[r.type],
    severity: SEVERITY[r.mode],
    timestamp: { seconds, nanos: 0 },
    result: r.result,
    scored: true,
    resources: [referenceOf(o)],
    message: messageOf(r, o),
    properties: propertiesOf(r),
  }));
  const annotations: Record<string, string> = { [ANNOTATION_CAP]: String(cap) };
  if (all.length > kept.length) annotations[ANNOTATION_OMITTED] = String(all.length - kept.length);
  return {
    apiVersion: REPORT_API_VERSION,
    kind: namespace === undefined ? 'ClusterPolicyReport' : 'PolicyReport',
    metadata: { name: REPORT_NAME, ...(namespace === undefined ? {} : { namespace }), labels: { [MANAGED_BY_LABEL]: MANAGED_BY }, annotations },
    summary,
    results,
  };
}

/** What makes two reports different for writing: everything but timestamps and resourceVersion. */
export function reportContent(report: Pick<PolicyReport, 'summary' | 'results' | 'metadata'>): string {
  const results = (report.results ?? []).map(({ timestamp: _t, ...rest }) => rest);
  return JSON.stringify([report.summary, results, report.metadata?.annotations?.[ANNOTATION_OMITTED] ?? '0', report.metadata?.labels?.[MANAGED_BY_LABEL] ?? '']);
}
