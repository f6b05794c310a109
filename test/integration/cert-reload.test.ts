import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultServingNames, generateServingCert } from '../../src/certs/generate.ts';
import { review, startTestServer, type TestServer } from '../helpers/server.ts';

/** The fingerprint of the certificate a new TLS connection is served, verified against the CA. */
function servedFingerprint(server: TestServer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.port, ca: server.ca, servername: 'localhost' }, () => {
      const fp = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.destroy();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Replaces tls.crt and tls.key by rename, one after the other, as a file copy would. */
function rotate(dir: string, pair: { certPem: string; keyPem: string }): void {
  writeFileSync(join(dir, 'tls.crt.new'), pair.certPem);
  writeFileSync(join(dir, 'tls.key.new'), pair.keyPem);
  renameSync(join(dir, 'tls.crt.new'), join(dir, 'tls.crt'));
  renameSync(join(dir, 'tls.key.new'), join(dir, 'tls.key'));
}

describe('serving certificate hot reload', () => {
  let server: TestServer;
  let ca: { certPem: string; keyPem: string };

  beforeAll(async () => {
    server = await startTestServer();
    server.certificate.watch({ debounceMs: 50, pollMs: 200 });
    ca = { certPem: readFileSync(join(server.certDir, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(server.certDir, 'ca.key'), 'utf8') };
  });
  afterAll(async () => server.close());

  it('new connections get the new certificate and no request fails during the rotation', async () => {
    const before = await servedFingerprint(server);
    const next = generateServingCert(ca, defaultServingNames());
    const expected = new X509Certificate(next.certPem).fingerprint256;
    expect(expected).not.toBe(before);

    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) {
        const res = await server.post('/validate', review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }));
        statuses.push(res.status);
      }
    })();
    // Traffic on both sides of the rotation, counted rather than timed, so that a slow machine
    // still sends requests before, during and after it.
    const answered = async (n: number): Promise<number> => until(async () => statuses.length, (count) => count >= n);
    const beforeRotation = await answered(3);
    rotate(server.certDir, next);
    const after = await until(() => servedFingerprint(server), (fp) => fp === expected);
    const atSwap = statuses.length;
    const afterRotation = await answered(atSwap + 3);
    stop = true;
    await traffic;

    expect(after).toBe(expected);
    expect(beforeRotation).toBeGreaterThanOrEqual(3);
    expect(afterRotation).toBeGreaterThanOrEqual(atSwap + 3);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const metrics = await server.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/netfence_certificate_reloads_total\{result="success"\} [1-9]/);
    expect(Number(/netfence_certificate_expiry_timestamp_seconds (\d+)/.exec(metrics.text)?.[1])).toBe(
      Math.floor(new Date(new X509Certificate(next.certPem).validTo).getTime() / 1000),
    );
  });

  it('a broken pair is refused and the certificate in use stays', async () => {
    const inUse = await servedFingerprint(server);
    const other = generateServingCert(ca, defaultServingNames());
    // A key that does not belong to the certificate beside it.
    writeFileSync(join(server.certDir, 'tls.key'), other.keyPem);
    await until(
      async () => (await server.get('/metrics')).text,
      (text) => /netfence_certificate_reloads_total\{result="failure"\} [1-9]/.test(text),
    );
    expect(await servedFingerprint(server)).toBe(inUse);
    await server.get('/healthz').expect(200);
    const failure = server.logs().find((l) => l.event === 'certificate.reload_failed');
    expect(failure?.error).toBeTruthy();
  });
});
