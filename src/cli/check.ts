import { evaluate } from '../admission/admit.ts';
import type { AdmissionContext, Decision, ExemptionUse, Violation } from '../admission/context.ts';
import { defaultHandlers } from '../admission/registry.ts';
import { buildResponse } from '../admission/respond.ts';
import type { AdmissionRequest } from '../admission/review.ts';
import { objectKey } from '../cluster/input.ts';
import { describeSource, type ManifestSource } from '../cluster/manifests.ts';
import { StaticClusterView } from '../cluster/static.ts';
import type { ClusterView } from '../cluster/view.ts';
import { emptyTierWarnings, tierPodCounts } from '../config/tiers.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { isObject, type KubeObject, type NamespaceInfo } from '../k8s/types.ts';
import { POD_TEMPLATE_PATHS } from '../rules/subjects.ts';
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
  /** Findings about the config against these objects (a tier that selects none of their pods). */
  warnings: string[];
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
 * Offline, without the assumed baseline: the manifests' namespaces as admission sees them once
 * created with netfence running. The mutating webhook gives them the baseline labels (where
 * absent), so they are adopted and enforced (src/rules/scope.ts): check answers "what would
 * netfence deny", not "what does it deny in a namespace not adopted yet" (that is
 * `netfence adopt --dry-run`). Live namespaces keep the labels they have.
 */
function asAdopted(view: ClusterView, labels: Readonly<Record<string, string>>): ClusterView {
  const byName = new Map<string, NamespaceInfo>(view.namespaces().map((ns) => [ns.name, { ...ns, labels: { ...labels, ...ns.labels } }]));
  const all = [...byName.values()];
  return {
    namespace: (name) => byName.get(name),
    namespaces: () => all,
    pods: (namespace) => view.pods(namespace),
    networkPolicies: (namespace) => view.networkPolicies(namespace),
    synced: () => view.synced(),
    describe: () => view.describe(),
  };
}

/**
 * Tiers that select no pod of the manifests (Pods and workload pod templates), when the
 * manifests hold any: a tier under another label scheme makes its rules judge nothing.
 */
function tierCoverage(config: NetfenceConfig, objects: readonly KubeObject[], view: ClusterView): string[] {
  const templates: Array<Record<string, string>> = [];
  for (const o of objects) {
    const group = (o.apiVersion ?? '').includes('/') ? o.apiVersion!.split('/')[0] : '';
    const path = POD_TEMPLATE_PATHS[`${group}/${o.kind}`];
    if (!path) continue;
    let node: unknown = o;
    for (const key of path) node = isObject(node) ? node[key] : undefined;
    const labels = isObject(node) && isObject(node.metadata) && isObject(node.metadata.labels) ? node.metadata.labels : {};
    templates.push(Object.fromEntries(Object.entries(labels).filter(([, v]) => typeof v === 'string')) as Record<string, string>);
  }
  const pods = view.namespaces().reduce((n, ns) => n + view.pods(ns.name).length, 0);
  if (pods + templates.length === 0) return [];
  return emptyTierWarnings(config, tierPodCounts(config, view, templates), 'in the manifests');
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
  const loaded = await loadConfig(parsed.values.config as string | undefined);
  const { config } = loaded;
  const world = await loadWorld(parsed);
  let view: ClusterView = world.view;
  let baseline: CheckReport['baseline'];
  if (!parsed.values['no-baseline']) {
    const assumed = assumeBaseline(world.live, world.files, config, NETFENCE_NAMESPACE);
    baseline = { namespaces: assumed.namespaces, added: assumed.added };
    view = new StaticClusterView(assumed.objects, world.origin);
  } else if (world.live.length === 0) {
    view = asAdopted(view, config.baseline.labels);
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
    warnings: tierCoverage(config, world.files.map((m) => m.object), view),
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
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  const { objects, denied, warned, allowed } = report.summary;
  lines.push(`${objects} objects judged: ${denied} denied, ${warned} with warnings, ${allowed} allowed`);
  return lines;
}
