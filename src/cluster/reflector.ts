import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';

/** One list of a resource: its items and the resourceVersion to watch from. */
export interface ListResult {
  items: unknown[];
  resourceVersion: string;
}

export interface ReflectorOptions {
  /** Resource name for logs and metrics: namespaces, pods, networkpolicies. */
  resource: string;
  /** Cluster-wide watch path, e.g. /api/v1/pods. */
  watchPath: string;
  list(): Promise<ListResult>;
  /** Replaces the whole cache with a fresh list. */
  replace(items: unknown[]): void;
  upsert(item: unknown): void;
  remove(item: unknown): void;
  /** Restart a watch that has been silent this long (no event, no bookmark). */
  silenceMs?: number;
  /** Backoff after failures: doubles from min to max. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onRestart?(reason: 'error' | 'expired' | 'silent' | 'closed'): void;
}

/**
 * Keeps a cache of one resource in step with the cluster: list, then watch from the list's
 * resourceVersion. A watch that ends is resumed from the last resourceVersion; one the API
 * server refuses as too old (410), one that fails, or one that goes silent (watches are known
 * to stop without a word) is dropped, and the resource is listed again from scratch, with
 * backoff. Every event and bookmark counts as contact, for staleness.
 */
export class Reflector {
  private readonly opts: Required<Omit<ReflectorOptions, 'onRestart'>> & Pick<ReflectorOptions, 'onRestart'>;
  private readonly watch: Watch;
  private readonly logger: Logger;
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private stopped = true;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private needsList = true;
  get resource(): string {
    return this.opts.resource;
  }

  /** True once a list has been applied. */
  synced = false;
  /** When the cluster was last heard from (list, event or bookmark), ms since epoch. */
  lastContact = 0;
  /** When the current attempt (list or watch) began: the silence watchdog counts from the later of the two. */
  private lastAttempt = 0;

  constructor(config: KubeConfig, logger: Logger, options: ReflectorOptions) {
    this.opts = { silenceMs: 180_000, minBackoffMs: 200, maxBackoffMs: 30_000, ...options };
    this.watch = new Watch(config);
    this.logger = logger;
    this.backoffMs = this.opts.minBackoffMs;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastAttempt = Date.now();
    this.schedule(0);
    this.watchdog = setInterval(() => {
      if (Date.now() - Math.max(this.lastContact, this.lastAttempt) > this.opts.silenceMs) this.restart('silent');
    }, Math.min(this.opts.silenceMs, 10_000));
    this.watchdog.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.abort?.abort();
    this.abort = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delayMs);
    this.timer.unref();
  }

  private restart(reason: 'error' | 'expired' | 'silent' | 'closed', err?: unknown): void {
    if (this.stopped) return;
    this.opts.onRestart?.(reason);
    const relist = reason !== 'closed';
    if (relist) this.needsList = true;
    this.abort?.abort();
    this.abort = undefined;
    const delay = reason === 'closed' ? 0 : this.backoffMs;
    if (reason !== 'closed') this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
    this.logger[reason === 'closed' ? 'debug' : 'warn'](
      { event: 'cluster.watch_restart', resource: this.opts.resource, reason, relist, delayMs: delay, err: err instanceof Error ? err.message : err },
      `restarting the ${this.opts.resource} watch`,
    );
    // The watchdog waits for the new attempt; lastContact stays as it is, so that staleness
    // keeps growing while the API server cannot be reached.
    this.lastAttempt = Date.now() + delay;
    this.schedule(delay);
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.needsList) {
        const listed = await this.opts.list();
        if (this.stopped) return;
        this.opts.replace(listed.items);
        this.resourceVersion = listed.resourceVersion;
        this.needsList = false;
        this.synced = true;
        this.lastContact = Date.now();
      }
      this.abort = await this.watch.watch(
        this.opts.watchPath,
        { allowWatchBookmarks: true, resourceVersion: this.resourceVersion },
        (type, object) => this.onEvent(type, object),
        (err) => {
          if (this.stopped) return;
          if (err) this.restart('error', err);
          else this.restart('closed');
        },
      );
    } catch (err) {
      this.restart('error', err);
    }
  }

  private onEvent(type: string, object: unknown): void {
    this.lastContact = Date.now();
    this.backoffMs = this.opts.minBackoffMs;
    const rv = (object as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.opts.upsert(object);
        break;
      case 'DELETED':
        this.opts.remove(object);
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        // 410 Gone: the resourceVersion is too old to resume from; list again.
        const code = (object as { code?: number } | undefined)?.code;
        this.restart(code === 410 ? 'expired' : 'error', object);
        return;
      }
    }
    if (rv) this.resourceVersion = rv;
  }
}
