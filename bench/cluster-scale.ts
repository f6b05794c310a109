// netfence against a populated cluster: `npm run bench:cluster -- [--size 500|2000|5000]
// [--idle-seconds 60] [--burst 200] [--keep]`.
//
// Starts the end-to-end control plane (kube-apiserver + etcd, test/e2e/cluster), fills it with a
// bulk loader (parallel creates over one pooled client), starts `netfence serve --kubeconfig` as
// a child process (the compiled dist/, as the image runs it) with deploy/config.yaml, and prints: time to ready, peak RSS and heap, the
// longest event-loop stall, connections opened and API requests (start, idle window), the time
// until every namespace has its baseline, and the p50/p99 of a burst of new namespaces (create →
// baseline in place). Sizes: 500 namespaces / 2,000 NetworkPolicies / 5,000 Pods, 2,000 / 8,000
// / 20,000, 5,000 / 20,000 / 50,000 (4 policies and 10 pods a namespace).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { parseAllDocuments } from 'yaml';
import { KubeClient } from '../src/kube/client.ts';
import { loadTransport } from '../src/kube/config.ts';
import { buildBinaries, freePort, startControlPlane } from '../test/e2e/cluster/control-plane.ts';

const REPO = join(import.meta.dirname, '..');
const NP = (ns: string): string => `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`;
const BASELINE_LABELS = { 'netfence.io/baseline': 'enabled' };

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '500' },
    'idle-seconds': { type: 'string', default: '60' },
    burst: { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
    // Without baseline labels the reconciler has nothing to do: the live cache alone is measured.
    'no-baseline': { type: 'boolean', default: false },
  },
});
const withBaseline = !values['no-baseline'];
const namespaces = Number(values.size);
if (![500, 2000, 5000].includes(namespaces)) throw new Error(`--size ${values.size}: one of 500, 2000, 5000`);
const idleSeconds = Number(values['idle-seconds']);
const burstSize = Number(values.burst);

/** Runs fn over items with at most `concurrency` in flight. */
async function parallel<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function policies(ns: string, i: number): Array<Record<string, unknown>> {
  const np = (name: string, spec: unknown) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns, labels: { app: 'bench' } }, spec });
  return [
    np('web-from-ingress', { podSelector: { matchLabels: { tier: 'web' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { role: 'ingress' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }] }),
    np('logic-from-web', { podSelector: { matchLabels: { tier: 'logic' } }, ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ protocol: 'TCP', port: 9000, endPort: 9100 }] }] }),
    np('data-from-logic', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'logic' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }] }),
    np('egress-partners', { podSelector: { matchLabels: { tier: 'logic' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: `10.${i % 250}.0.0/16`, except: [`10.${i % 250}.1.0/24`] } }] }] }),
  ];
}

function pods(ns: string): Array<Record<string, unknown>> {
  const tiers = ['web', 'logic', 'data'];
  return Array.from({ length: 10 }, (_, j) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${j}`, namespace: ns, labels: { app: `app-${j % 4}`, tier: tiers[j % 3]!, 'pod-template-hash': `h${j % 4}` } },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', ports: [{ name: 'http', containerPort: 8080 }] }] },
  }));
}

/**
 * Requests the API server has served (its apiserver_request_total, every client), less the
 * bench's own: what netfence asked, whichever client library made the call.
 */
async function serverRequests(client: KubeClient): Promise<number> {
  const text = await client.getText('/metrics');
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('apiserver_request_total{')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  const own = Object.values(client.stats().requests).reduce((a, b) => a + b, 0);
  return n - own;
}

/** Counts one NetworkPolicy name across all namespaces (paginated). */
async function countPolicies(client: KubeClient, name: string, prefix = ''): Promise<number> {
  let n = 0;
  await client.listPages('/apis/networking.k8s.io/v1/networkpolicies', { limit: 1000, fieldSelector: `metadata.name=${name}` }, (p) => {
    for (const i of p.items) if (((i.metadata as { namespace: string }).namespace ?? '').startsWith(prefix)) n++;
  });
  return n;
}

const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
async function scrape(port: number): Promise<Map<string, number>> {
  const res = await request(`https://127.0.0.1:${port}/metrics`, { dispatcher });
  const text = await res.body.text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
const sum = (m: Map<string, number>, prefix: string): number => [...m].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);

/** The environment deploy/deployment.yaml gives the netfence container (plain values: NODE_OPTIONS, MALLOC_ARENA_MAX). */
function deployedEnv(): Record<string, string> {
  for (const doc of parseAllDocuments(readFileSync(join(REPO, 'deploy/deployment.yaml'), 'utf8'))) {
    const d = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> } } } };
    if (d?.kind !== 'Deployment') continue;
    const env = d.spec?.template?.spec?.containers?.find((c) => c.name === 'netfence')?.env ?? [];
    return Object.fromEntries(env.filter((e) => typeof e.value === 'string').map((e) => [e.name, e.value!]));
  }
  return {};
}

