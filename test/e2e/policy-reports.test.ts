import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { defaultConfig } from '../../src/config/default.ts';
import { runCli } from '../helpers/cli.ts';
import { freePort, kubeconfigYaml } from './cluster/control-plane.ts';
import { cluster, eventually, kubectl, kubectlOk, Replica, useControlPlane } from './helpers.ts';

// PolicyReports written by the background audit against a real kube-apiserver. No webhook is
// installed here: objects that break the rules are created directly, as objects that existed
// before netfence was would be, and the audit must find them.

const work = mkdtempSync(join(tmpdir(), 'netfence-e2e-reports-'));
let replica: Replica;
const EXPIRY_S = 40;
let expires = 0;

interface Report {
  summary: Record<string, number>;
  metadata: { annotations?: Record<string, string> };
  results?: Array<{ policy: string; result: string; resources: Array<{ kind: string; name: string }>; properties?: Record<string, string> }>;
}

function report(namespace?: string): Report | undefined {
  const r = namespace
    ? kubectl(['get', 'policyreports.wgpolicyk8s.io', 'netfence', '-n', namespace, '-o', 'json'])
    : kubectl(['get', 'clusterpolicyreports.wgpolicyk8s.io', 'netfence', '-o', 'json']);
  return r.status === 0 ? (JSON.parse(r.stdout) as Report) : undefined;
}

function resultFor(r: Report | undefined, kind: string, name: string, policy: string): string | undefined {
  return r?.results?.find((x) => x.policy === policy && x.resources[0]?.kind === kind && x.resources[0]?.name === name)?.result;
}

const pod = (ns: string, name: string): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } });

useControlPlane();

beforeAll(async () => {
  // netfence's identity and RBAC from deploy/, plus the optional PolicyReport component.
  for (const f of ['deploy/namespace.yaml', 'deploy/serviceaccount.yaml', 'deploy/rbac.yaml', 'deploy/policyreports/crds.yaml', 'deploy/policyreports/rbac.yaml']) kubectlOk(['apply', '-n', 'netfence-system', '-f', f]);
  await eventually('CRDs established', () => kubectl(['get', 'policyreports.wgpolicyk8s.io', '-A']).status, (s) => s === 0, 30_000);
  kubectlOk(['create', 'namespace', 'shop']);
  kubectlOk(['create', 'namespace', 'legacy']);
  kubectlOk(['apply', '-f', '-'], { input: [pod('shop', 'web'), pod('legacy', 'cron')].map((p) => stringify(p)).join('---\n') });

  const token = kubectlOk(['create', 'token', 'netfence', '-n', 'netfence-system', '--duration=2h']).trim();
  const saKubeconfig = join(work, 'sa.kubeconfig');
  writeFileSync(saKubeconfig, kubeconfigYaml(cluster().server, cluster().caCert, { token }));
  // An exemption for legacy that expires while the test watches.
  expires = Date.now() + EXPIRY_S * 1000;
  const config = { ...defaultConfig(), exemptions: [{ id: 'legacy-short', namespaces: ['legacy'], rules: ['require-default-deny'], reason: 'e2e', expires: new Date(expires).toISOString() }] };
  const configFile = join(work, 'config.yaml');
  writeFileSync(configFile, stringify(config));
  const certDir = join(work, 'certs');
  expect(runCli(['certs', '--out', certDir]).status).toBe(0);
  replica = new Replica('netfence-reports', await freePort(), certDir, work);
  await replica.start(saKubeconfig, configFile);
}, 180_000);

afterAll(async () => {
  await replica?.stop();
});

