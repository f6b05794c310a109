import { evaluate } from '../admission/admit.ts';
import type { AdmissionContext, Decision, ExemptionUse, Violation } from '../admission/context.ts';
import { defaultHandlers } from '../admission/registry.ts';
import { buildResponse } from '../admission/respond.ts';
import type { AdmissionRequest } from '../admission/review.ts';
import { objectKey } from '../cluster/input.ts';
import { describeSource, type ManifestSource } from '../cluster/manifests.ts';
import { StaticClusterView } from '../cluster/static.ts';
import type { KubeObject } from '../k8s/types.ts';
import { PolicyIndex } from '../netpol/index.ts';
import { assumeBaseline } from './baseline.ts';
import { loadConfig, parseCommand, type CliIO } from './io.ts';
import { junitReport, sarifReport } from './reports.ts';
import { UsageError } from './usage.ts';
import { loadWorld } from './world.ts';

export interface CheckResult {
  source: ManifestSource;
  kind: string;
  namespace: string;
  name: string;
  operation: 'CREATE' | 'UPDATE';
  decision: Decision;
  violations: Violation[];
  exemptions: ExemptionUse[];
  warnings: string[];
}

export interface CheckReport {
  results: CheckResult[];
  summary: { objects: number; denied: number; warned: number; allowed: number };
  /** The baseline policies assumed in the namespaces netfence manages (absent with --no-baseline). */
  baseline?: { namespaces: string[]; added: string[] };
  /** Where the cluster came from. */
  cluster: string;
}

const NETFENCE_NAMESPACE = process.env.POD_NAMESPACE || 'netfence-system';

/** The AdmissionRequest the API server would send for applying this object: CREATE, or UPDATE of what is there. */
function applyRequest(object: KubeObject, index: number, old: KubeObject | undefined): AdmissionRequest {
  const [group, version] = (object.apiVersion ?? 'v1').includes('/') ? (object.apiVersion as string).split('/') as [string, string] : ['', object.apiVersion ?? 'v1'];
  const clusterScoped = object.kind === 'Namespace';
  const namespace = clusterScoped ? undefined : object.metadata?.namespace ?? 'default';
  const metadata = { ...object.metadata, ...(namespace ? { namespace } : {}) };
  return {
    uid: `check-${index}`,
    kind: { group, version, kind: object.kind ?? '' },
    operation: old ? 'UPDATE' : 'CREATE',
    ...(namespace ? { namespace } : {}),
    name: object.metadata?.name ?? '',
    userInfo: { username: 'netfence-check' },
    dryRun: true,
    object: { ...object, metadata },
    oldObject: old ?? null,
  };
}

/**
 * `netfence check`: judges every object of the manifests as admission would judge applying
 * it, with the other objects of the same files (over the live cluster, with --kubeconfig) as
 * the cluster, and the baseline policies netfence keeps in the namespaces it manages.
 * Namespaces are mutated first, as the mutating webhook runs before the validating one.
 * Exit 0 clean (warnings allowed), 1 violations, 2 bad input.
 */
export async function check(args: string[], io: CliIO, now = new Date()): Promise<number> {
  const parsed = parseCommand(args, { config: { type: 'string' }, 'no-baseline': { type: 'boolean' } }, ['text', 'json', 'sarif', 'junit'] as const);
  const { output } = parsed;
  if (parsed.files.length === 0) throw new UsageError('-f: give the manifests to judge (with --kubeconfig, they are judged against the live cluster)');
  const loaded = loadConfig(parsed.values.config as string | undefined);
  const { config } = loaded;
  const world = await loadWorld(parsed);
  let view = world.view;
  let baseline: CheckReport['baseline'];
  if (!parsed.values['no-baseline']) {
    const assumed = assumeBaseline(world.live, world.files, config, NETFENCE_NAMESPACE);
    baseline = { namespaces: assumed.namespaces, added: assumed.added };
    view = new StaticClusterView(assumed.objects, world.origin);
  }
  const liveByKey = new Map(world.live.map((m) => [objectKey(m.object), m.object]));
  const index = new PolicyIndex(view);
  const handlers = defaultHandlers();
  const results: CheckResult[] = world.files.map(({ object, source }, i) => {
    let request = applyRequest(object, i, liveByKey.get(objectKey(object)));
    const ctx = (r: AdmissionRequest): AdmissionContext => ({ request: r, config, cluster: view, index, now, netfenceNamespace: NETFENCE_NAMESPACE });
    const mutated = evaluate(ctx(request), handlers, 'mutate').mutated;
    if (mutated) request = { ...request, object: mutated };
    const verdict = evaluate(ctx(request), handlers, 'validate');
    const { decision } = buildResponse(request, verdict);
    return {
      source,
      kind: object.kind ?? '',
      namespace: request.namespace ?? '',
      name: request.name ?? '',
      operation: request.operation as 'CREATE' | 'UPDATE',
      decision,
      violations: verdict.violations,
      exemptions: verdict.exemptions,
      warnings: verdict.warnings,
    };
  });
  const denied = results.filter((r) => r.decision === 'deny').length;
  const warned = results.filter((r) => r.decision === 'warn').length;
  const report: CheckReport = {
    results,
    summary: { objects: results.length, denied, warned, allowed: results.length - denied - warned },
    ...(baseline ? { baseline } : {}),
    cluster: world.origin,
  };
  switch (output) {
    case 'json':
      io.out(JSON.stringify(report, null, 2));
      break;
    case 'sarif':
      io.out(JSON.stringify(sarifReport(report, config), null, 2));
      break;
    case 'junit':
      io.out(junitReport(report));
      break;
    case 'text':
      for (const line of textReport(report)) io.out(line);
  }
  return denied > 0 ? 1 : 0;
}

function textReport(report: CheckReport): string[] {
  const lines: string[] = [];
  if (report.baseline) {
    const { namespaces, added } = report.baseline;
    lines.push(
      namespaces.length
        ? `assuming the baseline netfence keeps in the namespaces it manages (${namespaces.join(', ')})${added.length ? `: ${added.join(', ')}` : ''} (--no-baseline: judge without it)`
        : 'no namespace here is managed by netfence: no baseline policies assumed',
    );
  }
  for (const r of report.results) {
    const audit = r.violations.filter((v) => v.mode === 'audit');
    if (r.decision === 'allow' && audit.length === 0 && r.exemptions.length === 0) continue;
    lines.push(`${describeSource(r.source)}: ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}${r.operation === 'UPDATE' ? ' (update)' : ''}: ${r.decision.toUpperCase()}`);
    for (const v of r.violations) lines.push(`  ${v.mode === 'enforce' ? 'denied' : v.mode === 'warn' ? 'warning' : 'audit'}: [${v.rule}] ${v.path ? `${v.path}: ` : ''}${v.message}`);
    for (const w of r.warnings) lines.push(`  warning: ${w}`);
    for (const e of r.exemptions) lines.push(`  exemption ${e.id} ${e.status} for [${e.rule}]${e.expires ? ` (expires ${e.expires})` : ''}: ${e.reason}`);
  }
  const { objects, denied, warned, allowed } = report.summary;
  lines.push(`${objects} objects judged: ${denied} denied, ${warned} with warnings, ${allowed} allowed`);
  return lines;
}