/** Resident memory by mapping (V8 and malloc, the node binary, libraries, thread stacks), MB. */
function rssByMapping(pid: number): string {
  const out = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1]!;
      name = path === '' ? 'anonymous (V8 heap, malloc)' : path === '[heap]' ? 'anonymous (V8 heap, malloc)' : path.endsWith('/node') ? 'node binary' : path.startsWith('[') ? path : 'libraries and files';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out.set(name, (out.get(name) ?? 0) + Number(rss[1]) / 1024);
  }
  return [...out].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
}

function rssPeakMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const fmt = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`);
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

async function main(): Promise<void> {
  const plane = await startControlPlane(buildBinaries());
  console.log(`control plane: ${plane.versions.kubeApiserver}, ${plane.versions.etcd}`);
  const client = new KubeClient(await loadTransport(plane.kubeconfig), { qps: 0, maxSockets: 24 });
  let child: ReturnType<typeof spawn> | undefined;
  try {
    // Bulk load: namespaces, then their policies and pods, 48 requests in flight.
    const names = Array.from({ length: namespaces }, (_, i) => `ns-${String(i).padStart(5, '0')}`);
    let t = performance.now();
    await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'netfence-system' } });
    await parallel(names, 48, (name) => client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...(withBaseline ? BASELINE_LABELS : {}), team: `t${name.length % 7}` } } }));
    const objects = names.flatMap((ns, i) => [...policies(ns, i).map((o) => [NP(ns), o] as const), ...pods(ns).map((o) => [`/api/v1/namespaces/${ns}/pods`, o] as const)]);
    await parallel(objects, 48, ([path, body]) => client.create(path, body));
    console.log(`loaded ${namespaces} namespaces, ${namespaces * 4} NetworkPolicies, ${namespaces * 10} Pods in ${fmt(performance.now() - t)} (${client.stats().connectionsOpened} connections)`);

    // netfence, as a child process.
    const port = await freePort();
    const work = mkdtempSync(join(tmpdir(), 'netfence-bench-cluster-'));
    const log = join(work, 'netfence.log');
    // Certificates made beforehand (as a Secret would provide them): generating a key pair at
    // start blocks the event loop, and is not what is measured here.
    // netfence as deployed runs the compiled JavaScript (Dockerfile): built here, and measured so.
    // Run from TypeScript sources, Node's type stripping alone adds ~33 MB of RSS.
    const build = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json')], { cwd: REPO, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    const certs = spawnSync(process.execPath, [join(REPO, 'dist/cli/main.js'), 'certs', '--out', join(work, 'certs')], { cwd: REPO, encoding: 'utf8' });
    if (certs.status !== 0) throw new Error(`netfence certs failed: ${certs.stderr}`);
    const deployed = deployedEnv();
    const apiBefore = client.stats();
    const serverBefore = await serverRequests(client);
    t = performance.now();
    child = spawn(
      process.execPath,
      [join(REPO, 'dist/cli/main.js'), 'serve', '--kubeconfig', plane.kubeconfig, '--config', join(REPO, 'deploy/config.yaml'), '--cert-dir', join(work, 'certs'), '--port', String(port), '--health-port', '0', '--host', '127.0.0.1'],
      // The Deployment's environment (heap limits, malloc arenas), and NETFENCE_BENCH_NODE_OPTIONS:
      // node flags for the netfence child alone (--cpu-prof, --trace-gc).
      { cwd: REPO, stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')], env: { ...process.env, ...deployed, NODE_OPTIONS: `${deployed.NODE_OPTIONS ?? ''} ${process.env.NETFENCE_BENCH_NODE_OPTIONS ?? ''}`.trim(), POD_NAMESPACE: 'netfence-system', POD_NAME: 'bench', NETFENCE_LOG_LEVEL: 'info' } },
    );
    const pid = child.pid!;
    let heapPeak = 0;
    // A timeline of memory, to see which phase makes the peak: RSS, V8 heap used and total,
    // and memory outside the heap (buffers, sockets), every 5 s.
    const timeline: string[] = [];
    let ticks = 0;
    const sample = setInterval(() => {
      const tick = ticks++;
      scrape(port)
        .then((m) => {
          const used = m.get('netfence_nodejs_heap_size_used_bytes') ?? 0;
          heapPeak = Math.max(heapPeak, used);
          if (tick % 10 !== 0) return;
          const mb = (k: string): string => ((m.get(k) ?? NaN) / 2 ** 20).toFixed(0);
          timeline.push(`${((performance.now() - t) / 1000).toFixed(0).padStart(4)} s  RSS ${rssPeakMb(pid).rss.toFixed(0).padStart(4)}  heap ${mb('netfence_nodejs_heap_size_used_bytes').padStart(4)} / ${mb('netfence_nodejs_heap_size_total_bytes').padStart(4)}  external ${mb('netfence_nodejs_external_memory_bytes').padStart(4)} MB  queue ${m.get('netfence_baseline_queue_depth') ?? '-'}`);
        })
        .catch(() => undefined);
    }, 500);
    for (;;) {
      const ok = await request(`https://127.0.0.1:${port}/readyz`, { dispatcher }).then((r) => r.body.text().then(() => r.statusCode === 200), () => false);
      if (ok) break;
      if (child.exitCode !== null) throw new Error(`netfence exited with ${child.exitCode}; see ${log}`);
      if (performance.now() - t > 600_000) throw new Error(`netfence not ready after 10 minutes; see ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const ready = performance.now() - t;
    const atReady = rssPeakMb(pid);
    // Since the first readiness (server.ready logs the longest stall before it).
    const stall = async (): Promise<string> => `${(((await scrape(port)).get('netfence_event_loop_max_stall_seconds') ?? NaN) * 1000).toFixed(0)} ms since ready`;
    console.log(`netfence started with the Deployment's environment: ${Object.entries(deployed).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`);
    console.log(`ready after ${fmt(ready)}; RSS ${atReady.rss.toFixed(0)} MB (peak ${atReady.peak.toFixed(0)} MB); longest stall so far ${await stall()}`);

    // Every namespace with its baseline (both policies; allow-DNS is written second).
    for (;;) {
      if (!withBaseline) break;
      const n = await countPolicies(client, 'netfence-allow-dns', 'ns-');
      if (n >= namespaces) break;
      if (performance.now() - t > 1_800_000) throw new Error(`only ${n}/${namespaces} baselines after 30 minutes`);
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const baselined = performance.now() - t;
    console.log(`resident at the end of the first pass: ${rssByMapping(pid)}`);
    const afterStart = await scrape(port);
    const serverAfterStart = await serverRequests(client);
    console.log(`every namespace has its baseline after ${fmt(baselined)}; RSS peak ${rssPeakMb(pid).peak.toFixed(0)} MB; longest stall so far ${await stall()}`);

    // Idle: nothing changes; count what netfence asks of the API server.
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const afterIdle = await scrape(port);
    const serverAfterIdle = await serverRequests(client);
    console.log(`idle ${idleSeconds} s: RSS ${rssPeakMb(pid).rss.toFixed(0)} MB (${rssByMapping(pid)}); longest stall so far ${await stall()}`);
    if (process.env.NETFENCE_BENCH_HEAPSNAPSHOT) {
      // With NETFENCE_BENCH_NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2: what is live at idle.
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 30_000));
      console.log(`heap snapshot written in ${REPO} (Heap.*.heapsnapshot)`);
    }

    // Burst: new namespaces at once; time from create to their allow-DNS policy.
    const burst = Array.from({ length: burstSize }, (_, i) => `burst-${String(i).padStart(4, '0')}`);
    const created = new Map<string, number>();
    const done = new Map<string, number>();
    const abort = new AbortController();
    const listRv = (await client.get<{ metadata: { resourceVersion: string } }>('/apis/networking.k8s.io/v1/networkpolicies', { limit: 1 }))!.metadata.resourceVersion;
    const watching = client
      .watch('/apis/networking.k8s.io/v1/networkpolicies', { resourceVersion: listRv, fieldSelector: 'metadata.name=netfence-allow-dns', signal: abort.signal }, (e) => {
        const ns = (e.object.metadata as { namespace?: string } | undefined)?.namespace;
        if (e.type === 'ADDED' && ns && created.has(ns) && !done.has(ns)) done.set(ns, performance.now());
        if (done.size === burst.length) abort.abort();
      })
      .catch(() => undefined);
    const burstStart = performance.now();
    await parallel(burst, 48, async (name) => {
      created.set(name, performance.now());
      await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: BASELINE_LABELS } });
    });
    const burstDeadline = performance.now() + (withBaseline ? 600_000 : 0);
    while (done.size < burst.length && performance.now() < burstDeadline) await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await watching;
    const latencies = burst.filter((n) => done.has(n)).map((n) => done.get(n)! - created.get(n)!);
    const end = await scrape(port);
    clearInterval(sample);
    const mem = rssPeakMb(pid);

    const reqs = (m: Map<string, number>): number => sum(m, 'netfence_kube_api_requests_total');
    if (!withBaseline) console.log('(--no-baseline: namespaces carry no baseline labels, so the reconciler idles; baseline and burst figures do not apply)');
    console.log(`\n| size | ready after | RSS at ready → peak | heap peak | longest event-loop stall since ready | baseline for every namespace | connections opened | API requests (start → baselines) | API requests while idle (${idleSeconds} s) | all clients, as the API server counts them: start / idle | burst of ${burstSize}: p50 / p99 |`);
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    console.log(
      `| ${namespaces} ns / ${namespaces * 4} policies / ${namespaces * 10} pods | ${fmt(ready)} | ${atReady.rss.toFixed(0)} → ${mem.peak.toFixed(0)} MB | ${(heapPeak / 2 ** 20).toFixed(0)} MB | ${((end.get('netfence_event_loop_max_stall_seconds') ?? NaN) * 1000).toFixed(0)} ms | ${fmt(baselined)} | ${end.get('netfence_kube_api_connections_opened_total')} | ${reqs(afterStart)} | ${reqs(afterIdle) - reqs(afterStart)} | ${serverAfterStart - serverBefore} / ${serverAfterIdle - serverAfterStart} | ${latencies.length === 0 ? 'n/a' : `${latencies.length < burst.length ? `${burst.length - latencies.length} never got one; ` : ''}${fmt(pct(latencies, 50))} / ${fmt(pct(latencies, 99))}`} |`,
    );
    const readyLine = readFileSync(log, 'utf8').split('\n').find((l) => l.includes('"event":"server.ready"'));
    console.log(`\nlongest event-loop stall before ready (loading, first lists): ${readyLine ? `${(JSON.parse(readyLine) as { startupMaxStallMs: number }).startupMaxStallMs} ms` : 'n/a (no server.ready line)'}`);
    console.log(`\nmemory timeline (since start):\n${timeline.join('\n')}`);
    console.log(`\nrequests by verb at the end: ${[...end].filter(([k]) => k.startsWith('netfence_kube_api_requests_total')).map(([k, v]) => `${/verb="(\w+)"/.exec(k)?.[1]}=${v}`).join(' ')}`);
    // GC pauses by kind (prom-client's histogram): how much of the longest stall is the collector.
    const gc = (kind: string, le: string): number => end.get(`netfence_nodejs_gc_duration_seconds_bucket{le="${le}",kind="${kind}"}`) ?? 0;
    console.log(`GC pauses: ${['minor', 'major', 'incremental', 'weakcb'].map((k) => `${k} ${gc(k, '+Inf')} (over 50 ms: ${gc(k, '+Inf') - gc(k, '0.05')}, over 100 ms: ${gc(k, '+Inf') - gc(k, '0.1')})`).join(', ')}`);
    console.log(`watch restarts: ${[...end].filter(([k]) => k.startsWith('netfence_cluster_watch_restarts_total')).map(([k, v]) => `${k.slice(k.indexOf('{'))}=${v}`).join(' ') || 'none'}`);
    console.log(`burst: ${((performance.now() - burstStart) / 1000).toFixed(1)} s in all; netfence log: ${log}; bench client: ${client.stats().connectionsOpened} connections, ${Object.values(client.stats().requests).reduce((a, b) => a + b, 0) - Object.values(apiBefore.requests).reduce((a, b) => a + b, 0)} requests after the load`);
  } finally {
    child?.kill('SIGTERM');
    await dispatcher.close();
    client.close();
    if (!values.keep) await plane.stop();
    else console.log(`control plane left running in ${plane.dir}`);
  }
}

await main();
