import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { REPO, runCli } from '../helpers/cli.ts';
import { startControlPlane, type ControlPlane } from './cluster/control-plane.ts';

// The CLI's live mode against a real kube-apiserver: objects as the API server stores them
// (defaults applied, workloads under apps/v1 and batch/v1), read with --kubeconfig. No webhook
// is registered: this is about reading, not admission.

let plane: ControlPlane;
const work = mkdtempSync(join(tmpdir(), 'netfence-e2e-cli-'));

function kubectl(args: string[], input = ''): string {
  const r = spawnSync('kubectl', ['--kubeconfig', plane.kubeconfig, ...args], { cwd: REPO, encoding: 'utf8', input, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const workload = (kind: string, name: string, labels: Record<string, string>, port: { name: string; containerPort: number }) => ({
  apiVersion: 'apps/v1',
  kind,
  metadata: { name, namespace: 'shop' },
  spec: {
    selector: { matchLabels: labels },
    ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
    template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'registry.invalid/x', ports: [port] }] } },
  },
});
const np = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'shop' }, spec });

beforeAll(async () => {
  plane = await startControlPlane(inject('e2eBin'));
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'netfence.io/baseline': 'enabled' } } },
    workload('Deployment', 'api', { app: 'api', tier: 'logic' }, { name: 'http', containerPort: 8080 }),
    workload('StatefulSet', 'postgres', { app: 'postgres', tier: 'data' }, { name: 'pg', containerPort: 5432 }),
    // Stored without podSelector: the API server defaults it to {}.
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'netfence-default-deny', namespace: 'shop' }, spec: { policyTypes: ['Ingress', 'Egress'] } },
    np('postgres-from-api', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 'pg' }] }] }),
    np('api-to-postgres', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { tier: 'data' } } }], ports: [{ port: 5432 }] }] }),
  ];
  kubectl(['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
}, 600_000);

afterAll(async () => {
  await plane?.stop();
});

describe('CLI live mode against kube-apiserver', () => {
  it('reach between workloads read from the cluster', () => {
    const r = runCli(['reach', '--kubeconfig', plane.kubeconfig, '--from', 'shop/api', '--to', 'shop/postgres', '--port', 'pg']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('allowed: shop/deployment/api -> shop/statefulset/postgres TCP/5432 (pg)');
    const back = runCli(['reach', '--kubeconfig', plane.kubeconfig, '--from', 'shop/postgres', '--to', 'shop/api', '--port', 'http']);
    expect(back.status).toBe(1);
  });

  it('exposure lists the workloads', () => {
    const r = runCli(['exposure', '--kubeconfig', plane.kubeconfig, '-n', 'shop']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('shop/statefulset/postgres\n  ingress: isolated by netfence-default-deny, postgres-from-api\n    from pods app=api in shop on TCP/5432 (pg)');
    expect(r.stdout).toContain('shop/deployment/api\n');
  });

  it('check -f change.yaml --kubeconfig: an update that opens the data tier is denied', () => {
    const file = join(work, 'change.yaml');
    writeFileSync(file, stringify(np('postgres-from-api', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] })));
    const r = runCli(['check', '-f', file, '--kubeconfig', plane.kubeconfig]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('NetworkPolicy shop/postgres-from-api (update): DENY');
    expect(r.stdout).toContain('[data-no-ingress-from-anywhere]');
    // Nothing was written: the live policy is unchanged.
    expect(kubectl(['get', 'networkpolicy', 'postgres-from-api', '-n', 'shop', '-o', 'jsonpath={.spec.ingress[0].from[0].podSelector.matchLabels.app}'])).toBe('api');
  });
});
