import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { builtInConfig } from '../config/load.ts';
import { ConfigStore } from '../config/store.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { bareNamespace } from '../k8s/objects.ts';
import type { KubeObject, NamespaceInfo } from '../k8s/types.ts';
import { createLogger } from '../log.ts';
import type { ObjectCache } from './caches.ts';
import { BaselineController } from './controller.ts';
import { applyMergePatch } from './fields.ts';
import type { BaselineApi, NamespacedObject, ResolvedKind } from './kube-api.ts';
import { baselineTemplates, type BaselineTemplate } from './plan.ts';

// Unit tests with in-process fakes: a fake cluster (the API: writes only, as the controller
// makes no reads) and a fake cache that the test brings in step with the cluster, as a watch
// would, when it chooses. The end-to-end suite runs the same controller against kube-apiserver.

const apiError = (status: number, reason: string) => Object.assign(new Error(`${status} ${reason}`), { status, reason });

class FakeCluster implements BaselineApi {
  objects = new Map<string, KubeObject>();
  calls: string[] = [];
  private rv = 100;
  /** Fails every call with this error while set (an outage). */
  down: Error | undefined;
  delayMs = 0;
  static key = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;
  async create(kind: ResolvedKind, object: NamespacedObject): Promise<KubeObject> {
    this.calls.push(`create ${kind.kind} ${object.metadata.namespace}/${object.metadata.name}`);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.down) throw this.down;
    const key = FakeCluster.key(kind.kind, object.metadata.namespace, object.metadata.name);
    if (this.objects.has(key)) throw apiError(409, 'AlreadyExists');
    const stored = { ...structuredClone(object), metadata: { ...object.metadata, resourceVersion: String(this.rv++), uid: 'u' } };
    this.objects.set(key, stored);
    return structuredClone(stored);
  }
  async patch(kind: ResolvedKind, ns: string, name: string, patch: Record<string, unknown>): Promise<KubeObject> {
    this.calls.push(`patch ${kind.kind} ${ns}/${name}`);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.down) throw this.down;
    const key = FakeCluster.key(kind.kind, ns, name);
    const have = this.objects.get(key);
    if (!have) throw apiError(404, 'NotFound');
    const rv = (patch.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    if (rv !== undefined && rv !== have.metadata?.resourceVersion) throw apiError(409, 'Conflict');
    const stored = applyMergePatch(have, patch) as KubeObject;
    stored.metadata!.resourceVersion = String(this.rv++);
    this.objects.set(key, stored);
    return structuredClone(stored);
  }
  /** Someone else edits an object (a new resourceVersion). */
  edit(kind: string, ns: string, name: string, change: (o: KubeObject) => void): void {
    const o = this.objects.get(FakeCluster.key(kind, ns, name))!;
    change(o);
    o.metadata!.resourceVersion = String(this.rv++);
  }
}

/** The informers' cache: brought in step with the cluster by sync(), as a watch would. */
class FakeCache implements ObjectCache {
  readonly cache = new Map<string, KubeObject>();
  onChange: (ns: string) => void = () => {};
  unresolved = new Set<string>();
  private readonly cluster: FakeCluster;
  constructor(cluster: FakeCluster) {
    this.cluster = cluster;
  }
  kind(t: BaselineTemplate): ResolvedKind | undefined {
    if (this.unresolved.has(t.kind)) return undefined;
    return { group: t.group, version: 'v1', kind: t.kind, resource: `${t.kind.toLowerCase()}s` };
  }
  get(t: BaselineTemplate, ns: string) {
    return this.cache.get(FakeCluster.key(t.kind, ns, t.name));
  }
  put(t: BaselineTemplate, o: KubeObject) {
    this.cache.set(FakeCluster.key(t.kind, o.metadata!.namespace!, t.name), structuredClone(o));
  }
  synced() {
    return true;
  }
  async follow() {}
  /** The watch catches up: every difference reported, as the informer does. */
  sync(): void {
    for (const [key, o] of this.cluster.objects) {
      if (this.cache.get(key)?.metadata?.resourceVersion === o.metadata?.resourceVersion) continue;
      this.cache.set(key, structuredClone(o));
      this.onChange(o.metadata!.namespace!);
    }
    for (const key of [...this.cache.keys()]) {
      if (this.cluster.objects.has(key)) continue;
      this.cache.delete(key);
      this.onChange(key.split('/')[1]!);
    }
  }
}

class FakeView extends EventEmitter<{ namespace: [string] }> {
  all = new Map<string, NamespaceInfo>();
  namespace(name: string) {
    return this.all.get(name);
  }
  namespaces() {
    return [...this.all.values()];
  }
  add(ns: NamespaceInfo) {
    this.all.set(ns.name, ns);
    this.emit('namespace', ns.name);
  }
}

class LeaderStub extends EventEmitter<{ started: []; stopped: [] }> {
  leading: boolean;
  constructor(leading: boolean) {
    super();
    this.leading = leading;
  }
  isLeader(): boolean {
    return this.leading;
  }
}

