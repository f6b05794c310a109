// The baseline of the HTTP benchmark: Fastify over TLS with the same certificate, parsing the
// JSON body and answering "allowed". The ratio netfence / this is what the webhook costs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';

const [certDir = 'certs', port = '0'] = process.argv.slice(2);
const app = Fastify({
  https: { cert: readFileSync(join(certDir, 'tls.crt')), key: readFileSync(join(certDir, 'tls.key')), minVersion: 'TLSv1.2' },
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
