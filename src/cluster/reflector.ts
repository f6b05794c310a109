import type { Logger } from 'pino';
import { expiredDelay, jitter, retryDelay } from '../kube/backoff.ts';
import { KubeApiError, statusOf, type KubeClient, type WatchEvent } from '../kube/client.ts';
import type { KubeObject } from '../k8s/types.ts';

/** Why a watch was started again (the netfence_cluster_watch_restarts_total reason). */
export type RestartReason = 'error' | 'expired' | 'silent' | 'closed';

/**
 * The cache a reflector keeps in step: objects by namespace ('' for cluster-scoped kinds) and
 * name, each with the resourceVersion it was stored at, so that a relist changes (and
 * announces) only what changed.
 */
export interface ReflectorStore {
  /** The resourceVersion of the cached object, or undefined when it is not cached. */
  versionOf(namespace: string, name: string): string | undefined;
  /** An object listed or watched (added or modified): store it (reduced), announce the change. */
  upsert(object: KubeObject): void;
  /** An object deleted, or gone from a relist. */
  remove(namespace: string, name: string): void;
  /** Every cached key, for the deletions a relist reveals. */
  keys(): Iterable<readonly [namespace: string, name: string]>;
}

/** What a reflector needs of the API client (a KubeClient; a fake in tests). */
export type ListWatchClient = Pick<KubeClient, 'listPages' | 'watch'>;

export interface ReflectorOptions {
  /** Resource name for logs and metrics: namespaces, pods, networkpolicies. */
  resource: string;
  /** Cluster-wide collection path, e.g. /api/v1/pods. */
  path: string;
  store: ReflectorStore;
  /** Items per list page, at most. */
  pageSize?: number;
  /** Pages of about this many bytes (smaller pages for bigger objects): parsing one blocks. */
  targetPageBytes?: number;
  /**
   * Each watch asks the API server to end it after a random time in this range, seconds. The
   * default stays under the view's 5-minute staleness limit: a watch that hears nothing (no
   * event, no bookmark) still ends, normally, and that is contact, so readiness never flaps on
   * a quiet cluster.
   */
  watchTimeoutSeconds?: readonly [min: number, max: number];
  /** A watch still open this long after its timeout is taken for a dead connection. */
  graceMs?: number;
  /** Backoff after failures: doubles from min to max, with jitter. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * A refused connection (nothing listening: an API server restarting) is retried after about
   * this long, without doubling: the attempt costs the API server nothing, and a backoff grown
   * through a long outage would leave the cache stale for as long again once it is back.
   */
  refusedRetryMs?: number;
  onRestart?(reason: RestartReason): void;
  /** Called when a list has been applied (the first one: the cache is synced). */
  onList?(stats: { items: number; pages: number; changed: number; removed: number; ms: number }): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/**
 * Keeps a cache of one resource in step with the cluster, as client-go's reflector does: a
 * paginated list, then a watch from the list's resourceVersion, with bookmarks and a timeout of
 * its own choosing (so a quiet watch is normal, and ends normally).
 *
 * - A watch that ends (its timeout, or the API server closing it) is resumed at once from the
 *   last resourceVersion: no list, no backoff.
 * - A watch that fails (connection refused or dropped, an error event) is resumed from the last
 *   resourceVersion after a backoff with jitter: a restarted API server replays what was missed.
 *   A refused connection is retried about every refusedRetryMs instead, however long the outage:
 *   the watch is back within about that long of the API server.
 * - Only a 410 Gone (the resourceVersion is too old to resume from) makes it list again; a relist
 *   is diffed against the cache by resourceVersion, so unchanged objects are not announced again.
 * - A list, an event, a bookmark or a watch being accepted counts as contact, for staleness.
 */
export class Reflector {
  private readonly o: Required<Omit<ReflectorOptions, 'onRestart' | 'onList'>> & Pick<ReflectorOptions, 'onRestart' | 'onList'>;
  private readonly client: ListWatchClient;
  private readonly logger: Logger;
  /** The resourceVersion the cache reflects: the last list's, event's or bookmark's. */
  resourceVersion = '';
  private abort: AbortController | undefined;
  private stopped = true;
  private failures = 0;
  /** Failures that doubled the backoff (refused connections do not). */
  private backoffSteps = 0;
  private expiredInARow = 0;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** The first restart of the current run of them (until a watch is accepted again), for the log. */
  private down: { reason: RestartReason; since: number; restarts: number; lists: number } | undefined;

