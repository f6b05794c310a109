// CLI start-up: `reach` on a small file and `check` of one object, against a bare `node -e 0`
// in the same run (same machine load), rounds alternating. Target: within 4× the bare start.
// Measured on the built bin (dist/cli/main.js, what users run: `npm run build` first) and,
// for reference, from source (Node strips the types, which costs its own start-up).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const BUILT_MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));
const SHOP = fileURLToPath(new URL('../test/fixtures/manifests/shop.yaml', import.meta.url));

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// Every child, bare node included, reports its own CPU time (user + system) on fd 3 as it
// exits: on a loaded machine wall time mostly measures waiting for a core, CPU time does not.
const CPU_REPORT = `--import=data:text/javascript,import{writeSync}from'node:fs';process.on('exit',()=>{const u=process.cpuUsage();try{writeSync(3,String(u.user+u.system))}catch{}})`;

function timeRun(args: string[]): { wall: number; cpu: number } {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CPU_REPORT, ...args], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], env: { ...process.env, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' } });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return { wall, cpu: Number(r.output[3]?.toString() ?? 'NaN') / 1000 };
}

export function cliStartBenchmark(rounds = Number(process.env.BENCH_CLI_ROUNDS ?? 15)): void {
  const dir = mkdtempSync(join(tmpdir(), 'netfence-cli-bench-'));
  const one = join(dir, 'one.yaml');
  writeFileSync(one, 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n');
  // The bin as users get it: build it (tsc, as `npm run build`).
  const build = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const runs: Record<string, string[]> = { 'node -e 0': ['-e', '0'] };
  for (const [label, main] of [['dist', BUILT_MAIN], ['source', SOURCE_MAIN]] as const) {
    runs[`reach, shop.yaml (${label})`] = [main, 'reach', '-f', SHOP, '--from', 'shop/api', '--to', 'shop/db', '--port', '5432'];
    runs[`check, one object (${label})`] = [main, 'check', '-f', one];
  }
  const times: Record<string, Array<{ wall: number; cpu: number }>> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  try {
    for (const args of Object.values(runs)) timeRun(args); // warm the file cache
    for (let round = 0; round < rounds; round++) for (const [name, args] of Object.entries(runs)) times[name]!.push(timeRun(args));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bare = times['node -e 0']!;
  const bareWall = median(bare.map((t) => t.wall));
  const bareCpu = median(bare.map((t) => t.cpu));
  console.log(`CLI start-up: medians of ${rounds} alternating runs each, Node ${process.version} (target for the built bin: within 4× bare)`);
  for (const [name, t] of Object.entries(times)) {
    const wall = median(t.map((x) => x.wall));
    const cpu = median(t.map((x) => x.cpu));
    console.log(`  ${name.padEnd(30)} wall ${wall.toFixed(0).padStart(5)} ms (${(wall / bareWall).toFixed(2)}× bare)   cpu ${cpu.toFixed(0).padStart(4)} ms (${(cpu / bareCpu).toFixed(2)}× bare)`);
  }
}
