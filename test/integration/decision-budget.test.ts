import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHandlers } from '../../src/admission/registry.ts';
import { BOUNDS, runeCount } from '../../src/admission/bounds.ts';
import { loadManifests } from '../../src/cluster/manifests.ts';
import { StaticClusterView } from '../../src/cluster/static.ts';
import type { KubeObject } from '../../src/k8s/types.ts';
import { LARGE_POLICIES, largeNamespace, MAX_OBJECT_BYTES } from '../helpers/large-objects.ts';
import { review, startTestServer, type TestServer } from '../helpers/server.ts';

// The decision budget over the real HTTPS server: work grows linearly with the object. Each
// case times the same shape at n and at 16n (CPU time of this process, which runs both the
// client and the server, best of three, so that other processes on the machine do not count)
// and requires the ratio to stay well under the quadratic one (16² = 256): the bound, 64, is
// 4x the linear ratio. No absolute time is asserted.

const NP = { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' };
const NS = { group: '', version: 'v1', kind: 'Namespace' };
const SCALE = 16;
const BOUND = 64;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

describe('decision budget: linear in the size of the object', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ handlers: defaultHandlers(), cluster: new StaticClusterView(loadManifests(['test/fixtures/rules/world.yaml'])) });
  });
  afterAll(async () => server.close());

  async function decide(endpoint: string, body: string): Promise<{ ms: number; response: Record<string, unknown>; bytes: number }> {
    const t0 = cpuMs();
    const res = await server.post(endpoint, body).expect(200);
    return { ms: cpuMs() - t0, response: res.body.response as Record<string, unknown>, bytes: res.text.length };
  }

  async function best(endpoint: string, body: string): Promise<number> {
    let min = Infinity;
    for (let i = 0; i < 3; i++) min = Math.min(min, (await decide(endpoint, body)).ms);
    return min;
  }

  const policyCase = (name: string, n: number): [string, string, (k: number) => string, number] => [
    `${name}: ${n} vs ${n * SCALE}`,
    '/validate',
    (k) => JSON.stringify(review({ kind: NP, namespace: 'shop', name: 'large', object: LARGE_POLICIES[name]!(k) })),
    n,
  ];
  const cases: Array<[string, string, (n: number) => string, number]> = [
    // Sizes kept modest: the suite runs on a shared machine, beside timing-sensitive tests.
    policyCase('ipBlocks', 1000),
    policyCase('excepts', 2000),
    policyCase('rules', 500),
    policyCase('namespaceValues', 2000),
    policyCase('podSelectorLabels', 2000),
    ['namespace labels (mutation patch): 2000 vs 32000', '/mutate', (k) => JSON.stringify(review({ kind: NS, name: 'large', object: largeNamespace(k) })), 2000],
  ];

  it.each(cases)('%s', async (_name, endpoint, make, n) => {
    const small = make(n);
    const large = make(n * SCALE);
    expect(large.length).toBeLessThan(MAX_OBJECT_BYTES + 4096);
    await decide(endpoint, small); // warm-up: JIT, TLS session
    const ratio = (await best(endpoint, large)) / (await best(endpoint, small));
    expect(ratio, `time ratio for ${SCALE}x the size`).toBeLessThan(BOUND);
  }, 120_000);

  it('a 3 MiB policy with 100,000 violations gets a bounded answer and a bounded log line', async () => {
    // n ingress rules: every rule is outside the allowed sources (warn), every other one admits 0.0.0.0/0 (enforce).
    const n = 66_000;
    const enforced = Math.floor(n / 2);
    const object = LARGE_POLICIES.rules!(n);
    expect(JSON.stringify(object).length).toBeLessThanOrEqual(MAX_OBJECT_BYTES);
    const body = review({ kind: NP, namespace: 'shop', name: 'large', object });
    // Identity fields of the wrong type and size: never copied into the record.
    const request = body.request as Record<string, unknown>;
    request.userInfo = { username: { spoof: 'x'.repeat(100_000) }, groups: Array.from({ length: 5000 }, (_, i) => `group-${i}-${'y'.repeat(500)}`) };
    const { response, bytes } = await decide('/validate', JSON.stringify(body));
    expect(response.allowed).toBe(false);
    const message = (response.status as { message: string }).message;
    expect(message).toContain(`(${enforced} violations)`);
    expect(message).toContain(`…and ${enforced - BOUNDS.messageViolations} more violations; see the decision log`);
    expect(message.split('\n')).toHaveLength(1 + BOUNDS.messageViolations + 1);
    const warnings = response.warnings as string[];
    expect(warnings.reduce((sum, w) => sum + runeCount(w), 0)).toBeLessThanOrEqual(BOUNDS.warningTotalRunes);
    expect(warnings.at(-1)).toMatch(/^netfence: …and \d+ more warnings; see the decision log$/);
    expect(bytes).toBeLessThan(32 * 1024);

    const uid = request.uid as string;
    const record = server.logs().find((l) => l.uid === uid)!;
    expect(record).toMatchObject({ user: '(not a string: object)', omitted: { violations: n + enforced - BOUNDS.recordItems, groups: 5000 - BOUNDS.groups } });
    expect(record.groups).toHaveLength(BOUNDS.groups);
    expect(record.violations).toHaveLength(BOUNDS.recordItems);
    expect(JSON.stringify(record).length).toBeLessThan(512 * 1024);
  }, 120_000);

  it('a pod opened by 250 policies gets a denial of ten violations and a count', async () => {
    const policies: KubeObject[] = Array.from({ length: 250 }, (_, i) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `open-${i}`, namespace: 'crowd' },
      spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] },
    }));
    // An adopted namespace (baseline labels): only there are rules enforced (src/rules/scope.ts).
    const crowdNamespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crowd', labels: { 'netfence.io/baseline': 'enabled' } } };
    const view = new StaticClusterView([
      ...loadManifests(['test/fixtures/rules/world.yaml']),
      ...[crowdNamespace, ...policies].map((object) => ({ object, source: { file: 't', document: 0, path: '' } })),
    ]);
    const crowd = await startTestServer({ handlers: defaultHandlers(), cluster: view });
    try {
      const res = await crowd.post('/validate', review({ namespace: 'crowd', name: 'db', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db', namespace: 'crowd', labels: { tier: 'data' } } } })).expect(200);
      const message = res.body.response.status.message as string;
      expect(message).toContain('…and ');
      expect(message.length).toBeLessThan(BOUNDS.messageViolations * (BOUNDS.violationRunes + 64) + 1024);
      expect(res.text.length).toBeLessThan(16 * 1024);
    } finally {
      await crowd.close();
    }
  });
});
