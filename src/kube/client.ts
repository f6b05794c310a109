// A small Kubernetes API client that reads and writes plain JSON.
//
// Why not client-node's typed API classes: they convert objects into models that rename fields
// (NetworkPolicy ingress `from` becomes `_from` on LIST, dates become Date objects), so an
// object read through them is not the object the API server holds. Here every body is the wire
// JSON, parsed with JSON.parse and sent with JSON.stringify, nothing renamed.
//
// Use:
//   const client = KubeClient.fromKubeConfig(kc, { qps: 20, burst: 30 });
//   await client.get('/api/v1/namespaces/a')                 // object, or undefined on 404
//   await client.create('/apis/networking.k8s.io/v1/namespaces/a/networkpolicies', policy)
//   await client.replace(`${collection}/${name}`, policy)   // PUT; carries metadata.resourceVersion if the body has it
//   await client.patch(path, patch, 'merge' | 'strategic' | 'json' | 'apply', { fieldManager, force })
//   await client.delete(path)                                // the Status or object, or undefined on 404
//   await client.listPages('/api/v1/pods', { limit: 500 }, (items) => { ... })  // → { resourceVersion }
//   await client.watch('/api/v1/pods', { resourceVersion, timeoutSeconds: 300, signal }, (event) => { ... })
//   client.stats()                                           // connections opened, requests by verb
//
// - Every request goes over one keep-alive connection pool (one Agent per client; netfence makes
//   one client), so a busy reconciler does not open a TLS connection per call.
// - Non-watch requests (each list page included) pass a token bucket (client-go's defaults:
//   20 QPS, burst 30), so a start with thousands of namespaces does not flood the API server.
// - Failures are KubeApiError {status, reason, message}: status is the HTTP status (0 when no
//   answer came: connection refused, timeout, bad JSON); statusOf(err) reads it from any error.
// - Credentials come from the KubeConfig (token, token file, exec plugin, client certificate,
//   CA): client-node computes them; the headers are refreshed every few seconds so that rotated
//   tokens are picked up.

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { TokenBucket } from './rate-limit.ts';

/** A failed API call: the HTTP status (0 when there was no answer), the Status reason and message. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  /** The Status object the API server sent, when it sent one. */
  readonly body: unknown;
  /** The socket error when the connection failed (ECONNREFUSED: nothing listening). */
  readonly code: string | undefined;

  constructor(status: number, reason: string, message: string, body?: unknown, code?: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.body = body;
    this.code = code;
  }
}

/** The HTTP status of a failed API call (404, 409, 410…), or undefined for other failures. */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof KubeApiError) return err.status === 0 ? undefined : err.status;
  const code = (err as { code?: unknown; statusCode?: unknown })?.code ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export type Query = Record<string, string | number | boolean | undefined>;

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  // JSON is YAML: server-side apply accepts a JSON body under this type.
  apply: 'application/apply-patch+yaml',
};

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

export interface WatchOptions {
  resourceVersion?: string;
  /** Asks the API server to end the watch after this long (a normal end, not an error). */
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  labelSelector?: string;
  fieldSelector?: string;
  signal?: AbortSignal;
  /** Called when the API server has accepted the watch (before any event). */
  onOpen?(): void;
}

export interface ListOptions {
  /** Items per page (the API server's `limit`); at most this many when targetPageBytes is set. */
  limit?: number;
  /** Aim for pages of about this many bytes: the limit follows the size of the items seen. */
  targetPageBytes?: number;
  labelSelector?: string;
  fieldSelector?: string;
  signal?: AbortSignal;
}

export interface ListPage {
  items: Array<Record<string, unknown>>;
  /** The list's resourceVersion (the same on every page of one list). */
  resourceVersion: string;
}

export interface KubeClientStats {
  connectionsOpened: number;
  /** Requests sent, by verb (get, list, watch, create, update, patch, delete). */
  requests: Record<string, number>;
}

export interface KubeClientOptions {
  /** Requests per second after the burst; <= 0 disables the limit. Default 20 (client-go). */
  qps?: number;
  /** Default 30 (client-go). */
  burst?: number;
  /** Timeout of a non-watch request, ms. Default 30 s. */
  requestTimeoutMs?: number;
  /** Sockets to the API server at most (watches included). Default 32. */
  maxSockets?: number;
}

/** Where and how to connect: the server URL, TLS options for the Agent, and auth headers. */
export interface KubeTransport {
  server: URL;
  tls: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string; rejectUnauthorized?: boolean; servername?: string };
  /** Headers for the next request (Authorization, Impersonate-User); may be refreshed. */
  headers(): Promise<OutgoingHttpHeaders>;
}

const HEADER_TTL_MS = 10_000;