  /** True once a list has been applied. */
  synced = false;
  /** When the cluster was last heard from (list, watch accepted, event or bookmark), ms since epoch. */
  lastContact = 0;
  /** Lists made (the first included): a relist is the expensive path, counted for tests and logs. */
  lists = 0;

  get resource(): string {
    return this.o.resource;
  }

  constructor(client: ListWatchClient, logger: Logger, options: ReflectorOptions) {
    this.o = { pageSize: 500, targetPageBytes: 512 * 1024, watchTimeoutSeconds: [240, 290], graceMs: 60_000, minBackoffMs: 500, maxBackoffMs: 30_000, refusedRetryMs: 1_000, ...options };
    this.client = client;
    this.logger = logger;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops watching; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wakeUp?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let needsList = true;
    while (!this.stopped) {
      let reason: RestartReason | undefined;
      let err: unknown;
      try {
        if (needsList) {
          await this.list();
          needsList = false;
        }
        reason = await this.watchOnce();
      } catch (e) {
        err = e;
        reason = statusOf(e) === 410 ? 'expired' : 'error';
      }
      if (this.stopped) return;
      if (reason === undefined) continue; // a normal end: resume at once
      if (reason === 'expired') needsList = true;
      this.o.onRestart?.(reason);
      // A 410 again right after a fresh list would be a server that cannot serve its own
      // resourceVersions: back off as for errors rather than list in a loop.
      this.expiredInARow = reason === 'expired' ? this.expiredInARow + 1 : 0;
      const delay =
        reason === 'error' || reason === 'closed'
          ? this.backoff(err)
          : reason === 'expired'
            ? expiredDelay(this.expiredInARow, this.o)
            : 0;
      this.down ??= { reason, since: Date.now(), restarts: 0, lists: this.lists };
      this.down.restarts++;
      const level = reason === 'error' ? (this.failures > 1 ? 'debug' : 'warn') : 'info';
      this.logger[level](
        { event: 'cluster.watch_restart', resource: this.o.resource, reason, relist: needsList, resourceVersion: this.resourceVersion, delayMs: delay, attempt: this.failures, err: err instanceof Error ? err.message : err },
        `restarting the ${this.o.resource} watch (${reason})`,
      );
      if (delay > 0) await this.pause(delay);
    }
  }

  /** Doubles from min to max per consecutive failure, with jitter; refusedRetryMs when refused. */
  private backoff(err: unknown): number {
    this.failures++;
    const next = retryDelay(err, this.backoffSteps, this.o);
    this.backoffSteps = next.steps;
    return jitter(next.delayMs);
  }

