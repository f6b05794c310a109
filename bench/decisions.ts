// Decision budget: the whole review (JSON parse, decode, every rule of the built-in config,
// the response, the decision record) of the largest objects the API server stores (3 MiB,
// each stressing one dimension), against a small realistic NetworkPolicy in the same run.
// Then /healthz latency while a 3 MiB review is being decided by a real server.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Admission } from '../src/admission/admit.ts';
import { defaultHandlers } from '../src/admission/registry.ts';
import { DecisionLog } from '../src/audit/decision-log.ts';
import { Metrics } from '../src/audit/metrics.ts';
import { writeCertBundle } from '../src/certs/files.ts';
import { defaultServingNames } from '../src/certs/generate.ts';
import { loadManifests } from '../src/cluster/manifests.ts';
import { StaticClusterView } from '../src/cluster/static.ts';
import { builtInConfig } from '../src/config/load.ts';
import { ConfigStore } from '../src/config/store.ts';
import { createLogger } from '../src/log.ts';
import { LARGE_POLICIES, largeNamespace, largePod, largestWithin } from '../test/helpers/large-objects.ts';
import { networkPolicyReview } from './reviews.ts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const WORLD = here('../test/fixtures/rules/world.yaml');

function envelope(kind: { group: string; version: string; kind: string }, object: unknown, namespace?: string): string {
  const name = (object as { metadata: { name: string } }).metadata.name;
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'bench', kind, operation: 'CREATE', name, ...(namespace ? { namespace } : {}), userInfo: { username: 'alice', groups: ['system:authenticated'] }, object },
  });
}

const NP = { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export async function decisionBudgetBenchmark(): Promise<void> {
  const admission = new Admission({
    config: new ConfigStore(builtInConfig()),
    cluster: new StaticClusterView(loadManifests([WORLD])),
    handlers: defaultHandlers(),
    decisionLog: new DecisionLog(createLogger({ destination: { write: () => undefined } })),
    metrics: new Metrics(),
    netfenceNamespace: 'netfence-system',
  });
  // Wall time, and this process's CPU time: on a shared machine the CPU time is the cost of the
  // decision itself, the wall time what the API server would wait on this machine now.
  const cpuNow = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let lastCpu = 0;
  const time = (endpoint: 'validate' | 'mutate', body: string, runs: number): number => {
    const samples: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c0 = cpuNow();
      const t0 = performance.now();
      admission.review(endpoint, JSON.parse(body));
      samples.push(performance.now() - t0);
      cpu.push(cpuNow() - c0);
    }
    lastCpu = median(cpu);
    return median(samples);
  };

  const small = JSON.stringify({ ...networkPolicyReview('bench') });
  time('validate', small, 2000); // warm-up
  const base = time('validate', small, 2000);
  console.log(`Decision budget (whole review incl. JSON parse; largest objects <= 3 MiB vs a small NetworkPolicy, ${base.toFixed(3)} ms median):`);
  const cases: Array<[string, 'validate' | 'mutate', (n: number) => string, (n: number) => unknown]> = [
    ...Object.entries(LARGE_POLICIES).map(([name, make]) => [`NetworkPolicy, ${name}`, 'validate', (n: number) => envelope(NP, make(n), 'shop'), make] as [string, 'validate', (n: number) => string, (n: number) => unknown]),
    ['Pod, labels and ports', 'validate', (n) => envelope({ group: '', version: 'v1', kind: 'Pod' }, largePod(n), 'shop'), largePod],
    ['Namespace, labels (mutate)', 'mutate', (n) => envelope({ group: '', version: 'v1', kind: 'Namespace' }, largeNamespace(n)), largeNamespace],
  ];
  let worst = 0;
  let worstCpu = 0;
  for (const [label, endpoint, body, make] of cases) {
    const n = largestWithin(make as never);
    const text = body(n);
    const ms = time(endpoint, text, 3);
    worst = Math.max(worst, ms);
    worstCpu = Math.max(worstCpu, lastCpu);
    console.log(`  ${label.padEnd(38)} n=${String(n).padStart(6)}  ${(text.length / 2 ** 20).toFixed(2)} MiB  ${ms.toFixed(0).padStart(5)} ms wall  ${lastCpu.toFixed(0).padStart(5)} ms CPU  (${(ms / base).toFixed(0)}x the small one)`);
  }
  console.log(`  slowest: ${worst.toFixed(0)} ms wall, ${worstCpu.toFixed(0)} ms CPU (webhook timeoutSeconds in deploy/: 5 s)`);
  await healthzDuringLargeReview();
}

function https(port: number, ca: Buffer, method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, ca, servername: 'localhost', headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The longest /healthz answer (polled every 20 ms) while a real server decides a 3 MiB review. */
async function healthzDuringLargeReview(): Promise<void> {
  const certDir = mkdtempSync(join(tmpdir(), 'netfence-bench-'));
  writeCertBundle(certDir, defaultServingNames());
  const ca = readFileSync(join(certDir, 'ca.crt'));
  const child = spawn(process.execPath, [here('../src/cli/main.ts'), 'serve', '--port', '0', '--host', '127.0.0.1', '--cert-dir', certDir, '--snapshot', WORLD], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' },
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buffer = '';
      child.stdout!.on('data', (d: Buffer) => {
        buffer += d.toString();
        const line = buffer.split('\n').find((l) => l.includes('"server.started"'));
        if (line) resolve((JSON.parse(line) as { address: { port: number } }).address.port);
      });
      child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    child.stdout!.resume();
    const make = LARGE_POLICIES.rules!;
    const body = envelope(NP, make(largestWithin(make)), 'shop');
    await https(port, ca, 'POST', '/validate', body); // warm-up
    let worst = 0;
    let polls = 0;
    let deciding = true;
    const t0 = performance.now();
    const review = https(port, ca, 'POST', '/validate', body).finally(() => (deciding = false));
    while (deciding) {
      const p0 = performance.now();
      await https(port, ca, 'GET', '/healthz');
      worst = Math.max(worst, performance.now() - p0);
      polls++;
      await new Promise((r) => setTimeout(r, 20));
    }
    await review;
    console.log(`  /healthz during a 3 MiB review (${(performance.now() - t0).toFixed(0)} ms end to end): ${polls} polls, slowest answer ${worst.toFixed(0)} ms`);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(certDir, { recursive: true, force: true });
  }
}
