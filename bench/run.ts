// `npm run bench`: engine benchmarks in this process, then the HTTP benchmark (netfence vs a bare Fastify TLS server, same load, same
// run). Servers run in child processes so that the load generator does not share their event
// loop; on 2 cores the figures are noisy, so rounds alternate and every round is printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCertBundle } from '../src/certs/files.ts';
import { defaultServingNames } from '../src/certs/generate.ts';
import { auditBenchmark } from './audit.ts';
import { engineBenchmark } from './engine.ts';
import { memoryBenchmark } from './memory.ts';
import { runLoad, type LoadResult } from './load.ts';
import { networkPolicyReview, podReview } from './reviews.ts';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

async function start(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' } });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (const line of buffer.split('\n')) {
        if (!line.includes('"server.started"')) continue;
        resolve((JSON.parse(line) as { address: { port: number } }).address.port);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  child.stdout!.resume();
  return { child, port };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(r: LoadResult): string {
  return `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(6)} ms  p99 ${r.p99Ms.toFixed(2).padStart(6)} ms  (${r.requests} requests, ${r.errors} errors)`;
}

async function httpBenchmark(): Promise<void> {
  const certDir = mkdtempSync(join(tmpdir(), 'netfence-bench-'));
  writeCertBundle(certDir, defaultServingNames());
  const ca = readFileSync(join(certDir, 'ca.crt'));
  const servers = {
    bare: await start([here('./bare-server.ts'), certDir, '0']),
    // The reviews are for namespace shop: the snapshot makes it default-deny, with pods and
    // policies, so the rules do their real work and the reviews are allowed.
    netfence: await start([here('../src/cli/main.ts'), 'serve', '--port', '0', '--host', '127.0.0.1', '--cert-dir', certDir, '--snapshot', here('../test/fixtures/manifests/shop.yaml')]),
  };
  console.log(`HTTP benchmark: concurrency ${CONCURRENCY}, ${SECONDS}s per round after ${WARMUP}s warm-up, ${ROUNDS} rounds, Node ${process.version}`);
  try {
    for (const [label, make] of [
      ['NetworkPolicy review', networkPolicyReview],
      ['Pod review', podReview],
    ] as const) {
      const results: Record<'bare' | 'netfence', LoadResult[]> = { bare: [], netfence: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of ['bare', 'netfence'] as const) {
          const r = await runLoad({
            url: `https://127.0.0.1:${servers[name].port}`,
            ca,
            body: (i) => JSON.stringify(make(`bench-${i}`)),
            concurrency: CONCURRENCY,
            seconds: SECONDS,
            warmupSeconds: WARMUP,
          });
          results[name].push(r);
          console.log(`  ${label.padEnd(22)} round ${round + 1} ${name.padEnd(8)} ${fmt(r)}`);
        }
      }
      const bare = median(results.bare.map((r) => r.rps));
      const nf = median(results.netfence.map((r) => r.rps));
      console.log(`  ${label}: netfence ${nf.toFixed(0)} req/s vs bare ${bare.toFixed(0)} req/s, ratio ${(nf / bare).toFixed(2)} (target >= 0.75)`);
    }
  } finally {
    await stop(servers.bare.child);
    await stop(servers.netfence.child);
    rmSync(certDir, { recursive: true, force: true });
  }
}

engineBenchmark();
memoryBenchmark();
auditBenchmark();
if (process.env.BENCH_SKIP_HTTP !== '1') await httpBenchmark();
