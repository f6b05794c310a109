import type { EventEmitter } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { LiveViewEvents } from '../cluster/live.ts';
import type { ConfigStore } from '../config/store.ts';
import type { NetfenceConfig } from '../config/types.ts';
import type { NamespaceInfo } from '../k8s/types.ts';
import type { ObjectCache } from './caches.ts';
import type { BaselineApi } from './kube-api.ts';
import { baselineTemplates, planNamespace, wantsBaseline, type BaselineTemplate } from './plan.ts';
import { WorkQueue, type Priority } from './queue.ts';
import { RetryLog } from './retry-log.ts';

/** What the controller reads of the live view: namespaces and their change events. */
export interface BaselineView {
  on(event: 'namespace', listener: (...args: LiveViewEvents['namespace']) => void): unknown;
  off(event: 'namespace', listener: (...args: LiveViewEvents['namespace']) => void): unknown;
  namespace(name: string): NamespaceInfo | undefined;
  namespaces(): readonly NamespaceInfo[];
}

/** What the controller needs of leader election. */
export interface Leadership extends Pick<EventEmitter<{ started: []; stopped: [] }>, 'on' | 'off'> {
  isLeader(): boolean;
}

/** Where the controller reports what it did (an EventRecorder). */
export interface EventSink {
  record(namespace: string, reason: string, message: string): void;
}

export interface ReconcilerMetrics {
  action(kind: 'create' | 'update', result: 'success' | 'failure'): void;
  queueDepth(n: number): void;
}

export interface BaselineControllerOptions {
  api: BaselineApi;
  caches: ObjectCache;
  events: EventSink;
  view: BaselineView;
  config: ConfigStore;
  leader: Leadership;
  logger: Logger;
  netfenceNamespace: string;
  metrics?: ReconcilerMetrics;
  /** Namespaces reconciled at once. The client's QPS/burst limit bounds the writes besides. */
  workers?: number;
  /** Retry backoff per namespace: doubles from min to max. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A periodic pass compares every namespace with the cache (no API call unless something differs). */
  resyncMs?: number;
  /** Failures are logged once per cause per interval. */
  retryLogIntervalMs?: number;
}

/**
 * Keeps the baseline objects (NetworkPolicies and objects of any other kind) in every namespace
 * that carries the baseline labels. It reads the informer caches, never the API server: a pass
 * over an unchanged cluster makes no API call. Writes carry the resourceVersion compared, so a
 * change made meanwhile is a 409, and the namespace is looked at again, with backoff, once the
 * watch has brought that change. A pool of workers takes namespaces from a work queue in which
 * a namespace whose baseline has never been seen in place goes first, so new namespaces never
 * wait behind a resync. Only the leader works the queue.
 */
export class BaselineController {
  private readonly o: Required<Omit<BaselineControllerOptions, 'metrics'>> & Pick<BaselineControllerOptions, 'metrics'>;
  private queue: WorkQueue<string>;
  private readonly retryLog: RetryLog;
  /** Per namespace, the templates seen in place: one missing later was deleted, and is restored. */
  private readonly inPlace = new Map<string, Set<string>>();
  private templatesOf: { config: NetfenceConfig; templates: BaselineTemplate[] } | undefined;
  private resync: NodeJS.Timeout | undefined;
  private readonly unsubscribe: Array<() => void> = [];
  private workers: Array<Promise<void>> = [];
  private stopped = true;

  constructor(options: BaselineControllerOptions) {
    this.o = { workers: 8, minBackoffMs: 250, maxBackoffMs: 30_000, resyncMs: 300_000, retryLogIntervalMs: 60_000, ...options };
    this.queue = this.newQueue();
    this.retryLog = new RetryLog(this.o.logger, { intervalMs: this.o.retryLogIntervalMs });
  }

