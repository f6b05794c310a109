import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { Metrics } from '../audit/metrics.ts';
import { startAudit } from '../audit/start.ts';
import { BaselineCaches } from '../baseline/caches.ts';
import { BaselineController } from '../baseline/controller.ts';
import { EventRecorder } from '../baseline/events.ts';
import { kubeApis } from '../baseline/kube-api.ts';
import { baselineTemplates } from '../baseline/plan.ts';
import { LeaderElector } from '../baseline/leader.ts';
import { LiveClusterView, loadKubeConfig } from '../cluster/live.ts';
import { KubeClient } from '../kube/client.ts';
import { defaultHandlers } from '../admission/registry.ts';
import { ensureServingCert } from '../certs/files.ts';
import { defaultServingNames } from '../certs/generate.ts';
import { loadClusterInput } from '../cluster/input.ts';
import { StaticClusterView } from '../cluster/static.ts';
import type { ClusterView } from '../cluster/view.ts';
import { builtInConfig, ConfigError, loadConfigFile } from '../config/load.ts';
import { ConfigStore } from '../config/store.ts';
import { createLogger } from '../log.ts';
import { buildApp } from '../server/app.ts';
import { ServingCertificate } from '../server/serving-cert.ts';
import { UsageError } from './usage.ts';

/**
 * How long shutdown may take before open connections are cut. Kubernetes sends SIGKILL 30 s
 * after SIGTERM by default; 25 s leaves time to log the outcome before that.
 */
const SHUTDOWN_TIMEOUT_MS = 25_000;

export interface ServeOptions {
  config?: string;
  port: number;
  host: string;
  certDir: string;
  snapshots: string[];
  kubeconfig?: string;
  netfenceNamespace: string;
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
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port ${values.port}: must be a port number between 0 and 65535`);
  }
  return {
    ...(values.config !== undefined ? { config: values.config } : {}),
    port,
    host: values.host,
    certDir: values['cert-dir'],
    snapshots: values.snapshot ?? [],
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    netfenceNamespace: process.env.POD_NAMESPACE || 'netfence-system',
  };
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

async function startLive(options: ServeOptions, logger: Logger, metrics: Metrics, config: ConfigStore): Promise<LiveParts> {
  const kc = loadKubeConfig(options.kubeconfig);
  // One client (one connection pool, one rate limit) for everything netfence asks the API
  // server: the live view, the reconciler, its informers, Events and the Lease. The burst lets a
  // burst of new namespaces get its baseline within seconds.
  const client = await KubeClient.fromKubeConfig(kc, { qps: 50, burst: 200 });
  metrics.observeKubeClient(() => client.stats());
  const view = new LiveClusterView(client, logger, { server: client.server, onRestart: (resource, reason) => metrics.watchRestarts.inc({ resource, reason }) });
  metrics.observeStaleness(() => view.staleness());
  const apis = kubeApis(client);
  // Every baseline kind must be served and listable, watchable, creatable and patchable by
  // netfence: refuse to start otherwise, saying which config entry and what to do.
  const caches = new BaselineCaches(client, logger);
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
  const audit = startAudit({ client, view, config, leader, logger, metrics, netfenceNamespace: options.netfenceNamespace });
  leader.start();
  return { view, leader, controller, caches, client, audit };
}

async function clusterView(options: ServeOptions, logger: Logger, metrics: Metrics, config: ConfigStore): Promise<{ view: ClusterView; live?: LiveParts }> {
  if (options.snapshots.length > 0) {
    // Validated like check and reach: a snapshot policy the API server would refuse is bad input.
    return { view: loadClusterInput(options.snapshots, `snapshot ${options.snapshots.join(', ')}`).view };
  }
  if (options.kubeconfig || process.env.KUBECONFIG || process.env.KUBERNETES_SERVICE_HOST) {
    const live = await startLive(options, logger, metrics, config);
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
  const { generated } = ensureServingCert(options.certDir, defaultServingNames(options.netfenceNamespace));
  if (generated) {
    logger.info({ event: 'certificate.generated', dir: options.certDir }, `generated a CA and a serving certificate in ${options.certDir}; give ca.crt to the API server as caBundle`);
  }
  const certificate = new ServingCertificate(options.certDir);
  const metrics = new Metrics();
  const { view: cluster, live } = await clusterView(options, logger, metrics, config);

  const { app, readiness } = buildApp({
    logger,
    config,
    cluster,
    handlers: defaultHandlers(),
    certificate,
    metrics,
    netfenceNamespace: options.netfenceNamespace,
  });
  certificate.watch();
  config.watch();

  await app.listen({ port: options.port, host: options.host });
  logger.info(
    {
      event: 'server.started',
      address: app.server.address(),
      configHash: loaded.hash,
      configSource: loaded.source,
      cluster: cluster.describe(),
      certificateExpires: certificate.expiry().toISOString(),
    },
    'netfence is serving',
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      readiness.markShuttingDown();
      logger.info({ event: 'server.stopping', signal }, 'stopping: finishing requests in flight');
      const deadline = setTimeout(() => {
        logger.error({ event: 'server.stop_timeout', timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown took too long; closing open connections');
        app.server.closeAllConnections();
      }, SHUTDOWN_TIMEOUT_MS);
      deadline.unref();
      certificate.close();
      config.close();
      void live?.controller.stop();
      live?.caches.stop();
      void live?.view.stop();
      // The lease is given up while requests drain, so that another replica takes over at once.
      Promise.all([app.close(), live?.leader.stop(), live?.audit.stop()]).then(
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
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
