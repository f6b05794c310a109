import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHandlers } from '../../src/admission/registry.ts';
import { loadManifests } from '../../src/cluster/manifests.ts';
import { StaticClusterView } from '../../src/cluster/static.ts';
import { spawnCli, waitForLog } from '../helpers/cli.ts';
import { review, startTestServer, tempDir, type TestServer } from '../helpers/server.ts';

const WORLD = 'test/fixtures/rules/world.yaml';
const NP = { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' };
const openData = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'open-data', namespace: 'shop' },
  spec: { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 5432 }] }] },
};

describe('rules through /validate and /mutate (snapshot cluster)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      handlers: defaultHandlers(),
      cluster: new StaticClusterView(loadManifests([WORLD])),
      clock: () => new Date('2026-11-21T12:00:00Z'),
    });
  });
  afterAll(async () => server.close());

  it('refuses a policy that opens the data tier, naming rule, object and field', async () => {
    const body = review({ kind: NP, operation: 'CREATE', namespace: 'shop', name: 'open-data', object: openData });
    const { response } = (await server.post('/validate', body).expect(200)).body;
    expect(response.allowed).toBe(false);
    expect(response.status.code).toBe(403);
    expect(response.status.message).toMatch(/^netfence denied NetworkPolicy shop\/open-data \(1 violation\):\n- \[data-no-ingress-from-anywhere\] spec\.ingress\[0\]\.from\[0\]\.namespaceSelector: namespaceSelector \{\} admits every namespace, including ones created later;.*Fix: /);
    expect(response.warnings).toEqual([expect.stringMatching(/^netfence: \[data-only-from-logic\] spec\.ingress\[0\]\.from\[0\]: /)]);
    const record = server.logs().find((l) => l.uid === (body.request as { uid: string }).uid);
    expect(record).toMatchObject({
      decision: 'deny',
      kind: 'networking.k8s.io/v1/NetworkPolicy',
      namespace: 'shop',
      name: 'open-data',
      violations: [
        { rule: 'data-no-ingress-from-anywhere', mode: 'enforce', path: 'spec.ingress[0].from[0].namespaceSelector' },
        { rule: 'data-only-from-logic', mode: 'warn', path: 'spec.ingress[0].from[0]' },
      ],
    });
  });

  it('a namespace not adopted is never denied: its violations are logged in audit mode, marked', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'legacy' }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    const body = review({ kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'legacy', name: 'p', object: pod });
    const { response } = (await server.post('/validate', body).expect(200)).body;
    expect(response.allowed).toBe(true);
    expect(response.warnings).toBeUndefined();
    const record = server.logs().find((l) => l.uid === (body.request as { uid: string }).uid);
    expect(record).toMatchObject({
      decision: 'allow',
      namespace: 'legacy',
      violations: [{ rule: 'require-default-deny', mode: 'audit', path: 'metadata.namespace', downgraded: { from: 'enforce', reason: 'namespace-not-adopted' } }],
    });
  });

  it('a dry run gets exactly the same answer', async () => {
    const real = (await server.post('/validate', review({ kind: NP, namespace: 'shop', name: 'open-data', object: openData })).expect(200)).body.response;
    const dry = (await server.post('/validate', review({ kind: NP, namespace: 'shop', name: 'open-data', object: openData, dryRun: true })).expect(200)).body.response;
    expect({ ...dry, uid: '' }).toEqual({ ...real, uid: '' });
  });

  it('records applied exemptions in the decision log', async () => {
    const body = review({ kind: NP, namespace: 'legacy-billing', name: 'open-data', object: { ...openData, metadata: { name: 'open-data', namespace: 'legacy-billing' } } });
    const { response } = (await server.post('/validate', body).expect(200)).body;
    expect(response.allowed).toBe(true);
    const record = server.logs().find((l) => l.uid === (body.request as { uid: string }).uid);
    expect(record?.exemptions).toEqual([
      { id: 'legacy-billing', rule: 'data-no-ingress-from-anywhere', namespace: 'legacy-billing', status: 'applied', reason: 'moving to private link, SEC-1234', expires: '2027-01-31T00:00:00Z' },
    ]);
  });

  it('refuses a pod in a namespace that is not default-deny, and deleting the last default-deny', async () => {
    const pod = review({ namespace: 'open', name: 'web', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'open' }, spec: { containers: [] } } });
    const podAnswer = (await server.post('/validate', pod).expect(200)).body.response;
    expect(podAnswer.allowed).toBe(false);
    expect(podAnswer.status.message).toContain('[require-default-deny] metadata.namespace: namespace open is not default-deny');
    const del = review({
      kind: NP,
      operation: 'DELETE',
      namespace: 'shop',
      name: 'netfence-default-deny',
      oldObject: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'netfence-default-deny', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
    });
    const delAnswer = (await server.post('/validate', del).expect(200)).body.response;
    expect(delAnswer.allowed).toBe(false);
    expect(delAnswer.status.message).toContain('deleting NetworkPolicy netfence-default-deny would leave namespace shop without default-deny for Ingress');
  });

  it('mutates a new namespace with the baseline labels, and never overwrites', async () => {
    const ns = review({ kind: { group: '', version: 'v1', kind: 'Namespace' }, name: 'team-a', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } } });
    const answer = (await server.post('/mutate', ns).expect(200)).body.response;
    expect(JSON.parse(Buffer.from(answer.patch, 'base64').toString())).toEqual([{ op: 'add', path: '/metadata/labels', value: { 'netfence.io/baseline': 'enabled' } }]);
    const own = review({ kind: { group: '', version: 'v1', kind: 'Namespace' }, name: 'team-b', object: { metadata: { name: 'team-b', labels: { 'netfence.io/baseline': 'disabled' } } } });
    const ownAnswer = (await server.post('/mutate', own).expect(200)).body.response;
    expect(ownAnswer.patch).toBeUndefined();
    const judged = (await server.post('/validate', own).expect(200)).body.response;
    expect(judged.allowed).toBe(false);
    expect(judged.status.message).toContain('[require-default-deny] metadata.labels["netfence.io/baseline"]');
  });
});

describe('netfence serve --snapshot', () => {
  it('judges reviews against the manifests it was given', async () => {
    const certDir = tempDir();
    const child = spawnCli(['serve', '--snapshot', WORLD, '--cert-dir', certDir, '--port', '0', '--host', '127.0.0.1']);
    try {
      const started = await waitForLog(child, (l) => l.event === 'server.started');
      const url = `https://127.0.0.1:${(started.address as { port: number }).port}`;
      const ca = readFileSync(join(certDir, 'ca.crt'));
      const post = (body: unknown) => supertest(url).post('/validate').ca(ca).set('content-type', 'application/json').send(JSON.stringify(body));
      // leaky has a policy that opens every pod to every namespace: a data pod there is refused.
      const leaky = (await post(review({ namespace: 'leaky', object: { metadata: { name: 'db', labels: { tier: 'data' } } } })).expect(200)).body.response;
      expect(leaky.allowed).toBe(false);
      expect(leaky.status.message).toContain('NetworkPolicy everyone-on-80 selects this pod of tier data');
      const shop = (await post(review({ namespace: 'shop', object: { metadata: { name: 'db-1', labels: { tier: 'data' } } } })).expect(200)).body.response;
      expect(shop.allowed).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
