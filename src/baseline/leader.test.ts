import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import type { Lease, LeaseApi } from './kube-api.ts';
import { LeaderElector } from './leader.ts';

/** An in-process Lease store with resourceVersion checks, as the API server does them. */
class FakeLeases implements LeaseApi {
  lease: Lease | undefined;
  private rv = 0;
  async getLease(): Promise<Lease | undefined> {
    return this.lease && { ...this.lease };
  }
  async createLease(_ns: string, _name: string, lease: Lease): Promise<Lease> {
    if (this.lease) throw Object.assign(new Error('exists'), { code: 409 });
    this.lease = { ...lease, resourceVersion: String(++this.rv) };
    return this.lease;
  }
  async replaceLease(_ns: string, _name: string, lease: Lease): Promise<Lease> {
    if (!this.lease || lease.resourceVersion !== this.lease.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
    this.lease = { ...lease, resourceVersion: String(++this.rv) };
    return this.lease;
  }
}

const quiet = createLogger({ level: 'silent' });
const tick = () => new Promise((r) => setTimeout(r, 5));
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await tick();
  expect(cond()).toBe(true);
}

describe('LeaderElector', () => {
  it('one replica leads; the other takes over when it gives the lease up', async () => {
    const api = new FakeLeases();
    const opts = { namespace: 'netfence-system', name: 'netfence-baseline', retryPeriodMs: 10, leaseDurationSeconds: 60 };
    const a = new LeaderElector(api, quiet, { ...opts, identity: 'a' });
    const b = new LeaderElector(api, quiet, { ...opts, identity: 'b' });
    a.start();
    await until(() => a.isLeader());
    b.start();
    await tick();
    await tick();
    expect(b.isLeader()).toBe(false);
    expect(api.lease?.holderIdentity).toBe('a');
    await a.stop();
    await until(() => b.isLeader());
    expect(api.lease?.holderIdentity).toBe('b');
    expect(api.lease?.leaseTransitions).toBe(1);
    await b.stop();
  });

  it('takes over a lease that has not been renewed for a lease duration, on its own clock', async () => {
    const api = new FakeLeases();
    let now = 1_000_000;
    api.lease = { holderIdentity: 'gone', leaseDurationSeconds: 15, renewTime: new Date(now), leaseTransitions: 3, resourceVersion: '1' };
    const b = new LeaderElector(api, quiet, { namespace: 'n', name: 'l', identity: 'b', retryPeriodMs: 10, clock: () => now });
    b.start();
    await tick();
    await tick();
    expect(b.isLeader()).toBe(false);
    now += 16_000;
    await until(() => b.isLeader());
    expect(api.lease).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4 });
    await b.stop();
  });

  it('steps down when it cannot renew within the lease duration', async () => {
    const api = new FakeLeases();
    let now = 0;
    const a = new LeaderElector(api, quiet, { namespace: 'n', name: 'l', identity: 'a', retryPeriodMs: 10, leaseDurationSeconds: 15, clock: () => now });
    a.start();
    await until(() => a.isLeader());
    api.getLease = async () => {
      throw new Error('API server unreachable');
    };
    now += 16_000;
    await until(() => !a.isLeader());
    await a.stop();
  });
});
