import forge from 'node-forge';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyVerdict } from '../../src/admission/context.ts';
import { HandlerTable } from '../../src/admission/handlers.ts';
import { generateCA, type KeyPair } from '../../src/certs/generate.ts';
import { runCli } from '../helpers/cli.ts';
import { review, startTestServer, tempDir, type TestServer } from '../helpers/server.ts';

/** A client certificate as the API server presents one: clientAuth, signed by `ca`. */
function clientCert(ca: KeyPair, commonName: string): KeyPair {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '0a' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600 * 1000);
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function call(server: TestServer, method: string, path: string, body: unknown, client?: KeyPair): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      `${server.url}${path}`,
      {
        method,
        ca: server.ca,
        servername: 'localhost',
        agent: false,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const handlers = (): HandlerTable =>
  new HandlerTable().register('validate', 'test.netfence.io', 'Denied', ['CREATE'], () => ({
    ...emptyVerdict(),
    violations: [{ rule: 'r', mode: 'enforce', path: 'spec', message: 'no' }],
  }));

function deniedReview(): { body: Record<string, unknown>; uid: string } {
  const body = review({ kind: { group: 'test.netfence.io', version: 'v1', kind: 'Denied' }, namespace: 'team-a', userInfo: { username: 'system:admin', groups: ['system:masters'] } });
  return { body, uid: (body.request as { uid: string }).uid };
}

describe('client authentication (--client-ca)', () => {
  let server: TestServer;
  let apiServer: KeyPair;
  let stranger: KeyPair;
  beforeAll(async () => {
    const clientCA = generateCA('kube-apiserver-client-ca');
    apiServer = clientCert(clientCA, 'kube-apiserver');
    stranger = clientCert(generateCA('someone-else'), 'kube-apiserver');
    server = await startTestServer({ handlers: handlers(), clientCA: clientCA.certPem });
  });
  afterAll(async () => server.close());

  it('probes and metrics need no client certificate (the kubelet presents none)', async () => {
    expect((await call(server, 'GET', '/healthz', undefined)).status).toBe(200);
    expect((await call(server, 'GET', '/readyz', undefined)).status).toBe(200);
    expect((await call(server, 'GET', '/metrics', undefined)).status).toBe(200);
  });

  it('reviews without a certificate, or with one from another CA, get 401 and leave no decision record', async () => {
    for (const client of [undefined, stranger]) {
      for (const path of ['/validate', '/mutate']) {
        const { body, uid } = deniedReview();
        const answer = await call(server, 'POST', path, body, client);
        expect(answer.status).toBe(401);
        expect(String(answer.body.error)).toMatch(/client certificate/);
        expect(server.logs().some((l) => l.uid === uid)).toBe(false);
      }
    }
    const metrics = await call(server, 'GET', '/metrics', undefined);
    expect(String(metrics.body.text)).toMatch(/netfence_bad_requests_total\{status="401"\} 4/);
  });

  it('the API server, with its certificate, is answered and recorded as authenticated', async () => {
    const { body, uid } = deniedReview();
    const answer = await call(server, 'POST', '/validate', body, apiServer);
    expect(answer.status).toBe(200);
    expect(answer.body.response).toMatchObject({ uid, allowed: false });
    const record = server.logs().find((l) => l.uid === uid);
    expect(record).toMatchObject({ user: 'system:admin', client: { authenticated: true, subject: 'kube-apiserver' } });
  });
});

describe('without --client-ca', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ handlers: handlers() });
  });
  afterAll(async () => server.close());

  it('anyone is answered, and the record says the client was not authenticated', async () => {
    const { body, uid } = deniedReview();
    const answer = await call(server, 'POST', '/validate', body);
    expect(answer.status).toBe(200);
    const record = server.logs().find((l) => l.uid === uid);
    expect(record).toMatchObject({ user: 'system:admin', client: { authenticated: false } });
    expect((record!.client as Record<string, unknown>).subject).toBeUndefined();
  });
});

describe('netfence serve --client-ca', () => {
  it('refuses a file that is not a PEM certificate, or is missing, with exit 2', () => {
    const dir = tempDir();
    const bad = join(dir, 'ca.crt');
    writeFileSync(bad, 'not a certificate\n');
    const r1 = runCli(['serve', '--port', '0', '--client-ca', bad]);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toMatch(/--client-ca .*not a PEM CA certificate/);
    const r2 = runCli(['serve', '--port', '0', '--client-ca', join(dir, 'missing.crt')]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/--client-ca .*cannot read it \(ENOENT\)/);
  });
});
