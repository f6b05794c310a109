import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../test/helpers/fake-api-server.ts';
import { FakeKube } from '../../test/helpers/fake-kube.ts';
import { KubeApiError, KubeClient } from '../kube/client.ts';
import type { NetworkPolicy } from '../k8s/types.ts';
import { createLogger } from '../log.ts';
import { LiveClusterView, type LiveViewOptions } from './live.ts';
import { Reflector } from './reflector.ts';
import { WORKLOAD_RESOURCES } from './workloads.ts';

const NP = '/apis/networking.k8s.io/v1/networkpolicies';
const NS = '/api/v1/namespaces';
const PODS = '/api/v1/pods';
const DEPLOYMENTS = '/apis/apps/v1/deployments';
const CRONJOBS = '/apis/batch/v1/cronjobs';
const logger = createLogger({ level: 'silent' });
/** Every resource the live view watches: one watch each, one list each when nothing went wrong. */
const RESOURCES = ['namespaces', 'pods', 'networkpolicies', ...WORKLOAD_RESOURCES.map((r) => r.resource)];
const ONE_LIST_EACH = Object.fromEntries(RESOURCES.map((r) => [r, 1]));

function policy(ns: string, name: string, cidr = '10.0.0.0/8'): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns, labels: { app: 'x' }, annotations: { note: 'n', 'kubectl.kubernetes.io/last-applied-configuration': '{"big":1}' } },
    spec: {
      podSelector: {},
      ingress: [{ from: [{ ipBlock: { cidr, except: ['10.1.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 80, endPort: 90 }] }],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }],
    },
  };
}

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not true within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let fake: FakeKube | undefined;
let view: LiveClusterView | undefined;
afterEach(async () => {
  await view?.stop();
  await fake?.close();
  fake = view = undefined;
});

interface Started {
  fake: FakeKube;
  view: LiveClusterView;
  restarts: string[];
  namespaceEvents: string[];
  policyEvents: string[];
}

async function startView(setup: (f: FakeKube) => void, reflector: LiveViewOptions['reflector'] = {}): Promise<Started> {
  fake = new FakeKube();
  setup(fake);
  const url = await fake.listen();
  const client = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig(url), { qps: 0 });
  const restarts: string[] = [];
  view = new LiveClusterView(client, logger, {
    onRestart: (resource, reason) => restarts.push(`${resource}:${reason}`),
    reflector: { pageSize: 2, minBackoffMs: 10, maxBackoffMs: 20, ...reflector },
  });
  const namespaceEvents: string[] = [];
  const policyEvents: string[] = [];
  view.on('namespace', (n) => namespaceEvents.push(n));
  view.on('networkpolicy', (ns, n) => policyEvents.push(`${ns}/${n}`));
  view.start();
  const v = view;
  await until('synced', () => v.synced());
  return { fake, view, restarts, namespaceEvents, policyEvents };
}

describe('LiveClusterView', () => {
  it('keeps from, to, except and endPort of NetworkPolicies loaded by a paginated LIST and by watch', async () => {
    const { fake, view } = await startView((f) => {
      for (let i = 0; i < 5; i++) f.put(NP, policy('a', `listed-${i}`));
      f.put(NS, { metadata: { name: 'a', labels: { team: 'a' } } });
    });
    expect(fake.requests(NP, 'list').length).toBe(3); // 5 items, 2 per page
    const listed = view.networkPolicy('a', 'listed-0')!;
    expect(listed.spec).toEqual(policy('a', 'x').spec);
    expect(listed.metadata).toMatchObject({ resourceVersion: expect.any(String), labels: { app: 'x' }, annotations: { note: 'n' } });
    expect(listed.metadata.annotations).not.toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
    fake.put(NP, policy('a', 'watched', '192.168.0.0/16'));
    await until('watched policy cached', () => view.networkPolicy('a', 'watched') !== undefined);
    expect(view.networkPolicy('a', 'watched')!.spec.ingress![0]!.from![0]!.ipBlock).toEqual({ cidr: '192.168.0.0/16', except: ['10.1.0.0/16'] });
    expect(view.networkPolicies('a')).toHaveLength(6);
    expect(view.namespace('a')!.labels).toMatchObject({ team: 'a', 'kubernetes.io/metadata.name': 'a' });
  });

  it('asks for bookmarks and sets its own watch timeout', async () => {
    const { fake } = await startView(() => undefined);
    await until('watching', () => fake.requests(PODS, 'watch').length > 0);
    const q = fake.requests(PODS, 'watch')[0]!;
    expect(q.get('allowWatchBookmarks')).toBe('true');
    // Under the 5-minute staleness limit, so that a watch hearing nothing still ends in time.
    expect(Number(q.get('timeoutSeconds'))).toBeGreaterThanOrEqual(240);
    expect(Number(q.get('timeoutSeconds'))).toBeLessThan(300);
    expect(q.get('resourceVersion')).toBe(fake.resourceVersion);
  });

  it('resumes a watch that ended at its timeout from the last resourceVersion: no relist, no restart counted', async () => {
    const { fake, view, restarts } = await startView((f) => f.put(NS, { metadata: { name: 'a' } }), { watchTimeoutSeconds: [1, 1] });
    await until('watching', () => fake.openWatches === RESOURCES.length);
    fake.put(NS, { metadata: { name: 'b' } });
    await until('b seen', () => view.namespace('b') !== undefined);
    const rvOfB = fake.resourceVersion;
    await until('watching again', () => fake.requests(NS, 'watch').length === 2 && fake.requests(PODS, 'watch').length === 2, 3_000);
    expect(fake.requests(NS, 'watch')[1]!.get('resourceVersion')).toBe(rvOfB);
    expect(fake.requests(NS, 'list')).toHaveLength(1);
    expect(view.lists()).toEqual(ONE_LIST_EACH);
    expect(restarts).toEqual([]);
  });

  it('stays synced on a cluster so quiet that no event and no bookmark arrives', async () => {
    fake = new FakeKube();
    fake.mute = true;
    const client = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig(await fake.listen()), { qps: 0 });
    const restarts: string[] = [];
    view = new LiveClusterView(client, logger, { staleAfterMs: 1_500, onRestart: (r, why) => restarts.push(`${r}:${why}`), reflector: { watchTimeoutSeconds: [1, 1] } });
    view.start();
    const v = view;
    await until('synced', () => v.synced());
    for (let i = 0; i < 30; i++) {
      expect(v.synced()).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(fake.requests(PODS, 'watch').length).toBeGreaterThanOrEqual(3);
    expect(v.lists()).toEqual(ONE_LIST_EACH);
    expect(restarts).toEqual([]);
  });

  it('resumes a watch the API server closed early (a restart) from the last resourceVersion, without a relist', async () => {
    const { fake, view, restarts } = await startView((f) => f.put(NS, { metadata: { name: 'a' } }));
    await until('watching', () => fake.openWatches === RESOURCES.length);
    fake.endWatches();
    fake.put(NS, { metadata: { name: 'b' } });
    await until('b seen', () => view.namespace('b') !== undefined);
    expect(fake.requests(NS, 'watch')[1]!.get('resourceVersion')).toBe(fake.requests(NS, 'watch')[0]!.get('resourceVersion'));
    expect(view.lists()).toEqual(ONE_LIST_EACH);
    expect(restarts.sort()).toEqual(RESOURCES.map((r) => `${r}:closed`).sort());
  });

  it('resumes a failed watch from the last resourceVersion after a backoff, and misses nothing', async () => {
    const { fake, view, restarts } = await startView((f) => f.put(NS, { metadata: { name: 'a' } }));
    await until('watching', () => fake.openWatches === RESOURCES.length);
    // The API server goes away (connections cut, the next watches refused), and changes happen.
    fake.refuse.push({ match: (r) => r.url!.startsWith(`${NS}?`), status: 503 }, { match: (r) => r.url!.startsWith(`${NS}?`), status: 503 });
    fake.dropWatches();
    fake.put(NS, { metadata: { name: 'while-away' } });
    await until('while-away seen', () => view.namespace('while-away') !== undefined);
    expect(restarts.filter((r) => r.startsWith('namespaces:')).every((r) => r === 'namespaces:error')).toBe(true);
    expect(restarts.length).toBeGreaterThanOrEqual(3);
    expect(view.lists().namespaces).toBe(1);
  });

  it('lists again on 410 Gone, announcing only what changed and removing what is gone', async () => {
    const { fake, view, restarts, namespaceEvents, policyEvents } = await startView((f) => {
      for (const n of ['a', 'b', 'c']) f.put(NS, { metadata: { name: n } });
      f.put(NP, policy('a', 'keep'));
      f.put(NP, policy('a', 'change'));
      f.put(NP, policy('a', 'remove'));
    });
    await until('watching', () => fake.openWatches === RESOURCES.length);
    expect(namespaceEvents.sort()).toEqual(['a', 'b', 'c']);
    namespaceEvents.length = 0;
    policyEvents.length = 0;
    // While netfence is cut off, objects change and etcd is compacted past its resourceVersion.
    fake.mute = true;
    fake.put(NS, { metadata: { name: 'b', labels: { x: 'y' } } });
    fake.put(NS, { metadata: { name: 'd' } });
    fake.put(NP, policy('a', 'change', '172.16.0.0/12'));
    fake.delete(NP, 'a', 'remove');
    fake.compact();
    fake.mute = false;
    fake.dropWatches();
    await until(`relisted`, () => view.lists().namespaces === 2 && view.lists().networkpolicies === 2 && view.lists().pods === 2).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(view.lists())} ${JSON.stringify(restarts)} open ${fake.openWatches}`);
    });
    expect(namespaceEvents.sort()).toEqual(['b', 'd']);
    expect(policyEvents.sort()).toEqual(['a/change', 'a/remove']);
    expect(view.networkPolicy('a', 'remove')).toBeUndefined();
    expect(view.networkPolicy('a', 'change')!.spec.ingress![0]!.from![0]!.ipBlock!.cidr).toBe('172.16.0.0/12');
    expect(view.namespace('b')!.labels.x).toBe('y');
    expect(restarts).toContain('namespaces:expired');
  });

  it('takes a watch that stays silent past its timeout for a dead connection, and resumes it without a relist', async () => {
    const { fake, view, restarts } = await startView((f) => {
      f.mute = true;
    }, { watchTimeoutSeconds: [0, 0], graceMs: 50 });
    await until('silent restarts', () => restarts.filter((r) => r === 'pods:silent').length >= 2);
    fake.mute = false;
    expect(view.lists()).toEqual(ONE_LIST_EACH);
  });

  it('lists and watches the six workload kinds into workloads(), reduced to template labels and container ports', async () => {
    const template = (tier: string, port: number) => ({
      metadata: { labels: { tier, 'pod-template-hash': 'x' }, annotations: { big: 'y'.repeat(1000) } },
      spec: { containers: [{ name: 'c', image: 'i', env: [{ name: 'E', value: 'v' }], ports: [{ containerPort: port, protocol: 'TCP', name: 'p' }] }] },
    });
    const { fake, view } = await startView((f) => {
      // List items carry no kind, as the API server sends them.
      for (let i = 0; i < 3; i++) f.put(DEPLOYMENTS, { metadata: { name: `d${i}`, namespace: 'a', annotations: { note: 'n' } }, spec: { replicas: 2, template: template('data', 5432) }, status: { replicas: 2 } });
      f.put(CRONJOBS, { metadata: { name: 'nightly', namespace: 'a' }, spec: { schedule: '@daily', jobTemplate: { spec: { template: template('batch', 8080) } } } });
    });
    // synced() covers what admission reads; the workloads have their own.
    await until('workloads synced', () => view.workloadsSynced());
    expect(fake.requests(DEPLOYMENTS, 'list').length).toBe(2); // 3 items, 2 per page
    const listed = view.workloads('a');
    expect(listed.map((w) => `${w.kind}/${w.name}`).sort()).toEqual(['CronJob/nightly', 'Deployment/d0', 'Deployment/d1', 'Deployment/d2']);
    const d0 = listed.find((w) => w.name === 'd0')!;
    // Reduced: nothing but what the audit's rebuilt CREATE carries (no annotations, image, env, status).
    expect(d0).toEqual({ kind: 'Deployment', namespace: 'a', name: 'd0', pod: { namespace: 'a', name: 'd0', labels: { tier: 'data', 'pod-template-hash': 'x' }, ports: [{ containerPort: 5432, protocol: 'TCP', name: 'p' }], ips: [] } });
    expect(listed.find((w) => w.kind === 'CronJob')!.pod.labels).toEqual({ tier: 'batch', 'pod-template-hash': 'x' });
    // Shared copies, as for pods: three Deployments with one template hold one label map.
    expect(listed.find((w) => w.name === 'd1')!.pod.labels).toBe(d0.pod.labels);
    expect(view.workloads('a')).toBe(listed);
    expect(view.workloads('elsewhere')).toEqual([]);

    await until('watching', () => fake.openWatches === RESOURCES.length);
    fake.put('/apis/apps/v1/statefulsets', { kind: 'StatefulSet', metadata: { name: 'db', namespace: 'a' }, spec: { template: template('data', 5432) } });
    await until('statefulset watched', () => view.workloads('a').length === 5);
    const watched = view.workloads('a');
    expect(watched).not.toBe(listed);
    expect(watched.find((w) => w.kind === 'StatefulSet')).toMatchObject({ name: 'db', pod: { labels: { tier: 'data' } } });
    fake.put(DEPLOYMENTS, { metadata: { name: 'd0', namespace: 'a' }, spec: { template: template('web', 80) } });
    await until('relabelled', () => view.workloads('a').find((w) => w.name === 'd0')!.pod.labels.tier === 'web');
    fake.delete(DEPLOYMENTS, 'a', 'd1');
    await until('deleted', () => view.workloads('a').length === 4);
    expect(view.describe()).toContain('4 workloads');
  });

  it('is synced for admission when a workload kind is forbidden (403); only the audit waits for workloads', async () => {
    // An upgrade that kept an older ClusterRole: list/watch on cronjobs is refused, again and again.
    const { view: v } = await startView((f) => {
      for (let i = 0; i < 10_000; i++) f.refuse.push({ match: (req) => (req.url ?? '').includes('/cronjobs'), status: 403 });
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(v.synced()).toBe(true);
    expect(v.workloadsSynced()).toBe(false);
  });

  it('returns the same list until it changes, and a new one when it does', async () => {
    const { fake, view } = await startView((f) => f.put(PODS, { metadata: { name: 'p', namespace: 'a', labels: { app: 'x' } }, status: { podIP: '10.0.0.1' } }));
    const first = view.pods('a');
    expect(first).toHaveLength(1);
    expect(view.pods('a')).toBe(first);
    fake.put(PODS, { metadata: { name: 'q', namespace: 'a' } });
    await until('q seen', () => view.pods('a').length === 2);
    expect(view.pods('a')).not.toBe(first);
    fake.delete(PODS, 'a', 'p');
    fake.delete(PODS, 'a', 'q');
    await until('pods gone', () => view.pods('a').length === 0);
  });
});

describe('Reflector', () => {
  it('keeps retrying when the API server goes away, and its staleness keeps growing', async () => {
    const client = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig('http://127.0.0.1:1'), { qps: 0 });
    let listed = 0;
    const restarts: string[] = [];
    const reflector = new Reflector(
      {
        // The first list succeeds (from a stand-in); then the API server is gone.
        listPages: async (path, options, onPage) => {
          if (listed++ > 0) return client.listPages(path, options, onPage);
          await onPage({ items: [], resourceVersion: '1' });
          return { resourceVersion: '1', pages: 1, items: 0 };
        },
        watch: (path, options, onEvent) => client.watch(path, options, onEvent),
      },
      logger,
      {
        resource: 'pods',
        path: PODS,
        store: { versionOf: () => undefined, upsert: () => undefined, remove: () => undefined, keys: () => [] },
        minBackoffMs: 5,
        maxBackoffMs: 10,
        refusedRetryMs: 10,
        onRestart: (reason) => restarts.push(reason),
      },
    );
    reflector.start();
    await until('retrying', () => restarts.length >= 3);
    const heard = reflector.lastContact;
    await new Promise((r) => setTimeout(r, 100));
    await reflector.stop();
    expect(reflector.synced).toBe(true);
    expect(restarts.every((r) => r === 'error')).toBe(true);
    // Failed watches are not contact, and do not relist: the last contact is still the list.
    expect(heard).toBeGreaterThan(0);
    expect(reflector.lastContact).toBe(heard);
    expect(reflector.lists).toBe(1);
  });

  it('finds a restarted API server within about refusedRetryMs however long it was down, and resumes from its resourceVersion', async () => {
    const refusing = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig('http://127.0.0.1:1'), { qps: 0 });
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
    // Down for 1.5 s, then answering 503 twice while it starts, then serving.
    const upAt = Date.now() + 1_500;
    let starting = 2;
    let listed = 0;
    const accepted: Array<{ at: number; resourceVersion: string | undefined }> = [];
    const reflector = new Reflector(
      {
        listPages: async (_path, _options, onPage) => {
          listed++;
          await onPage({ items: [], resourceVersion: '7' });
          return { resourceVersion: '7', pages: 1, items: 0 };
        },
        watch: async (path, options, onEvent) => {
          // A real refused connection: nothing listens on port 1.
          if (Date.now() < upAt) return refusing.watch(path, options, onEvent);
          if (starting-- > 0) throw new KubeApiError(503, 'ServiceUnavailable', 'starting');
          options.onOpen?.();
          accepted.push({ at: Date.now(), resourceVersion: options.resourceVersion });
          await new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true }));
        },
      },
      log,
      {
        resource: 'pods',
        path: PODS,
        store: { versionOf: () => undefined, upsert: () => undefined, remove: () => undefined, keys: () => [] },
        minBackoffMs: 20,
        maxBackoffMs: 10_000,
        refusedRetryMs: 40,
      },
    );
    reflector.start();
    await until('watch accepted', () => accepted.length > 0);
    await reflector.stop();
    const restarts = lines.filter((l) => l.event === 'cluster.watch_restart');
    const refused = restarts.filter((l) => String(l.err).includes('ECONNREFUSED'));
    // Retried every 20-60 ms throughout the outage: never doubled into a long blind wait…
    expect(refused.length).toBeGreaterThan(10);
    for (const l of refused) expect(l.delayMs as number).toBeLessThanOrEqual(60);
    // …and answered errors back off from the start, as if nothing had been refused.
    const answered = restarts.filter((l) => l.err === 'starting').map((l) => l.delayMs as number);
    expect(answered).toHaveLength(2);
    expect(answered[0]).toBeLessThanOrEqual(30);
    expect(answered[1]).toBeLessThanOrEqual(60);
    expect(accepted[0]!.at - upAt).toBeLessThan(500);
    // Resumed from the list's resourceVersion, listed once, and said so once.
    expect(accepted[0]!.resourceVersion).toBe('7');
    expect(listed).toBe(1);
    expect(lines.filter((l) => l.event === 'cluster.watch_resumed')).toEqual([
      expect.objectContaining({ resource: 'pods', resourceVersion: '7', reason: 'error', restarts: refused.length + 2, lists: 0 }),
    ]);
    expect(restarts.every((l) => l.resourceVersion === '7' && l.relist === false)).toBe(true);
  });
});
