import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { Metrics } from '../audit/metrics.ts';
import { startAudit } from '../audit/start.ts';
import { BaselineCaches } from '../baseline/caches.ts';
import { TierReport } from '../audit/tier-report.ts';
import { BaselineController } from '../baseline/controller.ts';
import { EventRecorder } from '../baseline/events.ts';
import { kubeApis } from '../baseline/kube-api.ts';
import { baselineTemplates } from '../baseline/plan.ts';
import { LeaderElector } from '../baseline/leader.ts';
import { LiveClusterView } from '../cluster/live.ts';
import { KubeClient } from '../kube/client.ts';
import { loadTransport } from '../kube/config.ts';
import { defaultHandlers } from '../admission/registry.ts';
import { defaultServingNames } from '../certs/generate.ts';
import { parseDuration, setUpCertificates, type CertificateOptions } from '../certs/modes.ts';
import { loadClusterInput } from '../cluster/input.ts';
import { StaticClusterView } from '../cluster/static.ts';
import type { ClusterView } from '../cluster/view.ts';
import { builtInConfig, ConfigError, loadConfigFile } from '../config/load.ts';
import { webhookNamespaceSelector } from '../config/exclusions.ts';
import { ConfigStore } from '../config/store.ts';
import { createLogger } from '../log.ts';
import { buildApp } from '../server/app.ts';
import { CompiledCache } from '../netpol/index.ts';
import { HealthServer } from '../server/health.ts';
import { UsageError } from './usage.ts';

/**
 * How long, after SIGTERM, netfence keeps accepting and answering (not ready, every response
 * with `Connection: close`) before it stops listening. Kubernetes removes a terminating pod
 * from the Service's endpoints while SIGTERM is delivered, not before, and the API server and
 * kube-proxy take a few seconds to see it: requests keep arriving meanwhile, and refusing them
 * would fail admissions. 10 s covers endpoint propagation in ordinary clusters.
 */
export const DEFAULT_SHUTDOWN_DELAY_MS = 10_000;

/**
 * After the drain, how long requests in flight may take before open connections are cut. The
 * API server waits at most 30 s for a webhook (deploy/ sets 5 s), so 15 s finishes any request
 * worth finishing; delay + 15 s stays within the Deployment's terminationGracePeriodSeconds.
 */
const SHUTDOWN_FINISH_MS = 15_000;

/**
 * The flags of `serve`. The certificate flags are CertificateOptions' own (certDir, certSecret:
 * self-managed certificates in that Secret, else files in certDir; webhook configuration,
 * service, failure policy, validities); the namespace and serving names are derived.
 */
export interface ServeOptions extends Omit<CertificateOptions, 'namespace' | 'names'> {
  config?: string;
  port: number;
  host: string;
  snapshots: string[];
  kubeconfig?: string;
  netfenceNamespace: string;
  /** Drain window after SIGTERM, in milliseconds. */
  shutdownDelayMs: number;
  /** PEM of the CA that verifies the API server's client certificate (`--client-ca`). */
  clientCA?: string;
  clientCAFile?: string;
  maxConnections?: number;
  /** Plain-HTTP port of the probe server (`--health-port`), answered by a worker thread. */
  healthPort: number;
}

/** The kubelet probes this port; see src/server/health.ts for why it is separate. */
export const DEFAULT_HEALTH_PORT = 8081;

/** `10s`, `2.5s`, `500ms` or a bare number of seconds; bounded so a typo cannot hang shutdown. */
function parseShutdownDelay(flag: string, text: string, maxMs: number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : NaN;
  if (!Number.isFinite(ms) || ms > maxMs) {
    throw new UsageError(`${flag} ${text}: expected a duration such as 10s or 500ms, at most ${maxMs / 1000}s`);
  }
  return Math.round(ms);
}

