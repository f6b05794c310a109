import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHandlers } from '../../src/admission/registry.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Wrong types, deep nesting, huge maps and prototype keys, anywhere in the envelope and the
// objects, sent to the real HTTPS server with the handlers netfence serves with.

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** An object whose keys may be `__proto__` and friends as own properties, as JSON.parse makes them. */
function record(entries: Array<[string, unknown]>): Record<string, unknown> {
  const o = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of entries) o[k] = v;
  return o;
}

const key = fc.oneof(fc.constantFrom(...PROTO_KEYS, 'app', 'tier', 'kubernetes.io/metadata.name', ''), fc.string({ maxLength: 8 }));
const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const protoObject = fc.array(fc.tuple(key, fc.oneof(scalar, fc.jsonValue({ maxDepth: 2 }))), { maxLength: 6 }).map(record);
const deep = fc.tuple(fc.integer({ min: 100, max: 1_000 }), fc.constantFrom('array', 'object', 'matchLabels')).map(([depth, shape]) => {
  let v: unknown = 'bottom';
  // One child per level: a shared child twice per level would be 2^depth in JSON.
  for (let i = 0; i < depth; i++) v = shape === 'array' ? [v] : shape === 'object' ? { a: v } : { podSelector: { matchLabels: v } };
  return v;
});
const hugeMap = fc.tuple(fc.integer({ min: 1_000, max: 10_000 }), fc.boolean()).map(([n, numeric]) => {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) o[`k${i}.example.com/x`] = numeric ? i : `v${i}`;
  return o;
});
// Deep and huge values are rarer: a few per run keep the run within seconds.
const weird = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: protoObject },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 5 }) },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: hugeMap },
);
/** Mostly a plausible value, sometimes anything at all. */
const field = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: weird });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const labels = fc.oneof(fc.dictionary(key, fc.oneof(fc.constantFrom('data', 'logic', 'enabled', 'kube-dns'), fc.string({ maxLength: 6 })), { maxKeys: 4 }).map((d) => record(Object.entries(d))), protoObject);
const selector = fc.record({ matchLabels: maybe(field(labels)), matchExpressions: maybe(field(fc.array(fc.record({ key: field(key), operator: field(fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist', 'Bogus')), values: maybe(field(fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }))) }), { maxLength: 3 }))) }, { requiredKeys: [] });
const port = fc.record({ protocol: maybe(field(fc.constantFrom('TCP', 'UDP', 'SCTP', 'ICMP'))), port: maybe(field(fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.string({ maxLength: 6 })))), endPort: maybe(field(fc.integer({ min: -5, max: 70_000 }))) }, { requiredKeys: [] });
const cidr = fc.oneof(fc.constantFrom('0.0.0.0/0', '10.0.0.0/8', '::/0', '192.168.1.1/32', '300.1.1.1/8', 'x'), fc.ipV4().map((ip) => `${ip}/24`));
const peer = fc.record({ podSelector: maybe(field(selector)), namespaceSelector: maybe(field(selector)), ipBlock: maybe(field(fc.record({ cidr: field(cidr), except: maybe(field(fc.array(cidr, { maxLength: 3 }))) }))) }, { requiredKeys: [] });
const rule = (dir: 'from' | 'to') => fc.record({ [dir]: maybe(field(fc.array(field(peer), { maxLength: 4 }))), ports: maybe(field(fc.array(field(port), { maxLength: 3 }))) }, { requiredKeys: [] });
const npSpec = fc.record({ podSelector: field(selector), policyTypes: maybe(field(fc.array(fc.constantFrom('Ingress', 'Egress', 'Sideways'), { maxLength: 3 }))), ingress: maybe(field(fc.array(field(rule('from')), { maxLength: 3 }))), egress: maybe(field(fc.array(field(rule('to')), { maxLength: 3 }))) }, { requiredKeys: [] });
const podSpec = fc.record({ containers: field(fc.array(fc.record({ name: field(fc.string({ maxLength: 5 })), ports: maybe(field(fc.array(fc.record({ name: maybe(field(fc.string({ maxLength: 5 }))), containerPort: field(fc.integer({ min: -1, max: 70_000 })), protocol: maybe(field(fc.constantFrom('TCP', 'UDP'))) }, { requiredKeys: [] }), { maxLength: 3 }))) }, { requiredKeys: [] }), { maxLength: 3 })) }, { requiredKeys: [] });
const metadata = fc.record({ name: maybe(field(fc.string({ maxLength: 10 }))), namespace: maybe(field(fc.constantFrom('shop', 'kube-system', 'netfence-system', ''))), labels: maybe(field(labels)), annotations: maybe(field(labels)) }, { requiredKeys: [] });
const template = fc.record({ metadata: maybe(field(metadata)), spec: maybe(field(podSpec)) }, { requiredKeys: [] });
const workloadSpec = fc.record({ template: maybe(field(template)), jobTemplate: maybe(field(fc.record({ spec: field(fc.record({ template: field(template) })) }))) }, { requiredKeys: [] });
const object = fc.record({ apiVersion: maybe(field(fc.constantFrom('v1', 'apps/v1', 'networking.k8s.io/v1'))), kind: maybe(field(fc.string({ maxLength: 10 }))), metadata: maybe(field(metadata)), spec: maybe(field(fc.oneof(npSpec, podSpec, workloadSpec))) }, { requiredKeys: [] });

const KINDS: Array<[string, string]> = [['', 'Pod'], ['', 'Namespace'], ['networking.k8s.io', 'NetworkPolicy'], ['apps', 'Deployment'], ['apps', 'DaemonSet'], ['batch', 'CronJob'], ['batch', 'Job'], ['', 'ConfigMap'], ['x.io', 'Thing']];
const gvk = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...KINDS).map(([group, kind]) => ({ group, version: 'v1', kind })) }, { weight: 1, arbitrary: weird });
const request = fc.record(
  {
    uid: field(fc.uuid()),
    kind: gvk,
    operation: field(fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT')),
    namespace: maybe(field(fc.constantFrom('shop', 'team-a', 'kube-system', 'netfence-system'))),
    name: maybe(field(fc.string({ maxLength: 10 }))),
    userInfo: maybe(field(fc.record({ username: field(fc.constantFrom('alice', 'system:admin')), groups: maybe(field(fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }))) }, { requiredKeys: [] }))),
    object: maybe(field(object)),
    oldObject: maybe(field(object)),
    dryRun: maybe(field(fc.boolean())),
  },
  { requiredKeys: ['uid', 'kind', 'operation'] },
);
const envelope = fc.record({
  apiVersion: field(fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1')),
  kind: field(fc.constant('AdmissionReview')),
  request: field(request),
});
const body = fc.oneof({ weight: 8, arbitrary: envelope }, { weight: 1, arbitrary: weird });

interface Sent {
  path: string;
  text: string;
}

/** What the API server requires of a 200 answer (and what 4xx answers look like). */
function checkAnswer(sent: Sent, status: number, text: string): void {
  expect(status, text.slice(0, 300)).toBeLessThan(500);
  const answer = JSON.parse(text) as Record<string, unknown>;
  if (status !== 200) {
    expect(typeof answer.error).toBe('string');
    return;
  }
  const review = JSON.parse(sent.text) as { apiVersion: string; request: { uid: unknown; object?: unknown } };
  expect(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']).toContain(review.apiVersion);
  expect(answer.apiVersion).toBe(review.apiVersion);
  expect(answer.kind).toBe('AdmissionReview');
  const response = answer.response as Record<string, unknown>;
  expect(typeof response.uid).toBe('string');
  expect(response.uid).toBe(review.request.uid);
  expect(typeof response.allowed).toBe('boolean');
  if (response.allowed === false) expect(typeof (response.status as { code: unknown }).code).toBe('number');
  if (response.warnings !== undefined) {
    expect(Array.isArray(response.warnings)).toBe(true);
    for (const w of response.warnings as unknown[]) expect(typeof w).toBe('string');
  }
  if (response.patch !== undefined || response.patchType !== undefined) {
    expect(sent.path).toBe('/mutate');
    expect(response.patchType).toBe('JSONPatch');
    expect(typeof response.patch).toBe('string');
    const ops = JSON.parse(Buffer.from(response.patch as string, 'base64').toString('utf8')) as jsonpatch.Operation[];
    expect(Array.isArray(ops)).toBe(true);
    // The patch applies to the object as sent (validated as RFC 6902 operations).
    jsonpatch.applyPatch(review.request.object, ops, true, true);
  }
}

describe('fuzzed reviews over HTTPS', () => {
  let server: TestServer;
  let pool: Pool;
  beforeAll(async () => {
    server = await startTestServer({ handlers: defaultHandlers() });
    pool = new Pool(server.url, { connections: 4, pipelining: 1, connect: { ca: server.ca, servername: 'localhost' } });
  });
  afterAll(async () => {
    await pool.close();
    await server.close();
  });

  it('never a 5xx, and every 200 is an answer the API server accepts', async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('/validate', '/mutate'), async (value, path) => {
        const sent = { path, text: JSON.stringify(value) ?? 'null' };
        const res = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: sent.text });
        checkAnswer(sent, res.statusCode, await res.body.text());
      }),
      { numRuns: Number(process.env.NETFENCE_FUZZ_RUNS ?? 200), endOnFailure: process.env.NETFENCE_FUZZ_SHRINK !== '1' },
    );
    // Still serving.
    await server.get('/healthz').expect(200);
  });

  it('Namespace CREATE on /mutate: every patch has its patchType and applies to the object sent', async () => {
    const namespaceReview = fc.record({ uid: fc.uuid(), object: field(object), name: maybe(fc.string({ maxLength: 10 })) }).map(({ uid, object: obj, name }) => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid, kind: { group: '', version: 'v1', kind: 'Namespace' }, operation: 'CREATE', name, userInfo: {}, object: obj },
    }));
    let patched = 0;
    await fc.assert(
      fc.asyncProperty(namespaceReview, async (value) => {
        const sent = { path: '/mutate', text: JSON.stringify(value) };
        const res = await pool.request({ path: '/mutate', method: 'POST', headers: { 'content-type': 'application/json' }, body: sent.text });
        const text = await res.body.text();
        checkAnswer(sent, res.statusCode, text);
        if (text.includes('"patch"')) patched += 1;
      }),
      { numRuns: Number(process.env.NETFENCE_FUZZ_RUNS ?? 100), endOnFailure: process.env.NETFENCE_FUZZ_SHRINK !== '1' },
    );
    // The property saw patches, not only refusals.
    expect(patched).toBeGreaterThan(10);
  });
});
