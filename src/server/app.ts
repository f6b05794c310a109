import Fastify, { LogController, type FastifyError } from 'fastify';
import type { Logger } from 'pino';
import { Admission } from '../admission/admit.ts';
import type { Endpoint, HandlerTable } from '../admission/handlers.ts';
import { DecisionLog } from '../audit/decision-log.ts';
import { Metrics } from '../audit/metrics.ts';
import type { ClusterView } from '../cluster/view.ts';
import type { ConfigStore } from '../config/store.ts';
import { Readiness } from './readiness.ts';
import type { ServingCertificate } from './serving-cert.ts';

/**
 * Body limit. etcd stores objects of up to about 1.5 MiB and the API server accepts requests
 * of up to 3 MiB; a review carries the object and, on UPDATE, the old object, plus the
 * envelope: about 7 MiB in the worst case. Anything larger is not a review the API server
 * could send, and is refused with 413 before it is parsed.
 */
export const BODY_LIMIT_BYTES = 7 * 1024 * 1024;

/**
 * The API server waits at most 30 s for a webhook (timeoutSeconds is capped at 30), so a
 * request still incomplete after that is not worth finishing: it bounds slow clients.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The API server's webhook client (Go's http.Transport) closes idle connections after 90 s.
 * Keeping ours open a little longer means the client always closes first, so it never sends
 * a review on a connection the server is closing at that very moment.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 95_000;

export interface AppOptions {
  logger: Logger;
  config: ConfigStore;
  cluster: ClusterView;
  handlers: HandlerTable;
  certificate: ServingCertificate;
  metrics?: Metrics;
  readiness?: Readiness;
  netfenceNamespace?: string;
  clock?: () => Date;
}

export interface NetfenceApp {
  app: NetfenceFastify;
  metrics: Metrics;
  readiness: Readiness;
}

function createFastify(logger: Logger, pair: { cert: string; key: string }) {
  return Fastify({
    loggerInstance: logger,
    // Every decision is logged by the decision log; per-request access logs would double it.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: nothing logs through request.log (decisions go to the
    // decision log, errors to the one error handler), and a child per request costs an
    // allocation on the hot path.
    childLoggerFactory: (logger) => logger,
    https: { ...pair, minVersion: 'TLSv1.2' },
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // On close, finish what is in flight; requests arriving on open connections meanwhile are
    // still answered (a 503 would fail the API server's call), idle connections are closed.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Objects are judged exactly as sent. JSON.parse gives `__proto__` keys as plain own
    // properties; netfence never merges request data into other objects, so the scan that
    // secure-json-parse does for prototype poisoning would only cost time or refuse valid data.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
  });
}

export type NetfenceFastify = ReturnType<typeof createFastify>;

/** Builds the HTTPS app. It never listens: serve and the tests decide where. */
export function buildApp(options: AppOptions): NetfenceApp {
  const metrics = options.metrics ?? new Metrics();
  const readiness = options.readiness ?? new Readiness();
  const { certificate, logger } = options;

  const app = createFastify(logger, certificate.current());

  const onCertChange = (pair: { cert: string; key: string }): void => {
    // New connections get the new certificate; open ones keep theirs until they close.
    app.server.setSecureContext({ ...pair, minVersion: 'TLSv1.2' });
    metrics.certificateExpiry.set(certificate.expiry().getTime() / 1000);
    logger.info({ event: 'certificate.reloaded', expires: certificate.expiry().toISOString() }, 'serving certificate reloaded');
  };
  const onCertReload = (r: { result: 'success' } | { result: 'failure'; error: string }): void => {
    metrics.certificateReloads.inc({ result: r.result });
    if (r.result === 'failure') {
      logger.error({ event: 'certificate.reload_failed', error: r.error }, 'new serving certificate refused; the previous one stays in use');
    }
  };
  certificate.on('change', onCertChange);
  certificate.on('reload', onCertReload);
  metrics.certificateExpiry.set(certificate.expiry().getTime() / 1000);

  const loaded = options.config.current();
  metrics.setConfig(loaded.hash, loaded.source);
  const onConfigReload = (r: ReturnType<ConfigStore['reload']>): void => {
    if (r.result === 'unchanged') return;
    metrics.configReloads.inc({ result: r.result });
    if (r.result === 'success') {
      metrics.setConfig(r.config.hash, r.config.source);
      logger.info({ event: 'config.reloaded', configHash: r.config.hash, source: r.config.source }, 'config reloaded');
    } else {
      logger.error(
        { event: 'config.reload_failed', errors: r.error.errors, configHash: options.config.current().hash },
        'config reload refused; the last good config stays in force',
      );
    }
  };
  options.config.on('reload', onConfigReload);
  app.addHook('onClose', async () => {
    certificate.off('change', onCertChange);
    certificate.off('reload', onCertReload);
    options.config.off('reload', onConfigReload);
  });

  readiness.add('configLoaded', () => options.config.current() !== undefined);
  readiness.add('certificateLoaded', () => certificate.current().cert !== '');
  readiness.add('clusterSynced', () => options.cluster.synced());

  const admission = new Admission({
    config: options.config,
    cluster: options.cluster,
    handlers: options.handlers,
    decisionLog: new DecisionLog(logger),
    metrics,
    netfenceNamespace: options.netfenceNamespace ?? 'netfence-system',
    ...(options.clock ? { clock: options.clock } : {}),
  });

  for (const endpoint of ['validate', 'mutate'] as const satisfies readonly Endpoint[]) {
    app.post(`/${endpoint}`, async (request, reply) => {
      const outcome = admission.review(endpoint, request.body);
      // During shutdown every answer tells the API server to close the connection: keep-alive
      // connections would otherwise hold the server open until the shutdown deadline.
      if (readiness.isShuttingDown()) reply.header('connection', 'close');
      return reply.code(outcome.statusCode).send(outcome.body);
    });
  }

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const report = readiness.report();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.setNotFoundHandler(async (request, reply) => {
    return reply.code(404).send({ error: `no route ${request.method} ${request.url}; netfence serves POST /validate, POST /mutate, GET /healthz, /readyz, /metrics` });
  });

  // The one error handler: turns parser and framework errors into JSON with the right status.
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    let message = error.message;
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      message = `request body is larger than ${BODY_LIMIT_BYTES} bytes, more than any AdmissionReview the API server sends`;
    } else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      message = `unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '')}; send application/json`;
    } else if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      message = 'empty body; send an AdmissionReview as JSON';
    } else if (status === 400 && error instanceof SyntaxError) {
      message = `body is not valid JSON: ${error.message}`;
    }
    if (status >= 500) {
      logger.error({ event: 'http.error', err: error, url: request.url }, 'request failed');
      message = 'internal error';
    } else {
      metrics.badRequests.inc({ status: String(status) });
    }
    return reply.code(status).send({ error: message });
  });

  return { app, metrics, readiness };
}