export function parseServeArgs(args: string[]): ServeOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string' },
      port: { type: 'string', default: '8443' },
      host: { type: 'string', default: '0.0.0.0' },
      'cert-dir': { type: 'string', default: 'certs' },
      snapshot: { type: 'string', multiple: true },
      kubeconfig: { type: 'string' },
      'cert-secret': { type: 'string' },
      'webhook-configuration': { type: 'string', default: 'netfence' },
      service: { type: 'string', default: 'netfence' },
      'failure-policy': { type: 'string', default: 'Fail' },
      'ca-validity': { type: 'string', default: '26280h' },
      'serving-validity': { type: 'string', default: '2160h' },
      'shutdown-delay': { type: 'string', default: `${DEFAULT_SHUTDOWN_DELAY_MS / 1000}s` },
      'client-ca': { type: 'string' },
      'max-connections': { type: 'string' },
      'health-port': { type: 'string' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port ${values.port}: must be a port number between 0 and 65535`);
  }
  const failurePolicy = values['failure-policy'];
  if (failurePolicy !== 'Fail' && failurePolicy !== 'Ignore') throw new UsageError(`--failure-policy ${failurePolicy}: must be Fail or Ignore`);
  let caValidityMs: number;
  let servingValidityMs: number;
  try {
    caValidityMs = parseDuration('--ca-validity', values['ca-validity']);
    servingValidityMs = parseDuration('--serving-validity', values['serving-validity']);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // The CA is rotated when a third of its life is left; a serving certificate must fit in that.
  if (caValidityMs < 2 * servingValidityMs) throw new UsageError(`--ca-validity ${values['ca-validity']}: must be at least twice --serving-validity ${values['serving-validity']}`);
  // With --port 0 (any free port: tests, local runs) the health port is any free one too, so
  // that several servers on one host never contend for 8081.
  const healthText = values['health-port'] ?? String(port === 0 ? 0 : DEFAULT_HEALTH_PORT);
  const healthPort = /^\d{1,5}$/.test(healthText) ? Number(healthText) : NaN;
  if (!(healthPort <= 65535) || (healthPort === port && port !== 0)) {
    throw new UsageError(`--health-port ${healthText}: must be a port number between 0 and 65535, other than --port`);
  }
  let maxConnections: number | undefined;
  if (values['max-connections'] !== undefined) {
    maxConnections = Number(values['max-connections']);
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new UsageError(`--max-connections ${values['max-connections']}: must be a whole number of connections, at least 1`);
    }
  }
  let clientCA: string | undefined;
  if (values['client-ca'] !== undefined) {
    clientCA = readClientCA(values['client-ca']);
  }
  return {
    ...(values['cert-secret'] !== undefined ? { certSecret: values['cert-secret'] } : {}),
    webhookConfiguration: values['webhook-configuration'],
    service: values.service,
    failurePolicy,
    caValidityMs,
    servingValidityMs,
    ...(values.config !== undefined ? { config: values.config } : {}),
    port,
    host: values.host,
    certDir: values['cert-dir'],
    snapshots: values.snapshot ?? [],
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    netfenceNamespace: process.env.POD_NAMESPACE || 'netfence-system',
    shutdownDelayMs: parseShutdownDelay('--shutdown-delay', values['shutdown-delay'], 120_000),
    ...(clientCA !== undefined ? { clientCA, clientCAFile: values['client-ca'] } : {}),
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    healthPort,
  };
}

/** The client CA must be PEM certificates: anything else would make every review fail with 401. */
function readClientCA(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--client-ca ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    new X509Certificate(pem);
  } catch (err) {
    throw new UsageError(`--client-ca ${file}: not a PEM CA certificate (${(err as Error).message}); give the CA that signs the API server's client certificate`);
  }
  return pem;
}

/** The parts that run against a live cluster: its cache, leader election, the reconciler. */
interface LiveParts {
  view: LiveClusterView;
  leader: LeaderElector;
  controller: BaselineController;
  caches: BaselineCaches;
  client: KubeClient;
  audit: { stop(): Promise<void> };
}

/** The Lease that elects the one replica that writes baseline policies. */
export const BASELINE_LEASE = 'netfence-baseline';

