import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { Metrics } from '../audit/metrics.ts';
import { BaselineController } from '../baseline/controller.ts';
import { kubeApis } from '../baseline/kube-api.ts';
import { LeaderElector } from '../baseline/leader.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { LiveClusterView, loadKubeConfig } from '../cluster/live.ts';
import { defaultHandlers } from '../admission/registry.ts';
import { defaultServingNames } from '../certs/generate.ts';
import { parseDuration, setUpCertificates } from '../certs/modes.ts';
import { loadClusterInput } from '../cluster/input.ts';
import { StaticClusterView } from '../cluster/static.ts';
import type { ClusterView } from '../cluster/view.ts';
import { builtInConfig, loadConfigFile } from '../config/load.ts';
import { ConfigStore } from '../config/store.ts';
import { createLogger } from '../log.ts';
import { buildApp } from '../server/app.ts';
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
  /** Self-managed certificates in this Secret; without it, files in certDir. */
  certSecret?: string;
  webhookConfiguration: string;
  service: string;
  failurePolicy: 'Fail' | 'Ignore';
  caValidityMs: number;
  servingValidityMs: number;
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
  };
}

/** The parts that run against a live cluster: its cache, leader election, the reconciler. */
interface LiveParts {
  kc: KubeConfig;
  view: LiveClusterView;
  leader: LeaderElector;
  controller: BaselineController;
}

/** The Lease that elects the one replica that writes baseline policies. */
export const BASELINE_LEASE = 'netfence-baseline';

function startLive(options: ServeOptions, logger: Logger, metrics: Metrics, config: ConfigStore, kc: KubeConfig): LiveParts {
  const view = new LiveClusterView(kc, logger, { onRestart: (resource, reason) => metrics.watchRestarts.inc({ resource, reason }) });
  metrics.observeStaleness(() => view.staleness());
  const apis = kubeApis(kc);
  const identity = process.env.POD_NAME || `${hostname()}-${process.pid}`;
  const leader = new LeaderElector(apis.lease, logger, { namespace: options.netfenceNamespace, name: BASELINE_LEASE, identity });
  leader.on('started', () => metrics.leader.set(1));
  leader.on('stopped', () => metrics.leader.set(0));
  const controller = new BaselineController({
    api: apis.baseline,
    view,
    config,
    leader,
    logger,
    identity,
    netfenceNamespace: options.netfenceNamespace,
    metrics: {
      action: (action, result) => metrics.baselineActions.inc({ action, result }),
      queueDepth: (n) => metrics.baselineQueue.set(n),
    },
  });
  view.start();
  controller.start();
  leader.start();
  return { kc, view, leader, controller };
}

function wantsCluster(options: ServeOptions): boolean {
  return options.snapshots.length === 0 && !!(options.kubeconfig || process.env.KUBECONFIG || process.env.KUBERNETES_SERVICE_HOST);
}

function clusterView(options: ServeOptions, logger: Logger, metrics: Metrics, config: ConfigStore, kc: KubeConfig | undefined): { view: ClusterView; live?: LiveParts } {
  if (options.snapshots.length > 0) {
    // Validated like check and reach: a snapshot policy the API server would refuse is bad input.
    return { view: loadClusterInput(options.snapshots, `snapshot ${options.snapshots.join(', ')}`).view };
  }
  if (kc) {
    const live = startLive(options, logger, metrics, config, kc);
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
  const kc = wantsCluster(options) ? loadKubeConfig(options.kubeconfig) : undefined;
  if (options.certSecret && !kc) {
    throw new UsageError(`--cert-secret ${options.certSecret}: self-managed certificates need a cluster (--kubeconfig, KUBECONFIG, or running in a pod) and no --snapshot; use --cert-dir without one`);
  }
  const certs = await setUpCertificates(
    { ...options, namespace: options.netfenceNamespace, names: defaultServingNames(options.netfenceNamespace, options.service) },
    logger,
    kc,
  );
  const { certificate } = certs;
  const metrics = new Metrics();
  const { view: cluster, live } = clusterView(options, logger, metrics, config, kc);

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
  const certController = live && certs.startLive ? certs.startLive(live.leader, readiness) : undefined;

  await app.listen({ port: options.port, host: options.host });
  logger.info(
    {
      event: 'server.started',
      address: app.server.address(),
      configHash: loaded.hash,
      configSource: loaded.source,
      cluster: cluster.describe(),
      certificateExpires: certificate.expiry().toISOString(),
      certificateSource: certificate.source.description,
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
      live?.controller.stop();
      live?.view.stop();
      // The lease is given up while requests drain, so that another replica takes over at once.
      Promise.all([app.close(), (certController?.stop() ?? Promise.resolve()).then(() => live?.leader.stop())]).then(
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
