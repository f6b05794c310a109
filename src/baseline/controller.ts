import type { Logger } from 'pino';
import type { ConfigStore } from '../config/store.ts';
import type { EventEmitter } from 'node:events';
import type { LiveViewEvents } from '../cluster/live.ts';
import type { NamespaceInfo } from '../k8s/types.ts';

/** What the controller reads of the live view: namespaces and change events. */
export interface BaselineView extends Pick<EventEmitter<LiveViewEvents>, 'on' | 'off'> {
  namespace(name: string): NamespaceInfo | undefined;
  namespaces(): readonly NamespaceInfo[];
}

/** What the controller needs of leader election. */
export interface Leadership extends Pick<EventEmitter<{ started: []; stopped: [] }>, 'on' | 'off'> {
  isLeader(): boolean;
}
import type { NetworkPolicy } from '../k8s/types.ts';
import { statusOf, type BaselineApi } from './kube-api.ts';
import { planNamespace, wantsBaseline, type Action } from './plan.ts';

export interface ReconcilerMetrics {
  action(kind: 'create' | 'update', result: 'success' | 'failure'): void;
  queueDepth(n: number): void;
}

export interface BaselineControllerOptions {
  api: BaselineApi;
  view: BaselineView;
  config: ConfigStore;
  leader: Leadership;
  logger: Logger;
  netfenceNamespace: string;
  identity: string;
  metrics?: ReconcilerMetrics;
  /** Retry backoff per namespace: doubles from min to max. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A periodic full pass catches anything an event did not bring. */
  resyncMs?: number;
}

/**
 * Keeps the baseline NetworkPolicies in every namespace that carries the baseline labels.
 * Namespaces are queued on namespace and policy events, on a config change, when this replica
 * becomes the leader, and on a periodic resync; only the leader works the queue. Reads go to the
 * API server (not the cache) so that a write never acts on a stale object; conflicts and
 * races (409, 404) are retried with backoff, and nothing is dropped while it fails.
 */
export class BaselineController {
  private readonly o: Required<Omit<BaselineControllerOptions, 'metrics'>> & Pick<BaselineControllerOptions, 'metrics'>;
  private readonly queue = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  /** Baseline policies seen in place: one missing later was deleted, and is restored. */
  private readonly seenInPlace = new Set<string>();
  private running = false;
  private stopped = true;
  private resync: NodeJS.Timeout | undefined;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(options: BaselineControllerOptions) {
    this.o = { minBackoffMs: 250, maxBackoffMs: 30_000, resyncMs: 300_000, ...options };
  }