/** The transport described by a client-node KubeConfig (its current context). */
export async function transportFrom(kc: KubeConfig): Promise<KubeTransport> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeApiError(0, 'BadConfig', 'the kubeconfig has no current cluster');
  const probe: RequestOptions & { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string } = {};
  await kc.applyToHTTPSOptions(probe);
  const tls: KubeTransport['tls'] = {};
  if (probe.ca) tls.ca = probe.ca;
  if (probe.cert) tls.cert = probe.cert;
  if (probe.key) tls.key = probe.key;
  if (probe.rejectUnauthorized !== undefined) tls.rejectUnauthorized = probe.rejectUnauthorized;
  if (probe.servername) tls.servername = probe.servername;
  let cached: { headers: OutgoingHttpHeaders; at: number } | undefined = { headers: authHeaders(probe), at: Date.now() };
  return {
    server: new URL(cluster.server),
    tls,
    headers: async () => {
      if (cached && Date.now() - cached.at < HEADER_TTL_MS) return cached.headers;
      // client-node refreshes exec and token-file credentials when asked for options.
      const opts: RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      cached = { headers: authHeaders(opts), at: Date.now() };
      return cached.headers;
    },
  };
}

function authHeaders(opts: RequestOptions): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const h = (opts.headers ?? {}) as OutgoingHttpHeaders;
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
  if (opts.auth) out.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  return out;
}