  private newQueue(): WorkQueue<string> {
    return new WorkQueue<string>({ minBackoffMs: this.o.minBackoffMs, maxBackoffMs: this.o.maxBackoffMs });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.workers.length > 0) this.queue = this.newQueue();
    const onNamespace = (name: string): void => this.enqueue(name, this.inPlace.has(name) ? 'normal' : 'new');
    const all = (): void => this.enqueueAll();
    const onConfig = (): void => {
      void this.o.caches.follow(this.templates()).then(all);
    };
    this.o.view.on('namespace', onNamespace);
    this.o.config.on('change', onConfig);
    this.o.leader.on('started', all);
    this.unsubscribe.push(
      () => this.o.view.off('namespace', onNamespace),
      () => this.o.config.off('change', onConfig),
      () => this.o.leader.off('started', all),
    );
    this.resync = setInterval(all, this.o.resyncMs);
    this.resync.unref();
    this.workers = Array.from({ length: this.o.workers }, () => this.work());
    this.enqueueAll();
  }

  /** Stops taking work; resolves when the workers have finished what they hold. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.resync) clearInterval(this.resync);
    this.queue.shutDown();
    this.retryLog.stop();
    await Promise.all(this.workers);
  }

  /** A baseline object of a namespace changed in the cluster (from the informers). */
  objectChanged(namespace: string): void {
    this.enqueue(namespace, 'normal');
  }

  /** Every namespace, at normal priority except those whose baseline was never seen in place. */
  enqueueAll(): void {
    for (const ns of this.o.view.namespaces()) this.enqueue(ns.name, this.inPlace.has(ns.name) ? 'normal' : 'new');
  }

  enqueue(namespace: string, priority: Priority = 'normal'): void {
    // Followers do not queue: becoming leader queues every namespace.
    if (this.stopped || !this.o.leader.isLeader()) return;
    this.queue.add(namespace, priority);
    this.o.metrics?.queueDepth(this.queue.length);
  }

  /** Namespaces waiting (for tests and the bench). */
  get queueLength(): number {
    return this.queue.length;
  }

  private templates(): BaselineTemplate[] {
    const { config } = this.o.config.current();
    if (this.templatesOf?.config !== config) this.templatesOf = { config, templates: baselineTemplates(config) };
    return this.templatesOf.templates;
  }

  private async work(): Promise<void> {
    const queue = this.queue;
    for (;;) {
      const namespace = await queue.get();
      if (namespace === undefined) return;
      try {
        // Not synced yet: the first list of each informer queues every namespace again.
        if (this.o.leader.isLeader() && this.o.caches.synced()) {
          await this.reconcile(namespace);
          queue.forget(namespace);
        }
      } catch (err) {
        const delay = queue.addRateLimited(namespace);
        this.retryLog.report(namespace, err, delay);
      } finally {
        queue.done(namespace);
        this.o.metrics?.queueDepth(queue.length);
      }
      // A pass over thousands of namespaces in place makes no API call: let admission in between.
      await yieldToLoop();
    }
  }

  /** One namespace: compare with the cache, write what differs. Throws to be retried. */
  async reconcile(namespace: string): Promise<void> {
    const { config } = this.o.config.current();
    const info = this.o.view.namespace(namespace);
    if (!info || !wantsBaseline(info, config, this.o.netfenceNamespace)) {
      this.inPlace.delete(namespace);
      return;
    }
    const templates = this.templates().filter((t) => this.o.caches.kind(t) !== undefined);
    const seen = this.inPlace.get(namespace) ?? new Set<string>();
    const created: string[] = [];
    const restored: string[] = [];
    let failure: unknown;
    for (const action of planNamespace(namespace, templates, (t) => this.o.caches.get(t, namespace))) {
      const t = action.template;
      const what = `${t.kind} ${t.name}`;
      if (action.kind === 'skip') {
        if (action.reason === 'in place') seen.add(t.key);
        else this.o.logger.warn({ event: 'baseline.skipped', namespace, kind: t.kind, name: t.name, reason: action.reason }, `baseline ${what} left alone`);
        continue;
      }
      const kind = this.o.caches.kind(t)!;
      try {
        const stored = action.kind === 'create' ? await this.o.api.create(kind, action.object) : await this.o.api.patch(kind, namespace, t.name, action.patch);
        this.o.caches.put(t, stored);
        this.o.metrics?.action(action.kind, 'success');
      } catch (err) {
        this.o.metrics?.action(action.kind, 'failure');
        failure ??= err;
        continue;
      }
      const wasRestored = action.kind === 'update' || seen.has(t.key);
      (wasRestored ? restored : created).push(action.kind === 'update' ? `${what} (${action.field} had been changed)` : wasRestored ? `${what} (it had been deleted)` : what);
      seen.add(t.key);
      this.o.logger.info(
        { event: 'baseline.applied', namespace, kind: t.kind, name: t.name, action: action.kind, reason: wasRestored ? 'BaselineRestored' : 'BaselineCreated', ...(action.kind === 'update' ? { field: action.field } : {}) },
        `${wasRestored ? 'restored' : 'created'} baseline ${what} in ${namespace}`,
      );
    }
    if (seen.size > 0) this.inPlace.set(namespace, seen);
    // One Event per namespace and reason for the whole pass, not one per object.
    if (created.length > 0) this.o.events.record(namespace, 'BaselineCreated', `netfence created baseline ${created.join(', ')}`);
    if (restored.length > 0) this.o.events.record(namespace, 'BaselineRestored', `netfence restored baseline ${restored.join(', ')}`);
    if (failure !== undefined) throw failure;
  }
}
