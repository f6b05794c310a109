import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/**
 * The probe server: `GET /healthz` and `GET /readyz` over plain HTTP on their own port, served
 * by a worker thread. A large review keeps the main thread's event loop busy for up to about a
 * second of CPU (several seconds of wall time on a loaded node), and probes answered by that
 * loop would wait for it; from the worker they are answered at once.
 *
 * Liveness still sees a main thread that is truly stuck: the main thread stores a heartbeat (a
 * monotonic time) in shared memory every HEARTBEAT_INTERVAL_MS, and the worker's `/healthz`
 * fails when the heartbeat is older than HEARTBEAT_STALE_MS. Readiness is computed by the main
 * thread, which sends its report to the worker whenever it changes (shutdown at once); the
 * worker answers from the last report it got.
 *
 * This module is also the worker's own code: the worker runs this same file (so it works from
 * the sources and from dist/ alike) and starts serving when it sees its workerData.
 */

/** How often the main thread proves it is alive, and re-reads its readiness checks. */
export const HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * How old the heartbeat may grow before `/healthz` fails. The largest review takes under 1 s
 * of CPU (README, decision budget) and a few seconds of wall time on a loaded node: 30 s is far
 * above any legitimate decision, and still finds a wedged event loop within one probe period.
 */
export const HEARTBEAT_STALE_MS = 30_000;

/** Probes are a few requests a minute from the kubelet: a few connections are all it needs. */
const MAX_PROBE_CONNECTIONS = 64;

/**
 * The worker's own heap: it holds one small server and the last readiness report. Bounded so
 * that it can never take memory from the decisions (the pod's limit is 512 Mi); measured, the
 * worker adds about 28 MiB RSS, most of it the V8 isolate itself.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 };

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean>;
}

interface ProbeAnswer {
  statusCode: number;
  body: Record<string, unknown>;
}

/** Liveness from the heartbeat's age (both times in ms of the same monotonic clock). */
export function liveness(lastBeatMs: number, nowMs: number, staleMs = HEARTBEAT_STALE_MS): ProbeAnswer {
  const ageMs = Math.max(0, Math.round(nowMs - lastBeatMs));
  if (ageMs > staleMs) {
    return { statusCode: 503, body: { status: 'stale', heartbeatAgeMs: ageMs, staleAfterMs: staleMs } };
  }
  return { statusCode: 200, body: { status: 'ok', heartbeatAgeMs: ageMs } };
}

/** Readiness from the last report the main thread sent; none yet means not ready. */
export function readiness(report: ReadinessReport | undefined): ProbeAnswer {
  if (!report) return { statusCode: 503, body: { ready: false, checks: { reported: false } } };
  return { statusCode: report.ready ? 200 : 503, body: { ...report } };
}

/** Milliseconds of the monotonic clock every thread of the process shares. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

/** Routes a probe request; pure but for the clock and the report, which are passed in. */
export function answerProbe(method: string | undefined, url: string | undefined, state: { lastBeatMs: number; nowMs: number; report: ReadinessReport | undefined; staleMs?: number }): ProbeAnswer {
  const path = (url ?? '').split('?')[0];
  if (method !== 'GET' && method !== 'HEAD') {
    return { statusCode: 405, body: { error: `method ${method ?? ''} not allowed; the health port serves GET /healthz and GET /readyz` } };
  }
  if (path === '/healthz') return liveness(state.lastBeatMs, state.nowMs, state.staleMs);
  if (path === '/readyz') return readiness(state.report);
  return { statusCode: 404, body: { error: `no route ${method} ${path}; the health port serves GET /healthz and GET /readyz` } };
}

type ToWorker = { type: 'readiness'; report: ReadinessReport } | { type: 'close' };
type FromWorker = { type: 'listening'; address: AddressInfo } | { type: 'error'; message: string };

interface WorkerData {
  role: 'netfence-health';
  port: number;
  host: string;
  heartbeat: SharedArrayBuffer;
  staleMs: number;
}

/** Main-thread side: starts the worker, beats, forwards readiness, stops it. */
export class HealthServer {
  private readonly heartbeat: BigInt64Array;
  private readonly worker: Worker;
  private readonly report: () => ReadinessReport;
  private readonly exited: Promise<void>;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = '';
  private closing = false;
  /** Where the probe server listens. */
  readonly address: AddressInfo;