/** Appends a query to a path, skipping undefined values. */
export function withQuery(path: string, query: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  if (s === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${s}`;
}

export class KubeClient {
  private readonly transport: KubeTransport;
  private readonly agent: HttpAgent;
  private readonly bucket: TokenBucket;
  private readonly requestTimeoutMs: number;
  private readonly basePath: string;
  private readonly requestFn: typeof httpRequest;
  private connections = 0;
  private readonly requestCounts: Record<string, number> = {};

  constructor(transport: KubeTransport, options: KubeClientOptions = {}) {
    this.transport = transport;
    this.bucket = new TokenBucket(options.qps ?? 20, options.burst ?? 30);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.basePath = transport.server.pathname.replace(/\/+$/, '');
    const count = (): void => {
      this.connections++;
    };
    const agentOptions = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: options.maxSockets ?? 32, maxFreeSockets: options.maxSockets ?? 32, scheduling: 'lifo' as const };
    if (transport.server.protocol === 'http:') {
      this.agent = new CountingHttpAgent(agentOptions, count);
      this.requestFn = httpRequest;
    } else {
      this.agent = new CountingHttpsAgent({ ...agentOptions, ...transport.tls }, count);
      this.requestFn = httpsRequest as unknown as typeof httpRequest;
    }
  }

  /** A client for the KubeConfig's current context. */
  static async fromKubeConfig(kc: KubeConfig, options: KubeClientOptions = {}): Promise<KubeClient> {
    return new KubeClient(await transportFrom(kc), options);
  }

  /** The API server's URL, for logs. */
  get server(): string {
    return this.transport.server.toString();
  }

  stats(): KubeClientStats {
    return { connectionsOpened: this.connections, requests: { ...this.requestCounts } };
  }

  /** Closes idle connections; requests in flight finish. */
  close(): void {
    this.agent.destroy();
  }

  /** GET an object; undefined when it does not exist (404). */
  async get<T = Record<string, unknown>>(path: string, query?: Query): Promise<T | undefined> {
    try {
      return (await this.call('get', 'GET', withQuery(path, query))) as T;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** GET a non-JSON resource (e.g. the API server's /metrics) as text. */
  async getText(path: string): Promise<string> {
    await this.bucket.take();
    const res = await this.send('get', 'GET', path, undefined, undefined, undefined, true);
    const text = await readBody(res);
    if ((res.statusCode ?? 0) >= 300) throw errorFrom(res.statusCode ?? 0, text);
    return text;
  }

  /** POST an object to its collection; resolves with the object the API server stored. */
  async create<T = Record<string, unknown>>(collectionPath: string, body: unknown, query?: Query): Promise<T> {
    return (await this.call('create', 'POST', withQuery(collectionPath, query), JSON.stringify(body))) as T;
  }

  /**
   * PUT an object. With metadata.resourceVersion in the body the write is conditional: the API
   * server answers 409 Conflict when the object changed since that version.
   */
  async replace<T = Record<string, unknown>>(path: string, body: unknown, query?: Query): Promise<T> {
    return (await this.call('update', 'PUT', withQuery(path, query), JSON.stringify(body))) as T;
  }

  async patch<T = Record<string, unknown>>(path: string, body: unknown, type: PatchType = 'merge', query?: Query): Promise<T> {
    return (await this.call('patch', 'PATCH', withQuery(path, query), JSON.stringify(body), PATCH_CONTENT_TYPE[type])) as T;
  }

  /** DELETE an object; undefined when it was already gone (404). */
  async delete<T = Record<string, unknown>>(path: string, query?: Query): Promise<T | undefined> {
    try {
      return (await this.call('delete', 'DELETE', withQuery(path, query))) as T;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Lists a collection page by page (`limit`/`continue`), calling onPage with each page's items
   * as it arrives, so that a whole list is never held in memory; yields to the event loop between
   * pages. Resolves with the list's resourceVersion (to watch from). A continue token that
   * expired mid-list fails with 410, as the API server answers: list again from the start.
   */
  async listPages(
    path: string,
    options: ListOptions,
    onPage: (page: ListPage) => void | Promise<void>,
  ): Promise<{ resourceVersion: string; pages: number; items: number }> {
    let cont: string | undefined;
    let pages = 0;
    let items = 0;
    let resourceVersion = '';
    const maxLimit = options.limit ?? 500;
    let limit = maxLimit;
    do {
      if (options.signal?.aborted) throw new KubeApiError(0, 'Aborted', 'list aborted');
      const size = { bytes: 0 };
      const body = (await this.call(
        'list',
        'GET',
        withQuery(path, { limit, continue: cont, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector }),
        undefined,
        undefined,
        options.signal,
        size,
      )) as { items?: Array<Record<string, unknown>>; metadata?: { resourceVersion?: string; continue?: string } };
      // Parsing a page blocks the event loop (~50 ms a MB): pages of big objects get smaller.
      if (options.targetPageBytes && body.items?.length) {
        const perItem = size.bytes / body.items.length;
        limit = Math.min(maxLimit, Math.max(10, Math.floor(options.targetPageBytes / perItem)));
      }
      resourceVersion = body.metadata?.resourceVersion ?? resourceVersion;
      cont = body.metadata?.continue || undefined;
      const pageItems = body.items ?? [];
      pages++;
      items += pageItems.length;
      await onPage({ items: pageItems, resourceVersion });
      if (cont) await yieldToLoop();
    } while (cont);
    return { resourceVersion, pages, items };
  }

  /**
   * Watches a collection: calls onEvent for every event (ADDED, MODIFIED, DELETED, BOOKMARK,
   * ERROR) in order. Resolves when the API server ends the watch (its timeoutSeconds elapsed:
   * a normal end) or when the signal aborts it; rejects with KubeApiError when the API server
   * refuses it (e.g. 410 when the resourceVersion is too old) or the connection fails.
   * Watches are not rate-limited (they are long-lived, like client-go's).
   */
  async watch(path: string, options: WatchOptions, onEvent: (event: WatchEvent) => void): Promise<void> {
    const query: Query = {
      watch: 1,
      resourceVersion: options.resourceVersion || undefined,
      allowWatchBookmarks: options.allowWatchBookmarks ?? true,
      timeoutSeconds: options.timeoutSeconds,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    };
    const res = await this.send('watch', 'GET', withQuery(path, query), undefined, undefined, options.signal, false);
    if (res.statusCode !== 200) {
      throw errorFrom(res.statusCode ?? 0, await readBody(res));
    }
    options.onOpen?.();
    await new Promise<void>((resolve, reject) => {
      res.setEncoding('utf8');
      let buffer = '';
      let failed = false;
      const fail = (err: unknown): void => {
        if (failed) return;
        failed = true;
        res.destroy();
        reject(err);
      };
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while (!failed && (nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === '') continue;
          let event: WatchEvent;
          try {
            event = JSON.parse(line) as WatchEvent;
          } catch {
            fail(new KubeApiError(0, 'BadResponse', `watch ${path}: a line that is not JSON: ${line.slice(0, 200)}`));
            return;
          }
          try {
            onEvent(event);
          } catch (err) {
            fail(err);
            return;
          }
        }
      });
      res.on('end', () => {
        if (!failed) resolve();
      });
      res.on('error', (err) => {
        if (options.signal?.aborted) resolve();
        else fail(new KubeApiError(0, 'ConnectionError', `watch ${path}: ${err.message}`));
      });
      res.on('close', () => {
        if (failed) return;
        if (options.signal?.aborted) resolve();
        else if (!res.complete) fail(new KubeApiError(0, 'ConnectionError', `watch ${path}: the connection closed mid-stream`));
        else resolve();
      });
    });
  }

  private async call(verb: string, method: string, path: string, body?: string, contentType?: string, signal?: AbortSignal, size?: { bytes: number }): Promise<unknown> {
    await this.bucket.take();
    let res: IncomingMessage;
    try {
      res = await this.send(verb, method, path, body, contentType, signal, true);
    } catch (err) {
      // Not a POST: with generateName it could create twice.
      if (!(err instanceof StaleSocket) || method === 'POST') throw err;
      res = await this.send(verb, method, path, body, contentType, signal, true);
    }
    const text = await readBody(res);
    if (size) size.bytes = text.length;
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw errorFrom(status, text);
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new KubeApiError(0, 'BadResponse', `${method} ${path}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  private async send(
    verb: string,
    method: string,
    path: string,
    body: string | undefined,
    contentType: string | undefined,
    signal: AbortSignal | undefined,
    timeout: boolean,
  ): Promise<IncomingMessage> {
    this.requestCounts[verb] = (this.requestCounts[verb] ?? 0) + 1;
    const auth = await this.transport.headers();
    const headers: OutgoingHttpHeaders = { ...auth, Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const server = this.transport.server;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = this.requestFn({
        agent: this.agent,
        protocol: server.protocol,
        hostname: server.hostname.replace(/^\[|\]$/g, ''),
        port: server.port || (server.protocol === 'http:' ? 80 : 443),
        method,
        path: this.basePath + path,
        headers,
        ...(timeout ? { timeout: this.requestTimeoutMs } : {}),
      });
      // Not http.request's own `signal`, and destroy without an error: destroying a request
      // with an error once its response has ended (its socket back in the pool) raises that
      // error where nobody can catch it.
      let response: IncomingMessage | undefined;
      req.on('response', (res) => (response = res));
      if (signal) {
        const onAbort = (): void => {
          if (!response?.complete) req.destroy();
        };
        if (signal.aborted) onAbort();
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          req.once('close', () => signal.removeEventListener('abort', onAbort));
        }
      }
      req.on('response', resolve);
      req.on('timeout', () => req.destroy(new KubeApiError(0, 'Timeout', `${method} ${path}: no answer within ${this.requestTimeoutMs} ms`)));
      req.on('error', (err) => {
        // A kept-alive socket the API server closed as it was reused: safe to send again.
        if (req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET' && !response) reject(new StaleSocket());
        else if (err instanceof KubeApiError) reject(err);
        else if (signal?.aborted) reject(new KubeApiError(0, 'Aborted', `${method} ${path}: aborted`));
        else reject(new KubeApiError(0, 'ConnectionError', `${method} ${path}: ${err.message}`, undefined, (err as NodeJS.ErrnoException).code));
      });
      req.on('close', () => {
        if (!response) reject(new KubeApiError(0, signal?.aborted ? 'Aborted' : 'ConnectionError', `${method} ${path}: closed before an answer`));
      });
      req.end(body);
    });
  }
}