async function startLive(options: ServeOptions, logger: Logger, metrics: Metrics, config: ConfigStore, client: KubeClient, compiled: CompiledCache): Promise<LiveParts> {
  // One client, one connection pool, for everything netfence asks the API server: the live
  // view, the reconciler, its informers, Events, the Lease and the certificates. The rate limit
  // bounds how fast baselines are written (two writes per namespace by default): 200 new
  // namespaces need 2 s of it at most (the burst covers half), 5,000 bare namespaces about 100 s.
  metrics.observeKubeClient(() => client.stats());
  const view = new LiveClusterView(client, logger, { server: client.server, onRestart: (resource, reason) => metrics.watchRestarts.inc({ resource, reason }) });
  metrics.observeStaleness(() => view.staleness());
  const apis = kubeApis(client);
  // Every baseline kind must be served and listable, watchable, creatable and patchable by
  // netfence: refuse to start otherwise, saying which config entry and what to do.
  const caches = new BaselineCaches(client, logger, view);
  const templates = baselineTemplates(config.current().config);
  const problems = await caches.resolveWithRetry(templates).catch((err: unknown) => {
    client.close();
    throw err;
  });
  if (problems.length > 0) {
    client.close();
    throw new ConfigError(`${config.current().source} (checked against the cluster)`, problems);
  }
  await caches.follow(templates);
  const identity = process.env.POD_NAME || `${hostname()}-${process.pid}`;
  const leader = new LeaderElector(apis.lease, logger, { namespace: options.netfenceNamespace, name: BASELINE_LEASE, identity });
  leader.on('started', () => metrics.leader.set(1));
  leader.on('stopped', () => metrics.leader.set(0));
  const controller = new BaselineController({
    api: apis.baseline,
    caches,
    events: new EventRecorder(apis.events, logger, { identity }),
    view,
    config,
    leader,
    logger,
    netfenceNamespace: options.netfenceNamespace,
    metrics: {
      action: (action, result) => metrics.baselineActions.inc({ action, result }),
      queueDepth: (n) => metrics.baselineQueue.set(n),
    },
  });
  caches.onChange = (namespace) => controller.objectChanged(namespace);
  caches.onSynced = () => controller.enqueueAll();
  view.start();
  controller.start();
  // The audit's first pass waits for the reconciler's (on the leader, the only replica that
  // writes): judged before, most namespaces would be judged again as their baselines land.
  const audit = startAudit({ client, view, config, leader, logger, metrics, netfenceNamespace: options.netfenceNamespace, compiled, holdFirstPass: () => leader.isLeader() && controller.queueLength > 0 });
  leader.start();
  return { view, leader, controller, caches, client, audit };
}

function wantsCluster(options: ServeOptions): boolean {
  return options.snapshots.length === 0 && !!(options.kubeconfig || process.env.KUBECONFIG || process.env.KUBERNETES_SERVICE_HOST);
}

async function clusterView(options: ServeOptions, logger: Logger, metrics: Metrics, config: ConfigStore, client: KubeClient | undefined, compiled: CompiledCache): Promise<{ view: ClusterView; live?: LiveParts }> {
  if (options.snapshots.length > 0) {
    // Validated like check and reach: a snapshot policy the API server would refuse is bad input.
    return { view: loadClusterInput(options.snapshots, `snapshot ${options.snapshots.join(', ')}`).view };
  }
  if (client) {
    const live = await startLive(options, logger, metrics, config, client, compiled);
    return { view: live.view, live };
  }
  logger.warn(
    { event: 'cluster.empty' },
    'no cluster and no --snapshot: decisions see an empty cluster (no namespaces, pods or policies)',
  );
  return { view: StaticClusterView.empty() };
}

