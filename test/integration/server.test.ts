import { request as httpsRequest } from 'node:https';
import { connect } from 'node:tls';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyVerdict } from '../../src/admission/context.ts';
import { HandlerTable } from '../../src/admission/handlers.ts';
import { BODY_LIMIT_BYTES } from '../../src/server/app.ts';
import { review, startTestServer, type TestServer } from '../helpers/server.ts';

function decodePatch(patch: string): unknown {
  return JSON.parse(Buffer.from(patch, 'base64').toString('utf8'));
}

describe('HTTPS server', () => {
  let server: TestServer;

  beforeAll(async () => {
    const handlers = new HandlerTable()
      .register('validate', 'test.netfence.io', 'Boom', ['CREATE'], () => {
        throw new Error('kaboom');
      })
      .register('validate', 'test.netfence.io', 'Denied', ['CREATE'], () => ({
        ...emptyVerdict(),
        violations: [
          { rule: 'r-enforce', mode: 'enforce', path: 'spec.x', message: 'x is not allowed; remove it' },
          { rule: 'r-warn', mode: 'warn', path: 'spec.y', message: 'y is discouraged' },
          { rule: 'r-audit', mode: 'audit', path: 'spec.z', message: 'z is noted' },
        ],
      }))
      .register('validate', 'test.netfence.io', 'Warned', ['CREATE'], () => ({
        ...emptyVerdict(),
        violations: [{ rule: 'r-warn', mode: 'warn', path: 'spec.y', message: 'y is discouraged' }],
      }))
      .register('mutate', '', 'Namespace', ['CREATE'], (ctx) => {
        const obj = structuredClone(ctx.request.object!);
        obj.metadata = { ...obj.metadata, labels: { ...obj.metadata?.labels, 'netfence.io/baseline': 'enabled' } };
        return { ...emptyVerdict(), mutated: obj };
      });
    server = await startTestServer({ handlers });
  });
  afterAll(async () => server.close());

  it('answers /healthz and /readyz', async () => {
    await server.get('/healthz').expect(200, { status: 'ok' });
    const ready = await server.get('/readyz').expect(200);
    expect(ready.body).toEqual({
      ready: true,
      checks: { notShuttingDown: true, configLoaded: true, certificateLoaded: true, clusterSynced: true },
    });
  });

  it('allows kinds it has no opinion on, echoing the uid, in the request apiVersion', async () => {
    for (const apiVersion of ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']) {
      const body = review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }, apiVersion);
      const res = await server.post('/validate', body).expect(200);
      expect(res.body).toMatchObject({
        apiVersion,
        kind: 'AdmissionReview',
        response: { uid: (body.request as { uid: string }).uid, allowed: true },
      });
    }
  });

  it('denies with 403, naming rule and path, and carries warn-mode rules as warnings', async () => {
    const body = review({ kind: { group: 'test.netfence.io', version: 'v1', kind: 'Denied' }, namespace: 'team-a', name: 'thing' });
    const res = await server.post('/validate', body).expect(200);
    const response = res.body.response;
    expect(response.allowed).toBe(false);
    expect(response.status.code).toBe(403);
    expect(response.status.message).toContain('Denied team-a/thing');
    expect(response.status.message).toContain('[r-enforce] spec.x: x is not allowed; remove it');
    expect(response.status.message).not.toContain('r-audit');
    expect(response.warnings).toEqual(['netfence: [r-warn] spec.y: y is discouraged']);
    const record = server.logs().find((l) => l.uid === (body.request as { uid: string }).uid);
    expect(record).toMatchObject({
      event: 'admission.decision',
      schema: 2,
      decision: 'deny',
      endpoint: 'validate',
      operation: 'CREATE',
      kind: 'test.netfence.io/v1/Denied',
      namespace: 'team-a',
      name: 'thing',
      user: 'alice',
      groups: ['system:authenticated'],
      dryRun: false,
      exemptions: [],
      configHash: server.config.current().hash,
    });
    expect(record!.violations).toHaveLength(3);
    expect(typeof record!.time).toBe('string');
    expect(typeof record!.durationMs).toBe('number');
  });

  it('allows a warn-only verdict with warnings, and logs it as warn', async () => {
    const body = review({ kind: { group: 'test.netfence.io', version: 'v1', kind: 'Warned' }, namespace: 'a' });
    const res = await server.post('/validate', body).expect(200);
    expect(res.body.response.allowed).toBe(true);
    expect(res.body.response.warnings).toHaveLength(1);
    expect(server.logs().find((l) => l.uid === (body.request as { uid: string }).uid)?.decision).toBe('warn');
  });

  it('never logs the object body', async () => {
    const body = review({
      kind: { group: 'test.netfence.io', version: 'v1', kind: 'Denied' },
      namespace: 'a',
      object: { metadata: { name: 'x' }, data: { password: 'hunter2-secret' } },
    });
    await server.post('/validate', body).expect(200);
    expect(JSON.stringify(server.logs())).not.toContain('hunter2-secret');
  });

  it('fails closed: an exception in a decision is a denial with code 500, logged', async () => {
    const body = review({ kind: { group: 'test.netfence.io', version: 'v1', kind: 'Boom' }, namespace: 'a' });
    const res = await server.post('/validate', body).expect(200);
    expect(res.body.response).toMatchObject({ allowed: false, status: { code: 500 } });
    expect(res.body.response.uid).toBe((body.request as { uid: string }).uid);
    const record = server.logs().find((l) => l.uid === (body.request as { uid: string }).uid);
    expect(record).toMatchObject({ decision: 'deny', error: 'Error: kaboom' });
    const metrics = await server.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/netfence_admission_errors_total\{endpoint="validate"\} 1/);
  });

  it('mutates with a JSON patch made by diffing, escaping / in keys, when labels are absent', async () => {
    const body = review({
      kind: { group: '', version: 'v1', kind: 'Namespace' },
      name: 'team-b',
      object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } },
    });
    const res = await server.post('/mutate', body).expect(200);
    expect(res.body.response.patchType).toBe('JSONPatch');
    expect(decodePatch(res.body.response.patch)).toEqual([
      { op: 'add', path: '/metadata/labels', value: { 'netfence.io/baseline': 'enabled' } },
    ]);
    const withLabels = review({
      kind: { group: '', version: 'v1', kind: 'Namespace' },
      name: 'team-c',
      object: { metadata: { name: 'team-c', labels: { a: 'b' } } },
    });
    const res2 = await server.post('/mutate', withLabels).expect(200);
    expect(decodePatch(res2.body.response.patch)).toEqual([{ op: 'add', path: '/metadata/labels/netfence.io~1baseline', value: 'enabled' }]);
    const already = review({
      kind: { group: '', version: 'v1', kind: 'Namespace' },
      name: 'team-d',
      object: { metadata: { name: 'team-d', labels: { 'netfence.io/baseline': 'enabled' } } },
    });
    const res3 = await server.post('/mutate', already).expect(200);
    expect(res3.body.response.patch).toBeUndefined();
    expect(res3.body.response.patchType).toBeUndefined();
  });

  it('does not evaluate requests in excluded namespaces', async () => {
    const body = review({ kind: { group: 'test.netfence.io', version: 'v1', kind: 'Denied' }, namespace: 'kube-system' });
    const res = await server.post('/validate', body).expect(200);
    expect(res.body.response.allowed).toBe(true);
    const own = review({ kind: { group: 'test.netfence.io', version: 'v1', kind: 'Denied' }, namespace: 'netfence-system' });
    expect((await server.post('/validate', own).expect(200)).body.response.allowed).toBe(true);
  });

  describe('bad input gets 4xx with a JSON error and never crashes the server', () => {
    const cases: Array<[string, string | unknown, number, RegExp]> = [
      ['not JSON', '{"apiVersion": ', 400, /not valid JSON/],
      ['empty object', {}, 400, /not an AdmissionReview: kind/],
      ['an array', [1, 2], 400, /got an array/],
      ['no request.uid', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { version: 'v1', kind: 'Pod' } } }, 400, /request\.uid/],
      ['a JSON string', '"hello"', 400, /got "hello"/],
      ['JSON null', 'null', 400, /got null/],
    ];
    it.each(cases)('%s', async (_name, body, status, message) => {
      const res = await server.post('/validate', body).expect(status);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body.error).toMatch(message);
    });

    it('an empty body', async () => {
      const res = await server.post('/mutate', '').expect(400);
      expect(res.body.error).toMatch(/empty body/);
    });

    it('a content type that is not JSON', async () => {
      const res = await supertest(server.url).post('/validate').ca(server.ca).set('content-type', 'application/xml').send('<x/>').expect(415);
      expect(res.body.error).toMatch(/application\/json/);
    });

    it('a body over the limit gets 413', async () => {
      const huge = JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT_BYTES) });
      const res = await server.post('/validate', huge).expect(413);
      expect(res.body.error).toMatch(/larger than/);
    });

    it('a body just under the limit is decoded', async () => {
      const body = review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } });
      (body.request as Record<string, unknown>).object = { pad: 'x'.repeat(BODY_LIMIT_BYTES - 2048) };
      const res = await server.post('/validate', body).expect(200);
      expect(res.body.response.allowed).toBe(true);
    });

    it('an unknown route', async () => {
      const res = await server.get('/nope').expect(404);
      expect(res.body.error).toMatch(/POST \/validate/);
    });

    it('and the server is still healthy afterwards', async () => {
      await server.get('/healthz').expect(200);
      const metrics = await server.get('/metrics').expect(200);
      expect(metrics.text).toMatch(/netfence_bad_requests_total\{status="400"\} \d+/);
      expect(metrics.text).toMatch(/netfence_bad_requests_total\{status="413"\} 1/);
    });
  });

  it('exports review counts, a sub-millisecond latency histogram, config and certificate metrics', async () => {
    const res = await server.get('/metrics').expect(200);
    expect(res.text).toMatch(/netfence_admission_reviews_total\{endpoint="validate",kind="test.netfence.io\/v1\/Denied",operation="CREATE",decision="deny"\} \d+/);
    expect(res.text).toMatch(/netfence_admission_review_duration_seconds_bucket\{le="0.0001",endpoint="validate"\} \d+/);
    expect(res.text).toMatch(/netfence_config_info\{hash="sha256:[0-9a-f]{64}",source="built-in"\} 1/);
    const expiry = Number(/netfence_certificate_expiry_timestamp_seconds (\d+)/.exec(res.text)?.[1]);
    expect(expiry * 1000).toBeGreaterThan(Date.now() + 300 * 24 * 3600 * 1000);
  });

  it('verifies the chain: a client without the CA is refused', async () => {
    const error = await new Promise<Error>((resolve) => {
      const req = httpsRequest(`${server.url}/healthz`, { method: 'GET' }, () => resolve(new Error('unexpectedly connected')));
      req.on('error', resolve);
      req.end();
    });
    expect(error.message).toMatch(/self-signed|unable to verify|certificate/i);
  });

  it('refuses TLS below 1.2', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: server.port, ca: server.ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
      socket.on('secureConnect', () => {
        resolve('connected');
        socket.destroy();
      });
      socket.on('error', (err) => resolve(err.message));
    });
    expect(outcome).not.toBe('connected');
  });
});