describe('PolicyReports from the background audit', () => {
  it('a violation appears, is fixed, and the result turns to pass', async () => {
    const failing = await eventually('shop report with a failing pod', () => report('shop'), (r) => resultFor(r, 'Pod', 'web', 'require-default-deny') === 'fail', 60_000);
    expect(failing!.summary.fail).toBeGreaterThanOrEqual(1);
    await eventually('cluster report: shop not default-deny', () => report(), (r) => resultFor(r, 'Namespace', 'shop', 'require-default-deny') === 'fail');
    kubectlOk(['apply', '-f', '-'], { input: stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } }) });
    const fixed = await eventually('shop report: pass', () => report('shop'), (r) => resultFor(r, 'Pod', 'web', 'require-default-deny') === 'pass');
    expect(fixed!.summary.fail).toBe(0);
    await eventually('cluster report: shop default-deny', () => report(), (r) => resultFor(r, 'Namespace', 'shop', 'require-default-deny') === 'pass');
    expect(replica.logs().some((l) => l.event === 'reports.off')).toBe(false);
  }, 120_000);

  it('an exemption expires and the result changes from skip to fail', async () => {
    const skipped = await eventually('legacy report: exempted', () => report('legacy'), (r) => resultFor(r, 'Pod', 'cron', 'require-default-deny') === 'skip', 30_000);
    const skip = skipped!.results!.find((x) => x.resources[0]?.name === 'cron' && x.policy === 'require-default-deny')!;
    expect(skip.properties).toMatchObject({ exemption: 'legacy-short', exemptionStatus: 'applied', mode: 'enforce' });
    expect(Date.now()).toBeLessThan(expires);
    const after = await eventually('legacy report: exemption expired', () => report('legacy'), (r) => resultFor(r, 'Pod', 'cron', 'require-default-deny') === 'fail', EXPIRY_S * 1000 + 30_000);
    expect(Date.now()).toBeGreaterThanOrEqual(expires);
    expect(after!.results!.find((x) => x.resources[0]?.name === 'cron' && x.policy === 'require-default-deny')!.properties).toMatchObject({ exemption: 'legacy-short', exemptionStatus: 'expired' });
  }, 120_000);

  it('a Deployment whose pods a rule would deny is judged from the watched workloads', async () => {
    // vault opens tier data to every namespace; a tier-data Deployment there breaks
    // data-no-ingress-from-anywhere (no controller runs here: the Deployment has no pods).
    kubectlOk(['create', 'namespace', 'vault']);
    const open = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'open-data', namespace: 'vault' }, spec: { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] } };
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'db', namespace: 'vault' },
      spec: { selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db', tier: 'data' } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 5432 }] }] } } },
    };
    kubectlOk(['apply', '-f', '-'], { input: [open, deployment].map((o) => stringify(o)).join('---\n') });
    const r = await eventually('vault report: the Deployment fails', () => report('vault'), (x) => resultFor(x, 'Deployment', 'db', 'data-no-ingress-from-anywhere') === 'fail', 60_000);
    expect(r!.results!.some((x) => x.resources[0]?.kind === 'Pod')).toBe(false);
  }, 120_000);

  it('a report never exceeds its cap, with thousands of violating objects', async () => {
    const N = 2000;
    kubectlOk(['create', 'namespace', 'crowd']);
    const items = Array.from({ length: N }, (_, i) => pod('crowd', `p-${i}`));
    const r = kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
    expect(r.status).toBe(0);
    const full = await eventually('crowd report counts every pod', () => report('crowd'), (x) => x?.summary.fail === N, 120_000);
    expect(full!.results!.length).toBe(500);
    expect(full!.results!.every((x) => x.result === 'fail')).toBe(true);
    expect(full!.metadata.annotations).toMatchObject({ 'netfence.io/results-cap': '500', 'netfence.io/results-omitted': String(N * 3 - 500) });
    expect(full!.summary.pass).toBe(N * 2);
  }, 300_000);

  it('netfence report --kubeconfig reads the live cluster (read-only) and says the same', () => {
    // To a file: 2,000 violations with their messages are more than spawnSync's stdout buffer.
    const out = join(work, 'report.json');
    const r = runCli(['report', '--kubeconfig', cluster().kubeconfig, '-o', 'json', '--out', out]);
    expect(r.stderr).toContain(`report written to ${out}`);
    expect(r.status).toBe(0);
    const data = JSON.parse(readFileSync(out, 'utf8')) as { coverage: { list: Array<{ name: string; pods: number; defaultDeny: Record<string, boolean> }> }; violations: { byNamespace: Array<{ namespace: string; fail: number }> } };
    const by = Object.fromEntries(data.coverage.list.map((n) => [n.name, n]));
    expect(by.shop).toMatchObject({ pods: 1, defaultDeny: { ingress: true, egress: true } });
    expect(by.crowd!.pods).toBe(2000);
    // The crowd pods and the crowd Namespace itself: not default-deny.
    expect(data.violations.byNamespace.find((n) => n.namespace === 'crowd')?.fail).toBe(2001);
  }, 120_000);
});