/** The request went out on a reused keep-alive socket that the server had closed: nothing was processed. */
class StaleSocket extends KubeApiError {
  constructor() {
    super(0, 'ConnectionError', 'a kept-alive connection was closed by the API server');
  }
}

class CountingHttpAgent extends HttpAgent {
  private readonly onConnection: () => void;
  constructor(options: ConstructorParameters<typeof HttpAgent>[0], onConnection: () => void) {
    super(options);
    this.onConnection = onConnection;
  }
  override createConnection(...args: Parameters<HttpAgent['createConnection']>): Duplex {
    this.onConnection();
    return super.createConnection(...args) as Duplex;
  }
}

class CountingHttpsAgent extends HttpsAgent {
  private readonly onConnection: () => void;
  constructor(options: ConstructorParameters<typeof HttpsAgent>[0], onConnection: () => void) {
    super(options);
    this.onConnection = onConnection;
  }
  override createConnection(...args: Parameters<HttpsAgent['createConnection']>): Duplex {
    this.onConnection();
    return super.createConnection(...args) as Duplex;
  }
}

const ignoreError = (): void => undefined;

export function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer): void => void chunks.push(c);
    const onEnd = (): void => {
      const text = Buffer.concat(chunks).toString('utf8');
      settle(() => resolve(text));
    };
    const onError = (err: Error): void => settle(() => reject(new KubeApiError(0, 'ConnectionError', err.message)));
    const onClose = (): void => {
      if (!res.complete) settle(() => reject(new KubeApiError(0, 'ConnectionError', 'the connection closed before the answer was complete')));
    };
    // The listeners go once the body is read: the last response of a pooled socket stays
    // referenced until the socket is reused, and through them it kept its whole body (a
    // 0.8 MB list page per idle socket, seen in a heap snapshot).
    const settle = (fn: () => void): void => {
      // An error after the end must still find a listener (none would crash the process).
      res.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose).on('error', ignoreError);
      chunks.length = 0;
      fn();
    };
    res.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** The error for a non-2xx answer: the Status object's reason and message when there is one. */
function errorFrom(status: number, text: string): KubeApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const s = (body ?? {}) as { kind?: string; reason?: string; message?: string };
  const reason = typeof s.reason === 'string' && s.reason !== '' ? s.reason : `HTTP${status}`;
  const message = typeof s.message === 'string' && s.message !== '' ? s.message : text.slice(0, 500) || `HTTP ${status}`;
  return new KubeApiError(status, reason, message, body);
}
