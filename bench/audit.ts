// Audit benchmark: a cluster of 2,000 namespaces, 8,000 NetworkPolicies and 20,000 pods. Full
// pass, re-judging after one policy change (and how many objects that re-judged), and report
// generation (all PolicyReports; the `netfence report` content and its HTML). The full pass is
// the baseline the incremental figure is read against, in the same run.
import { performance } from 'node:perf_hooks';
import { AuditEngine } from '../src/audit/engine.ts';
import { builtInConfig } from '../src/config/load.ts';
import type { KubeObject } from '../src/k8s/types.ts';
import { renderHtml } from '../src/report/html.ts';
import { buildReport } from '../src/report/model.ts';
import { buildPolicyReport } from '../src/report/policy-report.ts';
import { MutableView } from '../test/helpers/mutable-view.ts';

const NAMESPACES = Number(process.env.BENCH_AUDIT_NAMESPACES ?? 2000);
const POLICIES_PER_NS = 4;
const PODS_PER_NS = 10;

export function cluster(): MutableView {
  const objects: KubeObject[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `team-${n}`;
    // Most namespaces adopted the baseline; every tenth did not (not default-deny: violations).
    const adopted = n % 10 !== 0;
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: adopted ? { 'netfence.io/baseline': 'enabled', team: `t${n % 50}` } : { team: `t${n % 50}` } } });
    for (let p = 0; p < PODS_PER_NS; p++) {
      const tier = p < 2 ? 'data' : p < 5 ? 'logic' : 'web';
      objects.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${tier}-${p}`, namespace: ns, labels: { app: `${tier}-${p % 3}`, tier } }, spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] } });
    }
    const np = (name: string, spec: unknown): void => void objects.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
    np('default-deny', adopted ? { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } : { podSelector: { matchLabels: { app: 'none' } }, policyTypes: ['Ingress'] });
    np('allow-dns', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }] }] });
    np('web-to-logic', { podSelector: { matchLabels: { tier: 'logic' } }, ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ port: 8080 }] }] });
    // Every fifth namespace opens its data tier to every namespace: a violation.
    np('data', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [n % 5 === 0 ? { namespaceSelector: {} } : { podSelector: { matchLabels: { tier: 'logic' } } }], ports: [{ port: 5432 }] }] });
  }
  return new MutableView(objects);
}

const ms = (t0: number): string => `${(performance.now() - t0).toFixed(0)} ms`;

export function auditBenchmark(): void {
  const { config, hash } = builtInConfig();
  const view = cluster();
  const now = new Date();
  console.log(`Audit benchmark: ${NAMESPACES} namespaces, ${NAMESPACES * POLICIES_PER_NS} network policies, ${NAMESPACES * PODS_PER_NS} pods`);
  const engine = new AuditEngine(view, config, { netfenceNamespace: 'netfence-system' });
  let t0 = performance.now();
  engine.runAll(now);
  const full = performance.now() - t0;
  const judged = engine.judged;
  console.log(`  full pass:                          ${full.toFixed(0)} ms for ${judged} objects (${((full * 1000) / judged).toFixed(0)} µs per object)`);

  // One policy changes in one namespace: its data tier opened to every namespace.
  view.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'data', namespace: 'team-7' }, spec: { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] } });
  t0 = performance.now();
  engine.sync(now);
  const queued = engine.pendingCount;
  engine.judgePending(now);
  const incremental = performance.now() - t0;
  console.log(`  re-judge after one policy change:   ${incremental.toFixed(1)} ms for ${engine.judged - judged} objects re-judged (of ${judged}; queued ${queued}); ${(full / incremental).toFixed(0)}x faster than a full pass`);

  t0 = performance.now();
  engine.sync(now);
  const idle = performance.now() - t0;
  console.log(`  looking for changes, none:          ${idle.toFixed(1)} ms (every cycle of serve)`);

  t0 = performance.now();
  let results = 0;
  for (const ns of engine.namespaceNames()) results += buildPolicyReport(ns, engine.namespaceResults(ns), now).results.length;
  results += buildPolicyReport(undefined, engine.clusterResults(), now).results.length;
  console.log(`  all PolicyReports (${engine.namespaceNames().length + 1} reports, ${results} results): ${ms(t0)}`);

  t0 = performance.now();
  const data = buildReport({ view, config, configHash: hash, now, netfenceNamespace: 'netfence-system', engine });
  const model = performance.now() - t0;
  t0 = performance.now();
  const html = renderHtml(data);
  console.log(`  netfence report content: ${model.toFixed(0)} ms; HTML: ${ms(t0)} (${(html.length / 1024 / 1024).toFixed(1)} MiB, ${data.graphs.length} graphs)`);
}