  private constructor(worker: Worker, report: () => ReadinessReport, heartbeat: SharedArrayBuffer, address: AddressInfo) {
    this.worker = worker;
    this.report = report;
    this.heartbeat = new BigInt64Array(heartbeat);
    this.address = address;
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /**
   * Listens on host:port (0 for any free port); rejects when the port cannot be bound.
   * `onFailure` hears of a worker that stops by itself (an exception, its heap limit): its probes
   * then go unanswered, and the kubelet restarts the pod, which is what a broken probe server
   * needs.
   */
  static async start(options: { port: number; host: string; report: () => ReadinessReport; staleMs?: number; onFailure?: (reason: string) => void }): Promise<HealthServer> {
    const heartbeat = new SharedArrayBuffer(8);
    Atomics.store(new BigInt64Array(heartbeat), 0, BigInt(monotonicMs()));
    const data: WorkerData = { role: 'netfence-health', port: options.port, host: options.host, heartbeat, staleMs: options.staleMs ?? HEARTBEAT_STALE_MS };
    const worker = new Worker(new URL(import.meta.url), { workerData: data, resourceLimits: WORKER_LIMITS });
    const address = await new Promise<AddressInfo>((resolve, reject) => {
      const onMessage = (m: FromWorker): void => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (m.type === 'listening') resolve(m.address);
        else reject(new Error(`health port ${options.host}:${options.port}: ${m.message}`));
      };
      const onError = (err: Error): void => reject(err);
      const onExit = (code: number): void => reject(new Error(`the health worker exited (${code}) before listening`));
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    // The worker never keeps the process alive: serve ends when the main thread is done.
    worker.unref();
    const server = new HealthServer(worker, options.report, heartbeat, address);
    let failure = '';
    // Listened to for as long as the worker runs: an unheard 'error' would crash the process.
    worker.on('error', (err: Error) => (failure = err.message));
    worker.once('exit', (code) => {
      clearInterval(server.timer);
      if (!server.closing) options.onFailure?.(failure || `exited with code ${code}`);
    });
    server.tick();
    server.timer = setInterval(() => server.tick(), HEARTBEAT_INTERVAL_MS);
    server.timer.unref();
    return server;
  }

  /** Beats, and sends the readiness report when it changed since the last one sent. */
  tick(): void {
    Atomics.store(this.heartbeat, 0, BigInt(monotonicMs()));
    this.pushReadiness();
  }

  /** Sends the current readiness report now if it changed (call it when shutdown begins). */
  pushReadiness(): void {
    const report = this.report();
    const text = JSON.stringify(report);
    if (text === this.lastSent) return;
    this.lastSent = text;
    this.worker.postMessage({ type: 'readiness', report } satisfies ToWorker);
  }

  /** Stops beating and closes the probe port; resolves when the worker has exited. */
  async close(timeoutMs = 2_000): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    // Held while it closes, so that the wait for its exit keeps the event loop alive.
    this.worker.ref();
    this.worker.postMessage({ type: 'close' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    if ((await Promise.race([this.exited, timeout])) === 'timeout') await this.worker.terminate();
    clearTimeout(timer);
  }
}

/** Worker side: the probe server itself. Reads the heartbeat, keeps the last readiness report. */
function runWorker(data: WorkerData): void {
  const port = parentPort!;
  const heartbeat = new BigInt64Array(data.heartbeat);
  let report: ReadinessReport | undefined;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const answer = answerProbe(req.method, req.url, { lastBeatMs: Number(Atomics.load(heartbeat, 0)), nowMs: monotonicMs(), report, staleMs: data.staleMs });
    const body = JSON.stringify(answer.body);
    res.writeHead(answer.statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // A probe is one small GET: short deadlines, few connections.
  server.headersTimeout = 5_000;
  server.requestTimeout = 5_000;
  server.keepAliveTimeout = 15_000;
  server.maxConnections = MAX_PROBE_CONNECTIONS;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'readiness') {
      report = m.report;
    } else if (m.type === 'close') {
      server.close(() => port.close());
      server.closeAllConnections();
    }
  });
  server.once('error', (err: NodeJS.ErrnoException) => {
    port.postMessage({ type: 'error', message: err.code ?? err.message } satisfies FromWorker);
    port.close();
  });
  server.listen(data.port, data.host, () => {
    port.postMessage({ type: 'listening', address: server.address() as AddressInfo } satisfies FromWorker);
  });
}

if (!isMainThread && (workerData as Partial<WorkerData> | null)?.role === 'netfence-health') {
  runWorker(workerData as WorkerData);
}
