import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateServingCert, defaultServingNames } from '../../src/certs/generate.ts';
import { runCli } from '../helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.ts';

/** The cipher a handshake settles on, or the error that ended it. */
function handshake(server: TestServer, options: ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: server.port, ca: server.ca, servername: 'localhost', ...options }, () => {
      const cipher = socket.getCipher().name;
      socket.destroy();
      resolve(cipher);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
  });
}

async function until(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('TLS: an explicit modern cipher list, kept on certificate reload', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    server.certificate.watch({ debounceMs: 20, pollMs: 100 });
  });
  afterAll(async () => server.close());

  const refused: Array<[string, string]> = [
    ['RSA key exchange (no forward secrecy), AES-GCM', 'AES128-GCM-SHA256'],
    ['RSA key exchange, SHA-1 CBC', 'AES128-SHA'],
    ['ECDHE with SHA-1 CBC', 'ECDHE-RSA-AES128-SHA'],
    ['ECDHE with SHA-256 CBC', 'ECDHE-RSA-AES128-SHA256'],
    ['DHE with AES-GCM', 'DHE-RSA-AES128-GCM-SHA256'],
  ];
  const accepted = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'];

  async function checkSuites(): Promise<void> {
    for (const [, cipher] of refused) {
      expect(await handshake(server, { maxVersion: 'TLSv1.2', ciphers: cipher }), cipher).toMatch(/^error /);
    }
    for (const cipher of accepted) {
      expect(await handshake(server, { maxVersion: 'TLSv1.2', ciphers: cipher })).toBe(cipher);
    }
    expect(await handshake(server, { minVersion: 'TLSv1.3' })).toMatch(/^TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)$/);
  }

  it('TLS 1.2 only with ECDHE and AEAD suites, and TLS 1.3', async () => {
    await checkSuites();
  });

  it('and the same after the serving certificate is reloaded', async () => {
    const ca = { certPem: readFileSync(join(server.certDir, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(server.certDir, 'ca.key'), 'utf8') };
    const next = generateServingCert(ca, defaultServingNames());
    const reloaded = new Promise<void>((resolve) => server.certificate.once('change', () => resolve()));
    writeFileSync(join(server.certDir, 'tls.crt'), next.certPem);
    writeFileSync(join(server.certDir, 'tls.key'), next.keyPem);
    await reloaded;
    const fingerprint = (): Promise<string> =>
      new Promise((resolve) => {
        const s = connect({ host: '127.0.0.1', port: server.port, ca: server.ca, servername: 'localhost' }, () => {
          resolve(s.getPeerX509Certificate()?.fingerprint256 ?? '');
          s.destroy();
        });
        s.on('error', () => resolve(''));
      });
    const { X509Certificate } = await import('node:crypto');
    const expected = new X509Certificate(next.certPem).fingerprint256;
    expect(await until(async () => (await fingerprint()) === expected)).toBe(true);
    await checkSuites();
  });
});

describe('HTTP: every non-JSON content type gets 415', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it.each(['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/jsonp', 'text/json', 'multipart/form-data; boundary=x', 'application/octet-stream'])(
    '%s',
    async (contentType) => {
      const body = '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1"}}';
      for (const path of ['/validate', '/mutate']) {
        const res = await supertest(server.url).post(path).ca(server.ca).set('content-type', contentType).send(body).expect(415);
        expect(res.body.error).toMatch(/unsupported content type .*send application\/json/);
      }
    },
  );

  it('JSON with parameters is still JSON', async () => {
    const res = await supertest(server.url)
      .post('/validate')
      .ca(server.ca)
      .set('content-type', 'application/json; charset=utf-8')
      .send('{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE"}}')
      .expect(200);
    expect(res.body.response.uid).toBe('u1');
  });
});

describe('netfence certs: private keys are 0600, existing files included', () => {
  it('narrows a world-readable tls.key and ca.key it overwrites', () => {
    const out = join(tempDir(), 'certs');
    mkdirSync(out);
    for (const name of ['tls.key', 'ca.key', 'tls.crt']) writeFileSync(join(out, name), 'old\n', { mode: 0o666 });
    const r = runCli(['certs', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(join(out, 'tls.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'tls.crt')).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(out, 'tls.key'), 'utf8')).toMatch(/BEGIN (RSA |EC )?PRIVATE KEY/);
  });
});
