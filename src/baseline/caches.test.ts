import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/default.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { KubeClient } from '../kube/client.ts';
import { FakeApiServer, json, status } from '../../test/helpers/fake-api-server.ts';
import { createLogger } from '../log.ts';
import { LiveClusterView } from '../cluster/live.ts';
import type { KubeObject } from '../k8s/types.ts';
import { FakeKube } from '../../test/helpers/fake-kube.ts';
import { BaselineCaches } from './caches.ts';
import { baselineTemplates } from './plan.ts';

const config: NetfenceConfig = {
  ...defaultConfig(),
  baseline: { ...defaultConfig().baseline, objects: [{ apiVersion: 'x.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: {} }] },
};
const templates = baselineTemplates(config);
const until = async (what: string, ok: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

let server: FakeApiServer | undefined;
let caches: BaselineCaches | undefined;
afterEach(async () => {
  caches?.stop();
  await server?.close();
});

describe('BaselineCaches', () => {
  it('resolves each kind, follows each template with its own informer, and retries discovery that failed', async () => {
    let discoveryUp = false;
    server = new FakeApiServer((req, _body, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/apis/networking.k8s.io/v1') return json(res, 200, { resources: [{ name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true }] });
      if (url.pathname === '/apis/x.io/v1') {
        if (!discoveryUp) return status(res, 503, 'ServiceUnavailable', 'try later');
        return json(res, 200, { resources: [{ name: 'peerauthentications', kind: 'PeerAuthentication', namespaced: true }] });
      }
      if (url.pathname.endsWith('selfsubjectaccessreviews')) return json(res, 201, { status: { allowed: true } });
      if (url.searchParams.has('watch')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.write('');
      }
      const name = url.searchParams.get('fieldSelector')!.split('=')[1]!;
      const kind = url.pathname.endsWith('networkpolicies') ? 'NetworkPolicy' : 'PeerAuthentication';
      json(res, 200, { items: [{ kind, metadata: { name, namespace: 'team-a', resourceVersion: '3' }, spec: {} }], metadata: { resourceVersion: '9' } });
    });
    const client = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig(await server.listen()), { qps: 0 });
    caches = new BaselineCaches(client, createLogger({ level: 'silent' }));
    caches.retryMs = 20;
    let syncs = 0;
    caches.onSynced = () => void syncs++;
    await caches.follow(templates);
    const [deny, dns, pa] = templates;
    expect(caches.kind(deny!)).toEqual({ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', resource: 'networkpolicies' });
    expect(caches.kind(pa!)).toBeUndefined();
    await until('policies synced', () => caches!.synced() && caches!.get(dns!, 'team-a') !== undefined);
    expect(caches.get(deny!, 'team-a')?.metadata?.name).toBe('netfence-default-deny');
    discoveryUp = true;
    await until('the PeerAuthentication followed after the retry', () => caches!.kind(pa!) !== undefined && caches!.synced() && caches!.get(pa!, 'team-a') !== undefined);
    expect(syncs).toBeGreaterThanOrEqual(3);
    // A template dropped from the config is no longer followed.
    await caches.follow(templates.slice(0, 1));
    expect(caches.kind(pa!)).toBeUndefined();
    expect(caches.size()).toBe(1);
    client.close();
  });
});

// With the live view: NetworkPolicy templates are read from the view's cache (one list and
// watch of every NetworkPolicy, which admission needs anyway); other kinds keep an informer.
const NP = '/apis/networking.k8s.io/v1/networkpolicies';
const PA = '/apis/x.io/v1/peerauthentications';
const NS = '/api/v1/namespaces';
const policy = (ns: string, name: string, spec: Record<string, unknown> = { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'netfence' }, annotations: { note: 'kept' } },
  spec,
});
const peerAuthentication = (ns: string): KubeObject => ({ apiVersion: 'x.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: ns }, spec: {} });

let fake: FakeKube | undefined;
let view: LiveClusterView | undefined;
afterEach(async () => {
  caches?.stop();
  await view?.stop();
  await fake?.close();
  fake = view = caches = undefined;
});

/** A fake cluster with team-a and team-b, each with its baseline and a policy of its own, and caches over a live view of it. */
async function withView(options: { start?: boolean } = {}) {
  const f = (fake = new FakeKube());
  f.answer = (url, _req, res) => {
    if (url.pathname === '/apis/networking.k8s.io/v1') return json(res, 200, { resources: [{ name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true }] }), true;
    if (url.pathname === '/apis/x.io/v1') return json(res, 200, { resources: [{ name: 'peerauthentications', kind: 'PeerAuthentication', namespaced: true }] }), true;
    if (url.pathname.endsWith('selfsubjectaccessreviews')) return json(res, 201, { status: { allowed: true } }), true;
    return false;
  };
  for (const ns of ['team-a', 'team-b']) {
    f.put(NS, { metadata: { name: ns } });
    f.put(NP, policy(ns, 'netfence-default-deny'));
    f.put(NP, policy(ns, 'netfence-allow-dns', { podSelector: {}, policyTypes: ['Egress'] }));
    f.put(NP, policy(ns, 'their-own'));
    f.put(PA, peerAuthentication(ns));
  }
  const client = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig(await f.listen()), { qps: 0 });
  const logger = createLogger({ level: 'silent' });
  const v = (view = new LiveClusterView(client, logger, { reflector: { minBackoffMs: 10, maxBackoffMs: 20 } }));
  const c = (caches = new BaselineCaches(client, logger, v));
  const changes: string[] = [];
  const syncs = { count: 0 };
  c.onChange = (ns) => void changes.push(ns);
  c.onSynced = () => void syncs.count++;
  await c.follow(templates);
  if (options.start !== false) {
    v.start();
    await until('synced', () => c.synced() && v.synced());
  }
  const viewEvents: string[] = [];
  v.on('networkpolicy', (ns, name) => void viewEvents.push(`${ns}/${name}`));
  /** Waits until the watch has delivered everything before now: a marker policy changed after it arrives. */
  const caughtUp = async (): Promise<void> => {
    const marker = f.put(NP, policy('team-z', `marker-${f.resourceVersion}`));
    await until('watch caught up', () => v.networkPolicy('team-z', marker.metadata!.name!) !== undefined);
  };
  return { fake: f, view: v, caches: c, changes, syncs, viewEvents, caughtUp, client };
}

describe('BaselineCaches with the live view', () => {
  const [deny, dns, pa] = templates;

  it('serves NetworkPolicy templates from the view with no list or watch of their own; other kinds keep their informer', async () => {
    const { fake, view, caches, client } = await withView();
    const selectors = (path: string, kind: 'list' | 'watch') => fake.requests(path, kind).map((q) => q.get('fieldSelector'));
    // Only the view's own list and watch of every NetworkPolicy: no field selector on a baseline name.
    await until('watches open', () => selectors(NP, 'watch').length > 0 && selectors(PA, 'watch').length > 0);
    expect(selectors(NP, 'list')).toEqual([null]);
    expect(selectors(NP, 'watch')).toEqual([null]);
    expect(selectors(PA, 'list')).toEqual(['metadata.name=default']);
    expect(selectors(PA, 'watch')).toEqual(['metadata.name=default']);
    for (const [t, ns] of [[deny!, 'team-a'], [dns!, 'team-b']] as const) {
      const got = caches.get(t, ns);
      expect(got).toBe(view.networkPolicy(ns, t.name));
      // What the plan compares and writes with: spec, labels, annotations, resourceVersion.
      expect(got).toMatchObject({ metadata: { name: t.name, namespace: ns, resourceVersion: expect.any(String), labels: { 'app.kubernetes.io/managed-by': 'netfence' }, annotations: { note: 'kept' } }, spec: { podSelector: {} } });
    }
    expect(caches.get(pa!, 'team-a')).toMatchObject({ kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'team-a' } });
    expect(caches.get(deny!, 'team-c')).toBeUndefined();
    // The informers hold only the PeerAuthentications; the view holds the policies, once.
    expect(caches.size()).toBe(2);
    client.close();
  });

  it.each([
    { what: 'a baseline policy deleted', act: (f: FakeKube) => f.delete(NP, 'team-a', 'netfence-default-deny'), changes: ['team-a'] },
    { what: 'a baseline policy edited', act: (f: FakeKube) => void f.put(NP, policy('team-b', 'netfence-allow-dns', { podSelector: {} })), changes: ['team-b'] },
    { what: 'a baseline policy created', act: (f: FakeKube) => void f.put(NP, policy('team-c', 'netfence-default-deny')), changes: ['team-c'] },
    { what: 'a policy of another name changed', act: (f: FakeKube) => f.delete(NP, 'team-a', 'their-own'), changes: [] },
    { what: 'a PeerAuthentication deleted (its informer)', act: (f: FakeKube) => f.delete(PA, 'team-b', 'default'), changes: ['team-b'] },
  ])('$what: the controller hears of exactly the namespaces whose baseline changed', async ({ act, changes: want }) => {
    const { fake, changes, caughtUp } = await withView();
    act(fake);
    await caughtUp();
    if (want.length > 0) await until('change heard', () => changes.length >= want.length);
    await new Promise((r) => setTimeout(r, 20));
    expect(changes).toEqual(want);
  });

  it('put() stores what a write answered in the view at once; its watch event is not announced again', async () => {
    const { fake, view, caches, changes, viewEvents, caughtUp } = await withView();
    // The API server stores the write; its answer is put before the watch can bring the event.
    const written = fake.put(NP, { ...policy('team-a', 'netfence-default-deny', { podSelector: {}, policyTypes: ['Ingress'] }), metadata: { ...policy('team-a', 'netfence-default-deny').metadata!, managedFields: [{ big: 1 }] } });
    caches.put(deny!, written);
    expect(caches.get(deny!, 'team-a')).toMatchObject({ metadata: { resourceVersion: written.metadata!.resourceVersion }, spec: { policyTypes: ['Ingress'] } });
    expect(view.networkPolicy('team-a', 'netfence-default-deny')?.metadata.resourceVersion).toBe(written.metadata!.resourceVersion);
    expect(view.networkPolicies('team-a').map((p) => p.metadata.resourceVersion)).toContain(written.metadata!.resourceVersion);
    expect(caches.get(deny!, 'team-a')?.metadata).not.toHaveProperty('managedFields');
    await caughtUp();
    expect(viewEvents.filter((e) => !e.startsWith('team-z/'))).toEqual([]);
    expect(changes).toEqual([]);
    // A write created in a new namespace, the same.
    const created = fake.put(NP, policy('team-c', 'netfence-allow-dns'));
    caches.put(dns!, created);
    expect(caches.get(dns!, 'team-c')?.metadata?.resourceVersion).toBe(created.metadata!.resourceVersion);
    await caughtUp();
    expect(changes).toEqual([]);
  });

  it('put() of an answer older than what the watch brought is ignored: a later edit or deletion stays', async () => {
    const { fake, caches, changes, caughtUp } = await withView();
    const written = fake.put(NP, policy('team-a', 'netfence-default-deny'));
    const edited = fake.put(NP, policy('team-a', 'netfence-default-deny', { podSelector: {}, policyTypes: ['Egress'] }));
    fake.delete(NP, 'team-b', 'netfence-default-deny');
    await caughtUp();
    const stale = fake.put(NP, policy('team-b', 'netfence-default-deny'));
    fake.delete(NP, 'team-b', 'netfence-default-deny');
    await caughtUp();
    caches.put(deny!, written);
    caches.put(deny!, stale);
    expect(caches.get(deny!, 'team-a')?.metadata?.resourceVersion).toBe(edited.metadata!.resourceVersion);
    expect(caches.get(deny!, 'team-b')).toBeUndefined();
    expect(new Set(changes)).toEqual(new Set(['team-a', 'team-b']));
  });

  it('is synced, and says so once, when the view has listed its NetworkPolicies (and the informers theirs)', async () => {
    const { view, caches, syncs } = await withView({ start: false });
    expect(caches.synced()).toBe(false);
    expect(syncs.count).toBe(0);
    view.start();
    await until('synced', () => caches.synced());
    await until('both syncs heard', () => syncs.count >= 2);
    await new Promise((r) => setTimeout(r, 20));
    // One from the PeerAuthentication informer, one from the view: not one per policy template.
    expect(syncs.count).toBe(2);
    // Only NetworkPolicy templates: synced with the view alone.
    await caches.follow(templates.slice(0, 2));
    expect(caches.synced()).toBe(true);
    expect(caches.kind(pa!)).toBeUndefined();
  });
});