  start(): void {
    this.stopped = false;
    const onNamespace = (name: string): void => this.enqueue(name);
    const onPolicy = (namespace: string, name: string): void => {
      if (this.o.config.current().config.baseline.policies.some((p) => p.name === name)) this.enqueue(namespace);
    };
    const all = (): void => this.enqueueAll();
    this.o.view.on('namespace', onNamespace);
    this.o.view.on('networkpolicy', onPolicy);
    this.o.config.on('change', all);
    this.o.leader.on('started', all);
    this.unsubscribe.push(
      () => this.o.view.off('namespace', onNamespace),
      () => this.o.view.off('networkpolicy', onPolicy),
      () => this.o.config.off('change', all),
      () => this.o.leader.off('started', all),
    );
    this.resync = setInterval(all, this.o.resyncMs);
    this.resync.unref();
    this.enqueueAll();
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.resync) clearInterval(this.resync);
    for (const t of this.delayed.values()) clearTimeout(t);
    this.delayed.clear();
    this.queue.clear();
  }

  enqueueAll(): void {
    for (const ns of this.o.view.namespaces()) this.enqueue(ns.name);
  }

  enqueue(namespace: string): void {
    if (this.stopped) return;
    this.queue.add(namespace);
    this.o.metrics?.queueDepth(this.queue.size);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.stopped && this.o.leader.isLeader() && this.queue.size > 0) {
        const namespace = this.queue.values().next().value as string;
        this.queue.delete(namespace);
        this.o.metrics?.queueDepth(this.queue.size);
        try {
          await this.reconcile(namespace);
          this.failures.delete(namespace);
        } catch (err) {
          this.retryLater(namespace, err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private retryLater(namespace: string, err: unknown): void {
    const n = (this.failures.get(namespace) ?? 0) + 1;
    this.failures.set(namespace, n);
    const delay = Math.min(this.o.minBackoffMs * 2 ** (n - 1), this.o.maxBackoffMs);
    const status = statusOf(err);
    this.o.logger[status === 409 || status === 404 ? 'info' : 'error'](
      { event: 'baseline.retry', namespace, attempt: n, delayMs: delay, status, err: (err as Error).message },
      `baseline of ${namespace} not in place yet; retrying`,
    );
    const previous = this.delayed.get(namespace);
    if (previous) clearTimeout(previous);
    const t = setTimeout(() => {
      this.delayed.delete(namespace);
      this.enqueue(namespace);
    }, delay);
    t.unref();
    this.delayed.set(namespace, t);
  }

  /** One namespace: read what is there, plan, apply. Throws to be retried. */
  async reconcile(namespace: string): Promise<void> {
    const { config } = this.o.config.current();
    const info = this.o.view.namespace(namespace);
    if (!info || !wantsBaseline(info, config, this.o.netfenceNamespace)) return;
    const actual = new Map<string, NetworkPolicy | undefined>();
    for (const p of config.baseline.policies) actual.set(p.name, await this.o.api.getPolicy(namespace, p.name));
    for (const action of planNamespace(namespace, config, actual)) await this.apply(namespace, action);
  }

  private async apply(namespace: string, action: Action): Promise<void> {
    const key = `${namespace}/${action.name}`;
    if (action.kind === 'skip') {
      if (action.reason === 'in place') this.seenInPlace.add(key);
      else this.o.logger.warn({ event: 'baseline.skipped', namespace, policy: action.name, reason: action.reason }, 'baseline policy left alone');
      return;
    }
    try {
      if (action.kind === 'create') await this.o.api.createPolicy(action.policy);
      else await this.o.api.replacePolicy(action.policy);
      this.o.metrics?.action(action.kind, 'success');
    } catch (err) {
      this.o.metrics?.action(action.kind, 'failure');
      throw err;
    }
    const restored = action.kind === 'update' || this.seenInPlace.has(key);
    this.seenInPlace.add(key);
    const reason = restored ? 'BaselineRestored' : 'BaselineCreated';
    const message =
      action.kind === 'update'
        ? `netfence restored baseline NetworkPolicy ${action.name} (its ${action.reason} had been changed)`
        : restored
          ? `netfence restored baseline NetworkPolicy ${action.name} (it had been deleted)`
          : `netfence created baseline NetworkPolicy ${action.name}`;
    this.o.logger.info({ event: 'baseline.applied', namespace, policy: action.name, action: action.kind, reason }, message);
    // Dates, not strings: the client serialises Event timestamps from Date objects.
    const now = new Date();
    await this.o.api
      .createEvent({
        apiVersion: 'v1',
        kind: 'Event',
        // A Namespace is cluster-scoped: the API server requires its Events in `default`, as
        // client-go records them; `kubectl describe namespace` finds them there.
        metadata: { generateName: 'netfence-baseline-', namespace: 'default' },
        involvedObject: { apiVersion: 'v1', kind: 'Namespace', name: namespace },
        reason,
        message,
        type: 'Normal',
        source: { component: 'netfence' },
        reportingComponent: 'netfence',
        reportingInstance: this.o.identity,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      })
      .catch((err: unknown) => this.o.logger.warn({ event: 'baseline.event_failed', namespace, err: (err as Error).message }, 'could not record the Event'));
  }
}