/** Runs the webhook until SIGTERM or SIGINT; resolves with the exit code. */
export async function serve(args: string[]): Promise<number> {
  const options = parseServeArgs(args);
  const logger = createLogger();
  const loaded = options.config ? loadConfigFile(options.config) : builtInConfig();
  const config = new ConfigStore(loaded, options.config);
  const client = wantsCluster(options) ? new KubeClient(await loadTransport(options.kubeconfig), { qps: 100, burst: 200 }) : undefined;
  if (options.certSecret && !client) {
    throw new UsageError(`--cert-secret ${options.certSecret}: self-managed certificates need a cluster (--kubeconfig, KUBECONFIG, or running in a pod) and no --snapshot; use --cert-dir without one`);
  }
  const certs = await setUpCertificates(
    { ...options, namespace: options.netfenceNamespace, names: defaultServingNames(options.netfenceNamespace, options.service) },
    logger,
    client,
  );
  const { certificate } = certs;
  const metrics = new Metrics();
  // Admission and the background audit read the same view: each policy is compiled and kept once.
  const compiled = new CompiledCache();
  const { view: cluster, live } = await clusterView(options, logger, metrics, config, client, compiled);

  const { app, beginDrain, readiness } = buildApp({
    logger,
    config,
    cluster,
    handlers: defaultHandlers(),
    certificate,
    metrics,
    compiled,
    netfenceNamespace: options.netfenceNamespace,
    ...(options.clientCA !== undefined ? { clientCA: options.clientCA } : {}),
    ...(options.maxConnections !== undefined ? { limits: { maxConnections: options.maxConnections } } : {}),
  });
  certificate.watch();
  config.watch();
  // The leader keeps the webhooks' namespaceSelector equal to the config's exclusions.
  const certController = live && certs.startLive ? certs.startLive(live.leader, readiness, () => webhookNamespaceSelector(config.current().config, options.netfenceNamespace)) : undefined;
  const tierReport = new TierReport(config, cluster, logger, metrics.registry);

  await app.listen({ port: options.port, host: options.host });
  const health = await HealthServer.start({
    port: options.healthPort,
    host: options.host,
    report: () => readiness.report(),
    onFailure: (reason) => logger.error({ event: 'health.failed', reason }, 'the health port stopped; probes will fail until the pod is restarted'),
  }).catch(async (err: unknown) => {
    await app.close();
    throw err;
  });
  logger.info(
    {
      event: 'server.started',
      address: app.server.address(),
      healthAddress: health.address,
      configHash: loaded.hash,
      configSource: loaded.source,
      cluster: cluster.describe(),
      certificateExpires: certificate.expiry().toISOString(),
      certificateSource: certificate.source.description,
      clientCA: options.clientCAFile ?? null,
      shutdownDelayMs: options.shutdownDelayMs,
    },
    'netfence is serving',
  );
  // Stalls before the first readiness (loading, the first lists) keep no admission request
  // waiting (the API server sends none to an unready replica): logged here, and the stall
  // metric counts from then on.
  const untilReady = setInterval(() => {
    if (!readiness.report().ready) return;
    clearInterval(untilReady);
    logger.info({ event: 'server.ready', startupMaxStallMs: Math.round(metrics.firstReady() * 1000) }, 'ready: decisions read a synced cluster view');
  }, 250);
  untilReady.unref();

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      // 1. Drain: not ready, still accepting and answering, every response closing its
      //    connection, so clients reconnect (to another replica once endpoints are updated).
      beginDrain();
      health.pushReadiness();
      logger.info({ event: 'server.stopping', signal, shutdownDelayMs: options.shutdownDelayMs }, 'stopping: not ready, draining connections');
      const deadline = setTimeout(() => {
        logger.error({ event: 'server.stop_timeout', timeoutMs: options.shutdownDelayMs + SHUTDOWN_FINISH_MS }, 'shutdown took too long; closing open connections');
        app.server.closeAllConnections();
      }, options.shutdownDelayMs + SHUTDOWN_FINISH_MS);
      deadline.unref();
      certificate.close();
      config.close();
      tierReport.close();
      void live?.controller.stop();
      live?.caches.stop();
      // The lease is given up at once, so that another replica takes over the reconciler.
      const leaderStopped = (certController?.stop() ?? Promise.resolve()).then(() => live?.leader.stop()).catch((err: unknown) => {
        logger.warn({ event: 'leader.release_failed', err }, 'could not give up the baseline Lease; it expires by itself');
      });
      // 2. Close: stop listening, close idle connections, wait for requests in flight.
      setTimeout(() => {
        logger.info({ event: 'server.closing' }, 'drain over: no longer accepting connections, finishing requests in flight');
        void live?.view.stop();
        Promise.all([app.close(), leaderStopped, live?.audit.stop(), health.close()]).then(
          () => {
            clearTimeout(deadline);
            logger.info({ event: 'server.stopped' }, 'stopped');
            logger.flush(() => resolve(0));
          },
          (err: unknown) => {
            logger.error({ event: 'server.stop_failed', err }, 'shutdown failed');
            logger.flush(() => resolve(1));
          },
        );
      }, options.shutdownDelayMs);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
