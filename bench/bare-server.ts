// The baseline of the HTTP benchmark: Fastify over TLS with the same certificate, parsing the
// JSON body and answering "allowed". The ratio netfence / this is what the webhook costs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { DEFAULT_LIMITS, limitsTlsOptions, secureContextOptions } from '../src/server/limits.ts';

const [certDir = 'certs', port = '0'] = process.argv.slice(2);
const app = Fastify({
  // The same TLS settings and limits as netfence: the ratio measures the webhook's work, not a
  // different cipher (TLS 1.3 with AES-128-GCM is cheaper than Node's default AES-256-GCM).
  https: { ...secureContextOptions({ cert: readFileSync(join(certDir, 'tls.crt'), 'utf8'), key: readFileSync(join(certDir, 'tls.key'), 'utf8') }, undefined), ...limitsTlsOptions(DEFAULT_LIMITS) },
  bodyLimit: 7 * 1024 * 1024,
  keepAliveTimeout: 95_000,
});
app.post('/validate', async (request) => {
  const body = request.body as { apiVersion: string; request: { uid: string } };
  return { apiVersion: body.apiVersion, kind: 'AdmissionReview', response: { uid: body.request.uid, allowed: true } };
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`${JSON.stringify({ event: 'server.started', address })}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
