import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer, json, status } from '../helpers/fake-api-server.ts';
import { tempDir } from '../helpers/server.ts';

// Live mode against a loopback fake API server: the CLI lists (read-only, plain JSON) and
// answers as it would from files. The CLI runs in a child process, asynchronously, so that
// this process's fake server can answer it.

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

const template = (labels: Record<string, string>, port: { name: string; containerPort: number }) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', image: 'x', ports: [port] }] },
});
const owner = (kind: string, name: string) => [{ apiVersion: 'apps/v1', kind, name, uid: 'u', controller: true }];
const CLUSTER: Record<string, unknown[]> = {
  '/api/v1/namespaces': [{ metadata: { name: 'production', labels: { 'kubernetes.io/metadata.name': 'production', 'netfence.io/baseline': 'enabled' } } }],
  '/api/v1/pods': [
    {
      metadata: { name: 'api-5d8f-abcde', namespace: 'production', labels: { app: 'api', tier: 'logic' }, ownerReferences: owner('ReplicaSet', 'api-5d8f') },
      spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
      status: { podIP: '10.244.0.7' },
    },
  ],
  '/apis/networking.k8s.io/v1/networkpolicies': [
    { metadata: { name: 'netfence-default-deny', namespace: 'production' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
    {
      metadata: { name: 'postgres-from-api', namespace: 'production' },
      spec: { podSelector: { matchLabels: { tier: 'data' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 'pg' }] }] },
    },
    {
      metadata: { name: 'api-to-postgres', namespace: 'production' },
      spec: { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { tier: 'data' } } }] }] },
    },
  ],
  '/apis/apps/v1/deployments': [{ metadata: { name: 'api', namespace: 'production' }, spec: { template: template({ app: 'api', tier: 'logic' }, { name: 'http', containerPort: 8080 }) } }],
  '/apis/apps/v1/statefulsets': [{ metadata: { name: 'postgres', namespace: 'production' }, spec: { template: template({ app: 'postgres', tier: 'data' }, { name: 'pg', containerPort: 5432 }) } }],
  '/apis/apps/v1/replicasets': [{ metadata: { name: 'api-5d8f', namespace: 'production', ownerReferences: owner('Deployment', 'api') }, spec: { template: template({ app: 'api', tier: 'logic' }, { name: 'http', containerPort: 8080 }) } }],
};

let server: FakeApiServer;
let kubeconfig: string;
let url: string;
beforeAll(async () => {
  server = new FakeApiServer((req, _body, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.headers.authorization !== 'Bearer live-token') return status(res, 401, 'Unauthorized', 'Unauthorized');
    if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', 'read-only test server');
    // Every list the CLI asks for exists (empty when the cluster has none of the kind).
    json(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: CLUSTER[path] ?? [] });
  });
  url = await server.listen();
  kubeconfig = join(tempDir(), 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters: [{name: c, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: live-token}}]\ncontexts: [{name: test, context: {cluster: c, user: u}}]\n`,
  );
});
afterAll(async () => {
  await server.close();
});

describe('live mode (--kubeconfig): Namespaces, Pods, workloads and NetworkPolicies read from the cluster', () => {
  it('reach between workloads, through a policy whose from survives the read (plain JSON)', async () => {
    const r = await run(['reach', '--kubeconfig', kubeconfig, '--from', 'production/api', '--to', 'production/postgres', '--port', 'pg']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('allowed: production/deployment/api -> production/statefulset/postgres TCP/5432 (pg)');
    expect(r.stdout).toContain('admitted by policy postgres-from-api, rule spec.ingress[0]');
    // A pod the ReplicaSet made is found by its own name too.
    const pod = await run(['reach', '--kubeconfig', kubeconfig, '--from', 'production/api-5d8f-abcde', '--to', 'production/postgres', '--port', '5432']);
    expect(pod.status).toBe(0);
  });

  it('exposure lists workloads, not the ReplicaSet or the pods it made', async () => {
    const r = await run(['exposure', '--kubeconfig', kubeconfig]);
    expect(r.status).toBe(0);
    const names = r.stdout.split('\n').filter((l) => /^\S/.test(l) && !l.startsWith('all ') && !l.startsWith('not '));
    expect(names).toEqual(['production/deployment/api', 'production/statefulset/postgres']);
  });

  it('check -f new.yaml --kubeconfig: what admission would say if the file were applied now', async () => {
    const file = join(tempDir(), 'change.yaml');
    writeFileSync(
      file,
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: postgres-from-api, namespace: production}\nspec:\n  podSelector: {matchLabels: {tier: data}}\n  ingress: [{from: [{namespaceSelector: {}}]}]\n',
    );
    const r = await run(['check', '-f', file, '--kubeconfig', kubeconfig]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('NetworkPolicy production/postgres-from-api (update): DENY');
    // The live postgres (a StatefulSet's pods) is what the data tier rule finds.
    expect(r.stdout).toContain('[data-no-ingress-from-anywhere]');
    expect(r.stdout).toContain('assuming the baseline netfence keeps in the namespaces it manages (production): production/netfence-allow-dns');
    expect(server.requests.every((q) => q.method === 'GET')).toBe(true);
  });

  it('diff --kubeconfig F --after new.yaml: the live cluster is the before', async () => {
    const file = join(tempDir(), 'change.yaml');
    writeFileSync(
      file,
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: postgres-from-api, namespace: production}\nspec:\n  podSelector: {matchLabels: {tier: data}}\n  ingress: [{from: [{namespaceSelector: {}}], ports: [{port: pg}]}]\n',
    );
    const r = await run(['diff', '--kubeconfig', kubeconfig, '--after', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('production/statefulset/postgres\n  ingress newly admits (from): allNamespaces on TCP/5432 (pg); otherNamespaces on TCP/5432 (pg)');
    expect(r.stdout).not.toContain('connections no longer allowed');
  });

  const bad: Array<[string, () => string[], RegExp]> = [
    ['a missing kubeconfig', () => ['reach', '--kubeconfig', '/nonexistent/kubeconfig', '--from', 'a/b', '--to', 'a/c', '--port', '1'], /--kubeconfig \/nonexistent\/kubeconfig: no such file/],
    [
      'a malformed kubeconfig',
      () => {
        const f = join(tempDir(), 'kc');
        writeFileSync(f, 'current-context: [\n');
        return ['exposure', '--kubeconfig', f];
      },
      /kubeconfig .*kc: .*cannot read the kubeconfig/,
    ],
    [
      'a kubeconfig whose context does not exist',
      () => {
        const f = join(tempDir(), 'kc');
        writeFileSync(f, 'current-context: nope\ncontexts: []\n');
        return ['exposure', '--kubeconfig', f];
      },
      /current-context "nope" is not among its contexts/,
    ],
    [
      'a cluster that refuses the credentials',
      () => {
        const f = join(tempDir(), 'kc');
        writeFileSync(f, `current-context: t\nclusters: [{name: c, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: wrong}}]\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n`);
        return ['exposure', '--kubeconfig', f];
      },
      /reading cluster http:\/\/127\.0\.0\.1:\d+: .*Unauthorized/,
    ],
  ];
  it.each(bad)('%s: exit 2, a clear message, no stack trace', async (_n, args, message) => {
    const r = await run(args());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
