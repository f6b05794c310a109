import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { statusOf, type Lease, type LeaseApi } from './kube-api.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease holds without renewal before others may take it. */
  leaseDurationSeconds?: number;
  /** How often to try to acquire or renew. */
  retryPeriodMs?: number;
  clock?: () => number;
}

interface LeaderEvents {
  started: [];
  stopped: [];
}

/**
 * Leader election over a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews
 * every retry period; a candidate takes the lease over when it has not seen it renewed for a
 * lease duration, measured on its own clock from when it last saw the lease change (so clock
 * skew between replicas does not matter). Writes carry resourceVersion, so two candidates
 * cannot both win. A leader that cannot renew within the lease duration steps down.
 */
export class LeaderElector extends EventEmitter<LeaderEvents> {
  private readonly opts: Required<LeaderElectionOptions>;
  private readonly api: LeaseApi;
  private readonly logger: Logger;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private observed: { key: string; at: number } | undefined;
  private lastRenew = 0;
  private stopped = true;

  constructor(api: LeaseApi, logger: Logger, options: LeaderElectionOptions) {
    super();
    this.api = api;
    this.logger = logger;
    this.opts = { leaseDurationSeconds: 15, retryPeriodMs: 2_000, clock: Date.now, ...options };
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.tick();
  }

  /** Stops, and gives the lease up so that another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.api.getLease(this.opts.namespace, this.opts.name);
      if (lease?.holderIdentity === this.opts.identity) {
        await this.api.replaceLease(this.opts.namespace, this.opts.name, { ...lease, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new Date(this.opts.clock()) });
      }
    } catch (err) {
      this.logger.warn({ event: 'leader.release_failed', err: (err as Error).message }, 'could not release the lease; it expires by itself');
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.logger.info({ event: leading ? 'leader.started' : 'leader.stopped', identity: this.opts.identity, lease: `${this.opts.namespace}/${this.opts.name}` }, leading ? 'became the leader' : 'no longer the leader');
    this.emit(leading ? 'started' : 'stopped');
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (err) {
      this.logger.warn({ event: 'leader.error', err: (err as Error).message }, 'leader election call failed');
    }
    const now = this.opts.clock();
    if (this.leading && now - this.lastRenew > this.opts.leaseDurationSeconds * 1000) this.setLeading(false);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.opts.retryPeriodMs);
    this.timer.unref();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { namespace, name, identity, leaseDurationSeconds } = this.opts;
    const now = this.opts.clock();
    const fresh = (transitions: number, acquire: Date): Lease => ({
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: acquire,
      renewTime: new Date(now),
      leaseTransitions: transitions,
    });
    const current = await this.api.getLease(namespace, name);
    if (!current) {
      try {
        await this.api.createLease(namespace, name, fresh(0, new Date(now)));
        this.lastRenew = now;
        this.setLeading(true);
      } catch (err) {
        // 409: someone else created it first, and leads. Anything else is a real failure.
        if (statusOf(err) !== 409) throw err;
      }
      return;
    }
    const key = `${current.holderIdentity}|${current.renewTime?.getTime()}|${current.resourceVersion}`;
    if (this.observed?.key !== key) this.observed = { key, at: now };
    const holder = current.holderIdentity ?? '';
    if (holder === identity) {
      await this.api.replaceLease(namespace, name, { ...current, ...fresh(current.leaseTransitions ?? 0, current.acquireTime ?? new Date(now)) });
      this.lastRenew = now;
      this.setLeading(true);
      return;
    }
    this.setLeading(false);
    const duration = (current.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const expired = holder === '' || now - this.observed.at > duration;
    if (!expired) return;
    await this.api.replaceLease(namespace, name, { ...current, ...fresh((current.leaseTransitions ?? 0) + 1, new Date(now)) });
    this.lastRenew = now;
    this.setLeading(true);
  }
}
