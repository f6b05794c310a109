import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LARGE_POLICIES, MAX_OBJECT_BYTES } from '../helpers/large-objects.ts';
import { review, tempDir } from '../helpers/server.ts';
import { runCli, spawnCli, waitForLog } from '../helpers/cli.ts';

// The probe port over the real `netfence serve` child: its /healthz is answered by a worker
// thread, so a review that keeps the main event loop busy for seconds does not delay it, while
// the same /healthz on the HTTPS port waits for the decision. Times are compared with the
// decision's own duration in the same run, never with an absolute bound.

const NP = { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' };

interface Served {
  child: ReturnType<typeof spawnCli>;
  port: number;
  healthPort: number;
  ca: Buffer;
  exited: Promise<number | null>;
}

async function startServe(extra: string[] = []): Promise<Served> {
  const certDir = tempDir();
  const child = spawnCli(['serve', '--port', '0', '--health-port', '0', '--host', '127.0.0.1', '--cert-dir', certDir, '--snapshot', 'test/fixtures/rules/world.yaml', ...extra]);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = await waitForLog(child, (l) => l.event === 'server.started');
  return {
    child,
    port: (started.address as { port: number }).port,
    healthPort: (started.healthAddress as { port: number }).port,
    ca: readFileSync(join(certDir, 'ca.crt')),
    exited,
  };
}

interface Answer {
  status: number;
  body: string;
  startedAt: number;
  doneAt: number;
}

/** One GET on a new plain-HTTP connection, as the kubelet probes. */
function probe(port: number, path: string): Promise<Answer> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, startedAt, doneAt: performance.now() }));
    });
    req.on('error', reject);
  });
}

/** One HTTPS request on a new connection; `onSent` fires once the whole body is written. */
function secure(s: Served, method: string, path: string, body?: string, onSent?: () => void): Promise<Answer> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: s.port, path, method, ca: s.ca, servername: 'localhost', agent: false, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, startedAt, doneAt: performance.now() }));
      },
    );
    req.on('error', reject);
    if (onSent) req.on('finish', onSent);
    req.end(body);
  });
}

describe('netfence serve: the health port', () => {
  it('answers /healthz at once while a 3 MiB NetworkPolicy is decided; /healthz on the HTTPS port waits for the decision', async () => {
    const s = await startServe();
    try {
      // The largest review of the decision budget: 66,000 ingress rules, just under 3 MiB.
      const object = LARGE_POLICIES.rules!(66_000);
      expect(JSON.stringify(object).length).toBeLessThanOrEqual(MAX_OBJECT_BYTES);
      const body = JSON.stringify(review({ kind: NP, namespace: 'shop', name: 'large', object }));
      const uid = (JSON.parse(body) as { request: { uid: string } }).request.uid;

      // Warm-up: both ports answer, and the server has decided once (JIT, TLS).
      expect((await probe(s.healthPort, '/healthz')).status).toBe(200);
      expect((await secure(s, 'GET', '/healthz')).status).toBe(200);
      expect((await secure(s, 'POST', '/validate', JSON.stringify(review({ kind: NP, namespace: 'shop', name: 'small', object: LARGE_POLICIES.rules!(2) })))).status).toBe(200);

      let sentAt = Infinity;
      let decided = false;
      // The HTTPS port's /healthz, asked over and over while the review is in flight: one of
      // them is bound to be waiting when the decision holds the event loop (a single probe could
      // be answered between two chunks of the body, before the decision starts).
      const mainProbes: Answer[] = [];
      let mainLoop: Promise<void> | undefined;
      const decision = secure(s, 'POST', '/validate', body, () => {
        sentAt = performance.now();
        mainLoop = (async () => {
          for (let i = 0; i < 2000 && !decided; i++) mainProbes.push(await secure(s, 'GET', '/healthz'));
        })();
      }).finally(() => (decided = true));
      // Probe the health port over and over while the review is in flight (bounded).
      const probes: Answer[] = [];
      while (sentAt === Infinity) await new Promise((r) => setTimeout(r, 1));
      for (let i = 0; i < 2000 && !decided; i++) {
        probes.push(await probe(s.healthPort, '/healthz'));
        await new Promise((r) => setTimeout(r, 10));
      }
      const answer = await decision;
      await mainLoop;
      expect(answer.status).toBe(200);
      expect(answer.body).toContain(`"uid":"${uid}"`);

      const decisionMs = answer.doneAt - sentAt;
      const during = probes.filter((p) => p.doneAt < answer.doneAt);
      const latencies = during.map((p) => p.doneAt - p.startedAt).sort((a, b) => a - b);
      const slowest = latencies.at(-1) ?? Infinity;
      const median = latencies[Math.floor(latencies.length / 2)] ?? Infinity;
      const main = mainProbes.reduce((a, b) => (b.doneAt - b.startedAt > a.doneAt - a.startedAt ? b : a));
      const mainMs = main.doneAt - main.startedAt;
      console.info(`decision ${decisionMs.toFixed(0)} ms; health port: ${during.length} probes answered meanwhile, median ${median.toFixed(1)} ms, slowest ${slowest.toFixed(1)} ms; HTTPS /healthz ${mainMs.toFixed(0)} ms`);

      // Several probes were answered while the decision ran, typically in a small part of its
      // time, and none had to wait for it (on a machine this loaded, the scheduler alone can
      // delay one probe now and then, hence the median for "promptly").
      expect(during.length).toBeGreaterThanOrEqual(3);
      expect(during.every((p) => p.status === 200 && p.body.includes('"status":"ok"'))).toBe(true);
      expect(median).toBeLessThan(decisionMs / 5);
      expect(slowest).toBeLessThan(decisionMs / 2);
      // The HTTPS port's /healthz that was in flight during the decision is answered only once
      // the event loop is free again: after most of the decision.
      expect(main.status).toBe(200);
      expect(mainMs).toBeGreaterThan(decisionMs / 2);
      expect(mainMs).toBeGreaterThan(median * 5);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  }, 120_000);

  it('/readyz on the health port turns 503 as soon as SIGTERM starts the drain, and the process still exits 0', async () => {
    const s = await startServe(['--shutdown-delay', '1500ms']);
    const before = await probe(s.healthPort, '/readyz');
    expect(before.status).toBe(200);
    expect(JSON.parse(before.body)).toMatchObject({ ready: true, checks: { notShuttingDown: true, clusterSynced: true } });

    const stopping = waitForLog(s.child, (l) => l.event === 'server.stopping');
    s.child.kill('SIGTERM');
    await stopping;
    // The drain has begun: the report sent by the main thread says not ready, liveness holds.
    let ready: Answer | undefined;
    for (let i = 0; i < 50; i++) {
      ready = await probe(s.healthPort, '/readyz');
      if (ready.status === 503) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(ready!.status).toBe(503);
    expect(JSON.parse(ready!.body)).toMatchObject({ ready: false, checks: { notShuttingDown: false } });
    expect((await probe(s.healthPort, '/healthz')).status).toBe(200);
    expect(await s.exited).toBe(0);
    // The worker closed its port with the process.
    await expect(probe(s.healthPort, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  }, 60_000);

  it.each([
    [['--port', '8443', '--health-port', '8443'], /--health-port 8443: .*other than --port/],
    [['--health-port', 'probe'], /--health-port probe: must be a port number/],
    [['--health-port', '70000'], /--health-port 70000: must be a port number/],
    [['--health-port', ''], /--health-port : must be a port number/],
    [['--port', '8081'], /--health-port 8081: .*other than --port/],
  ])('refuses %j (exit 2, says why)', (args, message) => {
    const r = runCli(['serve', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