  /** Contact that proves the API server is serving: the next failure backs off from the start. */
  private healthy(): void {
    this.failures = 0;
    this.backoffSteps = 0;
    this.expiredInARow = 0;
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = done;
    }).finally(() => (this.wakeUp = undefined));
  }

  /** A paginated list, applied to the store page by page, diffed by resourceVersion. */
  private async list(): Promise<void> {
    const started = performance.now();
    const seen = new Set<string>();
    let changed = 0;
    const abort = (this.abort = new AbortController());
    const result = await this.client.listPages(this.o.path, { limit: this.o.pageSize, targetPageBytes: this.o.targetPageBytes, signal: abort.signal }, (page) => {
      for (const object of page.items as KubeObject[]) {
        const ns = object.metadata?.namespace ?? '';
        const name = object.metadata?.name ?? '';
        seen.add(`${ns}/${name}`);
        const rv = object.metadata?.resourceVersion;
        if (rv !== undefined && this.o.store.versionOf(ns, name) === rv) continue;
        this.o.store.upsert(object);
        changed++;
      }
    });
    if (this.stopped) return;
    const gone: Array<readonly [string, string]> = [];
    for (const key of this.o.store.keys()) if (!seen.has(`${key[0]}/${key[1]}`)) gone.push(key);
    for (const [ns, name] of gone) this.o.store.remove(ns, name);
    this.resourceVersion = result.resourceVersion;
    this.synced = true;
    this.lists++;
    // Not expiredInARow: a 410 right after this list must still back off (see run()).
    this.failures = 0;
    this.backoffSteps = 0;
    this.lastContact = Date.now();
    const stats = { items: result.items, pages: result.pages, changed, removed: gone.length, ms: Math.round(performance.now() - started) };
    this.logger.info({ event: 'cluster.listed', resource: this.o.resource, ...stats }, `listed ${result.items} ${this.o.resource}`);
    this.o.onList?.(stats);
    await sleep(0);
  }

  /**
   * One watch, from the last resourceVersion. Resolves undefined when it ended normally, or with
   * the reason to restart it; throws when the API server refused it or the connection failed.
   */
  private async watchOnce(): Promise<RestartReason | undefined> {
    if (this.stopped) return undefined;
    const [min, max] = this.o.watchTimeoutSeconds;
    const timeoutSeconds = Math.round(min + Math.random() * (max - min));
    const abort = (this.abort = new AbortController());
    let outcome: RestartReason | undefined;
    let errorEvent: unknown;
    // A connection that died without a word: nothing ends the watch, so this does.
    const deadline = setTimeout(() => {
      outcome = 'silent';
      abort.abort();
    }, timeoutSeconds * 1000 + this.o.graceMs);
    deadline.unref();
    const opened = Date.now();
    let events = 0;
    try {
      await this.client.watch(
        this.o.path,
        { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds, signal: abort.signal, onOpen: () => this.opened() },
        (event) => {
          if (outcome) return;
          events++;
          const result = this.onEvent(event);
          if (result) {
            outcome = result.reason;
            errorEvent = result.status;
            abort.abort();
          }
        },
      );
    } catch (err) {
      // Aborted by the deadline before the API server answered: a silent watch too.
      if (outcome !== 'silent' || this.stopped) throw err;
    } finally {
      clearTimeout(deadline);
    }
    if (this.stopped) return undefined;
    if (outcome) {
      if (outcome === 'error') {
        const s = (errorEvent ?? {}) as { code?: number; reason?: string; message?: string };
        throw new KubeApiError(s.code ?? 0, s.reason ?? 'WatchError', `error event: ${s.message ?? JSON.stringify(errorEvent)}`, errorEvent);
      }
      return outcome;
    }
    // Ended by the API server. Before its timeout with nothing received: closed early, and
    // resumed after a backoff so that a server that closes every watch at once is not hammered.
    const lasted = Date.now() - opened;
    if (lasted < timeoutSeconds * 900 && events === 0) return 'closed';
    this.healthy();
    this.lastContact = Date.now();
    this.logger.debug({ event: 'cluster.watch_ended', resource: this.o.resource, seconds: Math.round(lasted / 1000), events }, 'watch ended; resuming');
    return undefined;
  }

  /** A watch accepted: contact; after restarts, says once from which resourceVersion it resumed. */
  private opened(): void {
    this.lastContact = Date.now();
    const down = this.down;
    if (!down) return;
    this.down = undefined;
    this.logger.info(
      { event: 'cluster.watch_resumed', resource: this.o.resource, resourceVersion: this.resourceVersion, reason: down.reason, restarts: down.restarts, lists: this.lists - down.lists, ms: this.lastContact - down.since },
      `resumed the ${this.o.resource} watch from resourceVersion ${this.resourceVersion}`,
    );
  }

  /** Applies one event; returns a restart reason when the event ends the watch. */
  private onEvent(event: WatchEvent): { reason: RestartReason; status?: unknown } | undefined {
    this.lastContact = Date.now();
    const object = event.object as KubeObject;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.o.store.upsert(object);
        break;
      case 'DELETED':
        this.o.store.remove(object.metadata?.namespace ?? '', object.metadata?.name ?? '');
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        // 410 Gone: the resourceVersion is too old to resume from; list again.
        const status = event.object as { code?: number; message?: string };
        if (status.code === 410) this.logger.info({ event: 'cluster.watch_expired', resource: this.o.resource, resourceVersion: this.resourceVersion, message: status.message }, `${this.o.resource}: resourceVersion too old to resume from`);
        return { reason: status.code === 410 ? 'expired' : 'error', status: event.object };
      }
      default:
        return undefined;
    }
    this.healthy();
    const rv = object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    return undefined;
  }
}
