import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { clientIdentity } from './client-auth.ts';
import { DEFAULT_LIMITS, limitsTlsOptions, secureContextOptions, type ServerLimits } from './limits.ts';
import type { CompiledCache } from '../netpol/index.ts';

/**
 * Body limit. etcd stores objects of up to about 1.5 MiB and the API server accepts requests
 * of up to 3 MiB; a review carries the object and, on UPDATE, the old object, plus the
 * envelope: about 7 MiB in the worst case. Anything larger is not a review the API server
 * could send, and is refused with 413 before it is parsed.
 */
export const BODY_LIMIT_BYTES = 7 * 1024 * 1024;

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
  /** What admission compiles, shared with the background audit over the same view. */
  compiled?: CompiledCache;
  /** Timeouts and the connection cap; defaults in limits.ts. */
  limits?: Partial<ServerLimits>;
  /**
   * PEM of the CA that signs the API server's client certificate. When set, /validate and
   * /mutate answer only clients that present a certificate it verifies.
   */
  clientCA?: string;
}

export interface NetfenceApp {
  app: NetfenceFastify;
  metrics: Metrics;
  readiness: Readiness;
  /**
   * Starts the drain of a shutdown: /readyz fails and every response from now on carries
   * `Connection: close`, so that keep-alive clients move to another replica after their
   * current request instead of losing their next one when the server closes.
   */
  beginDrain(): void;
}

function createFastify(logger: Logger, pair: { cert: string; key: string }, limits: ServerLimits, clientCA: string | undefined) {
  return Fastify({
    loggerInstance: logger,
    // Every decision is logged by the decision log; per-request access logs would double it.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: nothing logs through request.log (decisions go to the
    // decision log, errors to the one error handler), and a child per request costs an
    // allocation on the hot path.
    childLoggerFactory: (logger) => logger,
    https: {
      ...secureContextOptions(pair, clientCA),
      ...limitsTlsOptions(limits),
      // With a client CA, a certificate is asked for but a connection without one is still
      // accepted: the kubelet's probes present none. The routes that decide check it.
      ...(clientCA !== undefined ? { requestCert: true, rejectUnauthorized: false } : {}),
    },
    bodyLimit: BODY_LIMIT_BYTES,
    // Fastify assigns these again after creating the server; the same values as above.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
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

  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const clientCA = options.clientCA;
  const app = createFastify(logger, certificate.current(), limits, clientCA);
  app.server.maxConnections = limits.maxConnections;
  // A JSON body is all netfence reads: without Fastify's text/plain parser, every other
  // content type is refused with 415 before the body is read.
  app.removeContentTypeParser('text/plain');

  const onCertChange = (pair: { cert: string; key: string }): void => {
    // New connections get the new certificate; open ones keep theirs until they close. The
    // same ciphers and client CA as at start: a reload must not loosen TLS.
    app.server.setSecureContext(secureContextOptions(pair, clientCA));
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

  metrics.setReviewKinds(options.handlers.kinds());
  const admission = new Admission({
    config: options.config,
    cluster: options.cluster,
    handlers: options.handlers,
    decisionLog: new DecisionLog(logger),
    metrics,
    netfenceNamespace: options.netfenceNamespace ?? 'netfence-system',
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.compiled ? { compiled: options.compiled } : {}),
  });

  // Only the API server may ask for decisions when a client CA is given; checked before the
  // body is read, so an unauthenticated client cannot make the server parse 7 MiB.
  const requireClientCert = clientCA === undefined ? undefined : async (request: { raw: IncomingMessage }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
    if (clientIdentity(request.raw.socket).authenticated) return;
    metrics.badRequests.inc({ status: '401' });
    return reply.code(401).send({ error: 'a client certificate signed by the --client-ca authority is required for admission reviews' });
  };
  for (const endpoint of ['validate', 'mutate'] as const satisfies readonly Endpoint[]) {
    app.post(`/${endpoint}`, { ...(requireClientCert ? { onRequest: requireClientCert } : {}) }, async (request, reply) => {
      const outcome = admission.review(endpoint, request.body, clientIdentity(request.raw.socket));
      // A review whose headers arrived before the drain began (its body still coming) is
      // answered with `Connection: close` too; later requests get it from the drain listener.
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

  // Added only when the drain starts, so that normal operation pays nothing for it: every
  // request that starts from then on, on any route, is answered with `Connection: close`.
  const closeAfterResponse = (_req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader('connection', 'close');
  };
  const beginDrain = (): void => {
    if (readiness.isShuttingDown()) return;
    readiness.markShuttingDown();
    app.server.prependListener('request', closeAfterResponse);
  };

  return { app, metrics, readiness, beginDrain };
}
