// `npm run bench`: engine benchmarks in this process, then the HTTP benchmark (netfence vs a bare Fastify TLS server, same load, same
// run). Servers run in child processes so that the load generator does not share their event
// loop; on 2 cores the figures are noisy, so rounds alternate and every round is printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { writeCertBundle } from '../src/certs/files.ts';
import { defaultServingNames } from '../src/certs/generate.ts';
import { auditBenchmark } from './audit.ts';
import { cliStartBenchmark } from './cli-start.ts';
import { decisionBudgetBenchmark } from './decisions.ts';
import { engineBenchmark } from './engine.ts';
import { memoryBenchmark } from './memory.ts';
import { runCount, runLoad, type LoadResult } from './load.ts';
import { networkPolicyReview, podReview } from './reviews.ts';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RSS_REVIEWS = Number(process.env.BENCH_RSS_REVIEWS ?? 1_000_000);
// Extra environment for the server of the RSS run, e.g. BENCH_RSS_ENV=MALLOC_ARENA_MAX=2.
const RSS_ENV = Object.fromEntries((process.env.BENCH_RSS_ENV ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

async function start(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '', ...env } });
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

function netfenceArgs(certDir: string): string[] {
  // No drain window: the benchmark stops the server when no request is in flight.
  return [here('../src/cli/main.ts'), 'serve', '--port', '0', '--host', '127.0.0.1', '--cert-dir', certDir, '--shutdown-delay', '0s', '--snapshot', here('../test/fixtures/manifests/shop.yaml')];
}

/** A gauge's value from a Prometheus text exposition. */
function gauge(text: string, name: string): number {
  return Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/**
 * Memory of one netfence process over BENCH_RSS_REVIEWS ordinary reviews: RSS against the JS
 * heap and external memory, read from its own /metrics after every tenth of the run. A heap
 * that stays flat while RSS grows is the allocator (glibc arenas), not a leak of objects.
 */
async function rssBenchmark(): Promise<void> {
  const certDir = mkdtempSync(join(tmpdir(), 'netfence-bench-'));
  writeCertBundle(certDir, defaultServingNames());
  const ca = readFileSync(join(certDir, 'ca.crt'));
  const server = await start(netfenceArgs(certDir), RSS_ENV);
  const url = `https://127.0.0.1:${server.port}`;
  const env = Object.entries(RSS_ENV).map(([k, v]) => `${k}=${v}`).join(' ') || 'default environment';
  console.log(`Memory over ${RSS_REVIEWS.toLocaleString('en')} reviews (Pod and NetworkPolicy alternating, concurrency ${CONCURRENCY}, ${env}):`);
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0).padStart(4)} MiB`;
  const agent = new Agent({ connect: { ca, servername: 'localhost' } });
  const scrape = async (): Promise<string> => (await request(`${url}/metrics`, { dispatcher: agent })).body.text();
  try {
    const sample = async (done: number): Promise<void> => {
      const text = await scrape();
      console.log(
        `  after ${done.toLocaleString('en').padStart(9)}: RSS ${mib(gauge(text, 'netfence_process_resident_memory_bytes'))}, ` +
          `JS heap used ${mib(gauge(text, 'netfence_nodejs_heap_size_used_bytes'))} of ${mib(gauge(text, 'netfence_nodejs_heap_size_total_bytes'))}, ` +
          `external ${mib(gauge(text, 'netfence_nodejs_external_memory_bytes'))}`,
      );
    };
    await sample(0);
    const r = await runCount({
      url,
      ca,
      body: (i) => JSON.stringify(i % 2 ? podReview(`rss-${i}`) : networkPolicyReview(`rss-${i}`)),
      concurrency: CONCURRENCY,
      total: RSS_REVIEWS,
      every: Math.max(1, Math.floor(RSS_REVIEWS / 10)),
      onProgress: sample,
    });
    console.log(`  ${r.errors} errors, ${(RSS_REVIEWS / r.seconds).toFixed(0)} reviews/s`);
  } finally {
    await agent.close();
    await stop(server.child);
    rmSync(certDir, { recursive: true, force: true });
  }
}

async function httpBenchmark(): Promise<void> {
  const certDir = mkdtempSync(join(tmpdir(), 'netfence-bench-'));
  writeCertBundle(certDir, defaultServingNames());
  const ca = readFileSync(join(certDir, 'ca.crt'));
  const servers = {
    bare: await start([here('./bare-server.ts'), certDir, '0']),
    // The reviews are for namespace shop: the snapshot makes it default-deny, with pods and
    // policies, so the rules do their real work and the reviews are allowed.
    netfence: await start(netfenceArgs(certDir)),
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
await decisionBudgetBenchmark();
memoryBenchmark();
auditBenchmark();
cliStartBenchmark();
if (process.env.BENCH_SKIP_HTTP !== '1') await httpBenchmark();
if (RSS_REVIEWS > 0) await rssBenchmark();
