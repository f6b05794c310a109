import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adopt } from '../../src/cli/adopt.ts';
import { UsageError } from '../../src/cli/usage.ts';
import { FakeApiServer, json, status } from '../helpers/fake-api-server.ts';
import { tempDir } from '../helpers/server.ts';

// netfence adopt against a stand-in API server: what it reads, what it prints, what it writes.
const NAMESPACES = [
  { metadata: { name: 'shop', resourceVersion: '10', labels: { 'kubernetes.io/metadata.name': 'shop' } } },
  { metadata: { name: 'done', labels: { 'kubernetes.io/metadata.name': 'done', 'netfence.io/baseline': 'enabled' } } },
  { metadata: { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } } },
];
const PODS: Record<string, unknown[]> = {
  shop: [
    { metadata: { name: 'web-7f9c-abcde', namespace: 'shop', labels: { app: 'web', 'pod-template-hash': '7f9c' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7f9c', controller: true }] } },
    { metadata: { name: 'db-0', namespace: 'shop', labels: { app: 'db' }, ownerReferences: [{ kind: 'StatefulSet', name: 'db', controller: true }] } },
  ],
};
const POLICIES: Record<string, unknown[]> = {
  shop: [{ metadata: { name: 'db-from-web', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] } }],
};

describe('netfence adopt', () => {
  const server = new FakeApiServer((req, body, res) => {
    const url = new URL(req.url ?? '', 'http://x');
    const list = (items: unknown[] = []): void => json(res, 200, { metadata: { resourceVersion: '1' }, items });
    if (req.method === 'GET' && url.pathname === '/api/v1/namespaces') return list(NAMESPACES);
    let m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    if (req.method === 'GET' && m) return list(PODS[m[1]!]);
    if (req.method === 'GET' && url.pathname === '/api/v1/pods') return list(Object.values(PODS).flat());
    m = /^\/apis\/networking.k8s.io\/v1\/namespaces\/([^/]+)\/networkpolicies$/.exec(url.pathname);
    if (req.method === 'GET' && m) return list(POLICIES[m[1]!]);
    if (req.method === 'GET' && url.pathname === '/apis/networking.k8s.io/v1/networkpolicies') return list(Object.values(POLICIES).flat());
    if (req.method === 'PATCH' && url.pathname === '/api/v1/namespaces/shop') return json(res, 200, JSON.parse(body) && NAMESPACES[0]);
    status(res, 404, 'NotFound', `${req.method} ${url.pathname} not found`);
  });
  let kubeconfig = '';
  beforeAll(async () => {
    const url = await server.listen();
    kubeconfig = join(tempDir(), 'kubeconfig');
    writeFileSync(kubeconfig, FakeApiServer.kubeConfig(url).exportConfig());
  });
  afterAll(() => server.close());

  async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await adopt([...args, '--kubeconfig', kubeconfig], { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  const patches = (): Array<{ url: string; body: string; type: string | undefined }> =>
    server.requests.filter((r) => r.method === 'PATCH').map((r) => ({ url: r.url, body: r.body, type: r.headers['content-type'] }));

  it('--dry-run says what adopting cuts, per workload, and changes nothing', async () => {
    const r = await run(['shop', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('shop: namespace shop is not adopted');
    expect(r.out).toContain('    Deployment/web (1 pod: web-7f9c-abcde)\n      ingress: every ingress connection is cut');
    expect(r.out).toContain('    StatefulSet/db (1 pod: db-0)\n      ingress: unchanged (already isolated by db-from-web)\n      egress: every egress connection is cut except netfence-allow-dns');
    expect(r.out).toContain('dry run: the API server accepted the labels; nothing was changed');
    expect(r.out).not.toContain('shop: adopted');
    // The same patch, as a server-side dry run: permissions and admission are checked, nothing stored.
    expect(patches().map((p) => p.url)).toEqual(['/api/v1/namespaces/shop?dryRun=All']);
    server.requests.length = 0;
  });

  it('labels the namespace with a JSON patch after saying what it does', async () => {
    const r = await run(['shop']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/cut traffic that is allowed today[\s\S]*\nshop: adopted$/);
    expect(patches()).toEqual([{ url: '/api/v1/namespaces/shop', body: JSON.stringify([{ op: 'add', path: '/metadata/labels/netfence.io~1baseline', value: 'enabled' }]), type: 'application/json-patch+json' }]);
  });

  it('--all adopts every namespace not adopted and not excluded', async () => {
    const before = patches().length;
    const r = await run(['--all', '-o', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { plans: Array<{ namespace: string; action: string }> };
    expect(out.plans.map((p) => `${p.namespace}:${p.action}`)).toEqual(['shop:adopt']);
    expect(patches().slice(before).map((p) => p.url)).toEqual(['/api/v1/namespaces/shop']);
  });

  it('refuses, changing nothing, when a named namespace is excluded or unknown (exit 2)', async () => {
    const before = patches().length;
    const r = await run(['shop', 'kube-system', 'nope']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('namespace kube-system is excluded');
    expect(r.err).toContain('namespace nope does not exist');
    expect(r.err).toContain('nothing was changed');
    expect(patches().length).toBe(before);
  });

  it('an adopted namespace is left alone', async () => {
    const r = await run(['done']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('done: adopted: namespace done is adopted already');
  });

  it('usage mistakes are UsageErrors (exit 2)', async () => {
    await expect(run([])).rejects.toThrow(UsageError);
    await expect(run(['shop', '--all'])).rejects.toThrow(UsageError);
  });

  it('a kubeconfig that does not load is a usage error; an API failure is exit 1 with the server named', async () => {
    await expect(adopt(['shop', '--kubeconfig', join(tempDir(), 'missing')], { out: () => {}, err: () => {} })).rejects.toThrow(/kubeconfig .*missing: cannot load it/);
    const forbidden = new FakeApiServer((_req, _body, res) => status(res, 403, 'Forbidden', 'namespaces is forbidden: User "x" cannot list resource "namespaces"'));
    const url = await forbidden.listen();
    const file = join(tempDir(), 'kubeconfig');
    writeFileSync(file, FakeApiServer.kubeConfig(url).exportConfig());
    const err: string[] = [];
    const code = await adopt(['shop', '--kubeconfig', file], { out: () => {}, err: (l) => err.push(l) });
    await forbidden.close();
    expect(code).toBe(1);
    expect(err.join('\n')).toContain(`netfence: adopt: namespaces is forbidden: User "x" cannot list resource "namespaces" (API server ${url}/)`);
  });
});