const labelled = (name: string): NamespaceInfo => ({ ...bareNamespace(name), labels: { ...bareNamespace(name).labels, 'netfence.io/baseline': 'enabled' } });
const until = async (what: string, ok: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

const withObjects = (): NetfenceConfig => {
  const c = builtInConfig().config;
  return { ...c, baseline: { ...c.baseline, objects: [{ apiVersion: 'security.example.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } }] } };
};

function setup(options: { leading?: boolean; config?: NetfenceConfig; workers?: number } = {}) {
  const cluster = new FakeCluster();
  const cache = new FakeCache(cluster);
  const view = new FakeView();
  const leader = new LeaderStub(options.leading ?? true);
  const events: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const config = options.config ?? withObjects();
  const controller = new BaselineController({
    api: cluster,
    caches: cache,
    events: { record: (ns, reason, message) => void events.push(`${ns} ${reason}: ${message}`) },
    view,
    config: new ConfigStore({ config, hash: 'h', source: 'test' } as never),
    leader,
    logger: createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } }),
    netfenceNamespace: 'netfence-system',
    minBackoffMs: 5,
    maxBackoffMs: 40,
    ...(options.workers ? { workers: options.workers } : {}),
  });
  cache.onChange = (ns) => controller.objectChanged(ns);
  controller.start();
  const idle = () => until('queue drained', () => controller.queueLength === 0).then(() => new Promise((r) => setTimeout(r, 20)));
  return { cluster, cache, view, leader, controller, events, lines, idle, templates: baselineTemplates(config) };
}

describe('BaselineController', () => {
  it('creates every baseline object (policies and other kinds) with one Event per namespace', async () => {
    const { cluster, view, controller, events, idle } = setup();
    view.add(labelled('team-a'));
    await idle();
    expect([...cluster.objects.keys()].sort()).toEqual(['NetworkPolicy/team-a/netfence-allow-dns', 'NetworkPolicy/team-a/netfence-default-deny', 'PeerAuthentication/team-a/default']);
    expect(cluster.objects.get('PeerAuthentication/team-a/default')).toMatchObject({ spec: { mtls: { mode: 'STRICT' } }, metadata: { labels: { 'app.kubernetes.io/managed-by': 'netfence' } } });
    expect(events).toEqual(['team-a BaselineCreated: netfence created baseline NetworkPolicy netfence-default-deny, NetworkPolicy netfence-allow-dns, PeerAuthentication default']);
    await controller.stop();
  });

  it('an idle cluster costs no API call: resyncs, relists and config changes compare with the cache', async () => {
    const { cluster, cache, view, controller, idle } = setup();
    for (let i = 0; i < 50; i++) view.add(labelled(`ns-${i}`));
    await idle();
    cache.sync(); // the watch brings netfence's own writes: the same versions, nothing reported
    await idle();
    const calls = cluster.calls.length;
    expect(calls).toBe(150);
    for (let i = 0; i < 3; i++) controller.enqueueAll();
    await idle();
    expect(cluster.calls.length).toBe(calls);
    await controller.stop();
  });

  it('leaves unlabelled, excluded and its own namespaces alone', async () => {
    const { cluster, view, controller, idle } = setup();
    view.add(bareNamespace('plain'));
    view.add(labelled('kube-system'));
    view.add(labelled('netfence-system'));
    await idle();
    expect(cluster.calls).toEqual([]);
    await controller.stop();
  });

  it.each([
    ['a changed field of another kind', 'PeerAuthentication', 'default', (o: KubeObject) => void ((o.spec as { mtls: { mode: string } }).mtls.mode = 'PERMISSIVE'), 'PeerAuthentication default (spec.mtls.mode had been changed)'],
    ['a narrowed NetworkPolicy', 'NetworkPolicy', 'netfence-default-deny', (o: KubeObject) => void (o.spec = { podSelector: { matchLabels: { a: 'b' } }, policyTypes: ['Ingress', 'Egress'] }), 'NetworkPolicy netfence-default-deny (spec had been changed)'],
  ])('restores %s once the watch shows it, with a patch carrying the resourceVersion', async (_n, kind, name, change, message) => {
    const { cluster, cache, view, controller, events, idle } = setup();
    view.add(labelled('team-b'));
    await idle();
    cache.sync();
    cluster.edit(kind, 'team-b', name, change);
    const before = cluster.calls.length;
    cache.sync();
    await idle();
    expect(cluster.calls.slice(before)).toEqual([`patch ${kind} team-b/${name}`]);
    expect(events.at(-1)).toBe(`team-b BaselineRestored: netfence restored baseline ${message}`);
    await controller.stop();
  });

  it('a deleted object is recreated and reported as restored', async () => {
    const { cluster, cache, view, controller, events, idle } = setup();
    view.add(labelled('team-e'));
    await idle();
    cache.sync();
    cluster.objects.delete('PeerAuthentication/team-e/default');
    cache.sync();
    await idle();
    expect(cluster.objects.has('PeerAuthentication/team-e/default')).toBe(true);
    expect(events.at(-1)).toBe('team-e BaselineRestored: netfence restored baseline PeerAuthentication default (it had been deleted)');
    await controller.stop();
  });

  it('a 409 (the cache was behind) is retried with backoff and succeeds once the watch catches up', async () => {
    const { cluster, cache, view, controller, lines, idle } = setup();
    view.add(labelled('team-c'));
    await idle();
    cache.sync();
    // Edited twice; the cache has seen only the first edit when the controller acts.
    cluster.edit('PeerAuthentication', 'team-c', 'default', (o) => void (o.spec = {}));
    cache.sync();
    cluster.edit('PeerAuthentication', 'team-c', 'default', (o) => void (o.spec = { mtls: { mode: 'DISABLE' } }));
    await until('conflict logged', () => lines.some((l) => l.event === 'baseline.retry'));
    expect(lines.find((l) => l.event === 'baseline.retry')).toMatchObject({ level: 'info', cause: '409 Conflict' });
    cache.sync();
    await until('restored', () => (cluster.objects.get('PeerAuthentication/team-c/default')?.spec as { mtls?: { mode: string } }).mtls?.mode === 'STRICT');
    await controller.stop();
  });

  it('during an outage, failures are logged once per cause, not once per namespace, and nothing is lost', async () => {
    const { cluster, view, controller, lines, idle } = setup();
    cluster.down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 200; i++) view.add(labelled(`ns-${i}`));
    await until('retried', () => cluster.calls.length > 600);
    expect(lines.filter((l) => l.event === 'baseline.retry')).toHaveLength(1);
    cluster.down = undefined;
    await until('all in place', () => cluster.objects.size === 600, 5000);
    await idle();
    await controller.stop();
  });

  it('new namespaces jump the queue: a burst is served before a pass of repairs', async () => {
    const { cluster, cache, view, controller, idle } = setup({ workers: 2 });
    for (let i = 0; i < 300; i++) view.add(labelled(`old-${i}`));
    await idle();
    cache.sync();
    await idle();
    // Every old namespace needs a repair (someone relabelled everything), slowly served.
    for (let i = 0; i < 300; i++) cluster.edit('PeerAuthentication', `old-${i}`, 'default', (o) => void (o.metadata!.labels = {}));
    cluster.delayMs = 1;
    const start = cluster.calls.length;
    cache.sync();
    await until('some repairs started', () => cluster.calls.length > start + 10);
    for (let i = 0; i < 20; i++) view.add(labelled(`new-${i}`));
    await until('the burst is served', () => cluster.objects.size === 300 * 3 + 20 * 3, 10_000);
    const served = cluster.calls.slice(start);
    const lastNew = served.findLastIndex((c) => c.includes(' new-'));
    const repairsBefore = served.slice(0, lastNew).filter((c) => c.startsWith('patch')).length;
    // Only the repairs already in the workers' hands (and started meanwhile) came first.
    expect(repairsBefore).toBeLessThan(40);
    await idle();
    await controller.stop();
  });

  it('does nothing unless it leads, and catches up when it becomes the leader', async () => {
    const { cluster, view, leader, controller, idle } = setup({ leading: false });
    view.add(labelled('team-d'));
    await new Promise((r) => setTimeout(r, 20));
    expect(cluster.calls).toEqual([]);
    leader.leading = true;
    leader.emit('started');
    await idle();
    expect(cluster.objects.size).toBe(3);
    await controller.stop();
  });

  it('a template whose kind could not be resolved is left out; the others are reconciled', async () => {
    const { cluster, cache, view, controller, idle } = setup();
    cache.unresolved.add('PeerAuthentication');
    view.add(labelled('team-f'));
    await idle();
    expect([...cluster.objects.keys()].sort()).toEqual(['NetworkPolicy/team-f/netfence-allow-dns', 'NetworkPolicy/team-f/netfence-default-deny']);
    await controller.stop();
  });

  it('an object of that name managed by another tool is left alone', async () => {
    const { cluster, cache, view, controller, lines, idle, templates } = setup();
    const pa = templates.find((t) => t.kind === 'PeerAuthentication')!;
    cluster.objects.set('PeerAuthentication/team-g/default', { metadata: { name: 'default', namespace: 'team-g', resourceVersion: '1', labels: { 'app.kubernetes.io/managed-by': 'istioctl' } }, spec: {} });
    cache.put(pa, cluster.objects.get('PeerAuthentication/team-g/default')!);
    view.add(labelled('team-g'));
    await idle();
    expect(cluster.calls.filter((c) => c.includes('PeerAuthentication'))).toEqual([]);
    expect(lines.find((l) => l.event === 'baseline.skipped')).toMatchObject({ kind: 'PeerAuthentication', reason: 'a PeerAuthentication of that name is managed by istioctl' });
    await controller.stop();
  });
});
