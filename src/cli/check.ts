import { evaluate } from '../admission/admit.ts';
import type { AdmissionContext, Decision, ExemptionUse, Violation } from '../admission/context.ts';
import { defaultHandlers } from '../admission/registry.ts';
import { buildResponse } from '../admission/respond.ts';
import type { AdmissionRequest } from '../admission/review.ts';
import { loadClusterInput } from '../cluster/input.ts';
import { describeSource, type ManifestSource } from '../cluster/manifests.ts';
import { builtInConfig, loadConfigFile } from '../config/load.ts';
import type { ClusterView } from '../cluster/view.ts';
import { emptyTierWarnings, tierPodCounts } from '../config/tiers.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { isObject, type KubeObject, type NamespaceInfo } from '../k8s/types.ts';
import { POD_TEMPLATE_PATHS } from '../rules/subjects.ts';
import { PolicyIndex } from '../netpol/index.ts';
import { parseManifestCommand, type CliIO } from './io.ts';
import { UsageError } from './usage.ts';

export interface CheckResult {
  source: ManifestSource;
  kind: string;
  namespace: string;
  name: string;
  decision: Decision;
  violations: Violation[];
  exemptions: ExemptionUse[];
  warnings: string[];
}

/** The AdmissionRequest the API server would send for creating this object. */
function createRequest(object: KubeObject, index: number): AdmissionRequest {
  const [group, version] = (object.apiVersion ?? 'v1').includes('/') ? (object.apiVersion as string).split('/') as [string, string] : ['', object.apiVersion ?? 'v1'];
  const clusterScoped = object.kind === 'Namespace';
  const namespace = clusterScoped ? undefined : object.metadata?.namespace ?? 'default';
  const metadata = { ...object.metadata, ...(namespace ? { namespace } : {}) };
  return {
    uid: `check-${index}`,
    kind: { group, version, kind: object.kind ?? '' },
    operation: 'CREATE',
    ...(namespace ? { namespace } : {}),
    name: object.metadata?.name ?? '',
    userInfo: { username: 'netfence-check' },
    dryRun: true,
    object: { ...object, metadata },
    oldObject: null,
  };
}

/**
 * The manifests' namespaces as admission sees them once created with netfence running: the
 * mutating webhook gave them the baseline labels (where absent), so they are adopted and
 * enforced (src/rules/scope.ts). check answers "what would netfence deny", not "what does it
 * deny in a namespace not adopted yet" (that is `netfence adopt --dry-run`).
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
 * `netfence check`: judges every object of the manifests as admission would judge its CREATE,
 * with the other objects of the same files as the cluster. Namespaces are mutated first, as the
 * mutating webhook runs before the validating one. Exit 0 clean (warnings allowed), 1
 * violations, 2 bad input.
 */
export function check(args: string[], io: CliIO, now = new Date()): number {
  const { values, files, output } = parseManifestCommand(args, {
    config: { type: 'string' },
  });
  const { config } = values.config ? loadConfigFile(values.config) : builtInConfig();
  const { objects, view: given } = loadClusterInput(files);
  const view = asAdopted(given, config.baseline.labels);
  const index = new PolicyIndex(view);
  const handlers = defaultHandlers();
  const results: CheckResult[] = [];
  objects.forEach(({ object, source }, i) => {
    let request = createRequest(object, i);
    const ctx = (r: AdmissionRequest): AdmissionContext => ({ request: r, config, cluster: view, index, now, netfenceNamespace: 'netfence-system' });
    const mutated = evaluate(ctx(request), handlers, 'mutate').mutated;
    if (mutated) request = { ...request, object: mutated };
    const verdict = evaluate(ctx(request), handlers, 'validate');
    const { decision } = buildResponse(request, verdict);
    results.push({
      source,
      kind: object.kind ?? '',
      namespace: request.namespace ?? '',
      name: request.name ?? '',
      decision,
      violations: verdict.violations,
      exemptions: verdict.exemptions,
      warnings: verdict.warnings,
    });
  });

  const tierWarnings = tierCoverage(config, objects.map((o) => o.object), view);
  const denied = results.filter((r) => r.decision === 'deny').length;
  const warned = results.filter((r) => r.decision === 'warn').length;
  if (output === 'json') {
    io.out(JSON.stringify({ results, warnings: tierWarnings, summary: { objects: results.length, denied, warned, allowed: results.length - denied - warned } }, null, 2));
  } else {
    for (const r of results) {
      const audit = r.violations.filter((v) => v.mode === 'audit');
      if (r.decision === 'allow' && audit.length === 0 && r.exemptions.length === 0) continue;
      io.out(`${describeSource(r.source)}: ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}: ${r.decision.toUpperCase()}`);
      for (const v of r.violations) io.out(`  ${v.mode === 'enforce' ? 'denied' : v.mode === 'warn' ? 'warning' : 'audit'}: [${v.rule}] ${v.path ? `${v.path}: ` : ''}${v.message}`);
      for (const w of r.warnings) io.out(`  warning: ${w}`);
      for (const e of r.exemptions) io.out(`  exemption ${e.id} ${e.status} for [${e.rule}]${e.expires ? ` (expires ${e.expires})` : ''}: ${e.reason}`);
    }
    for (const w of tierWarnings) io.out(`warning: ${w}`);
    io.out(`${results.length} objects judged: ${denied} denied, ${warned} with warnings, ${results.length - denied - warned} allowed`);
  }
  return denied > 0 ? 1 : 0;
}
