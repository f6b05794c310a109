import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KubeClient } from '../kube/client.ts';
import { FakeApiServer, json, status } from '../../test/helpers/fake-api-server.ts';
import { createLogger } from '../log.ts';
import { ObjectInformer, slim } from './informer.ts';
import { resolveKind } from './kube-api.ts';

// The informer and discovery against a loopback HTTP server speaking the API server's wire
// format: lists, watches that end (timeoutSeconds), a 410, access reviews.

const pa = (ns: string, rv: string, mode = 'STRICT') => ({ apiVersion: 'x.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: ns, resourceVersion: rv, managedFields: [{ big: true }] }, spec: { mtls: { mode } }, status: { s: 1 } });
const until = async (what: string, ok: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

let server: FakeApiServer | undefined;
let informer: ObjectInformer | undefined;
afterEach(async () => {
  informer?.stop();
  await server?.close();
});

async function start(handler: ConstructorParameters<typeof FakeApiServer>[0]) {
  server = new FakeApiServer(handler);
  const url = await server.listen();
  const client = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig(url), { qps: 0 });
  const changes: string[] = [];
  let synced = 0;
  informer = new ObjectInformer({
    client,
    logger: createLogger({ level: 'silent' }),
    path: '/apis/x.io/v1/peerauthentications',
    name: 'default',
    onChange: (ns) => void changes.push(ns),
    onSynced: () => void synced++,
    minBackoffMs: 5,
  });
  informer.start();
  return { changes, synced: () => synced, client };
}

describe('ObjectInformer', () => {
  it('lists by name, resumes each ended watch from the last resourceVersion without listing again, and reports only changes', async () => {
    const watches: string[] = [];
    // The first watch's events wait for the test's put(): netfence's own write must be known to
    // the informer before the watch brings it back, however slow the machine.
    let release!: () => void;
    const putDone = new Promise<void>((r) => (release = r));
    const { changes, synced } = await start((req, _body, res) => {
      const url = new URL(req.url!, 'http://x');
      if (!url.searchParams.has('watch')) return json(res, 200, { items: [pa('a', '10'), pa('b', '11')], metadata: { resourceVersion: '20' } });
      watches.push(url.searchParams.get('resourceVersion')!);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (watches.length === 1) {
        // netfence's own write arrives (same version as put()), then someone else's edit, then a bookmark.
        void putDone.then(() => {
          res.write(`${JSON.stringify({ type: 'MODIFIED', object: pa('a', '21') })}\n`);
          res.write(`${JSON.stringify({ type: 'MODIFIED', object: pa('b', '22', 'DISABLE') })}\n`);
          res.end(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '25' } } })}\n`);
        });
      } else if (watches.length === 2) {
        res.end(`${JSON.stringify({ type: 'DELETED', object: pa('a', '26') })}\n`);
      } else {
        res.write(''); // stays open
      }
    });
    await until('synced', () => synced() === 1);
    informer!.put(pa('a', '21'));
    release();
    await until('third watch', () => watches.length >= 3);
    expect(server!.requests.filter((r) => !r.url.includes('watch')).map((r) => r.url)).toEqual(['/apis/x.io/v1/peerauthentications?limit=500&fieldSelector=metadata.name%3Ddefault']);
    expect(watches).toEqual(['20', '25', '26']);
    expect(changes).toEqual(['b', 'a']);
    expect(informer!.lists).toBe(1);
    expect(informer!.get('a')).toBeUndefined();
    expect(informer!.get('b')).toEqual({ apiVersion: 'x.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'b', resourceVersion: '22' }, spec: { mtls: { mode: 'DISABLE' } } });
  });

  it('lists again after a 410, and reports only the namespaces whose object changed meanwhile', async () => {
    let lists = 0;
    let watches = 0;
    const { changes } = await start((req, _body, res) => {
      const url = new URL(req.url!, 'http://x');
      if (!url.searchParams.has('watch')) {
        lists++;
        const items = lists === 1 ? [pa('a', '10'), pa('b', '11'), pa('c', '12')] : [pa('a', '10'), pa('b', '30'), pa('d', '31')];
        return json(res, 200, { items, metadata: { resourceVersion: lists === 1 ? '20' : '40' } });
      }
      watches++;
      if (watches === 1) return status(res, 410, 'Expired', 'too old resource version');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('');
    });
    await until('second list', () => lists === 2 && watches === 2);
    expect(changes.sort()).toEqual(['b', 'c', 'd']);
  });

  it('after a failure it backs off and resumes the watch, without listing again', async () => {
    let watches = 0;
    await start((req, _body, res) => {
      const url = new URL(req.url!, 'http://x');
      if (!url.searchParams.has('watch')) return json(res, 200, { items: [], metadata: { resourceVersion: '5' } });
      watches++;
      if (watches <= 2) return status(res, 500, 'InternalError', 'etcd down');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('');
    });
    await until('third watch', () => watches === 3);
    expect(informer!.lists).toBe(1);
  });

  it('slim keeps identity, version, labels and body; drops status, managedFields and the last-applied copy', () => {
    const o = { ...pa('a', '1'), metadata: { ...pa('a', '1').metadata, labels: { l: 'v' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{...}' }, uid: 'u' } };
    expect(slim(o)).toEqual({ apiVersion: 'x.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'a', resourceVersion: '1', labels: { l: 'v' } }, spec: { mtls: { mode: 'STRICT' } } });
  });
});

describe('ObjectInformer across an API server outage', () => {
  // Each list or watch request takes the next answer of a script: a real refused connection
  // (nothing listens on port 1), an error answered, a watch accepted that says a bookmark and
  // is then cut, a 410; once the script is done, lists answer resourceVersion 7 and watches
  // stay open. Math.random is 0.5, so the jitter is nil and the delays logged are exact.
  type Answer = 'refused' | 503 | 410 | 'cut' | 'closed';
  const refused = (n: number): Answer[] => Array<Answer>(n).fill('refused');
  const o = { minBackoffMs: 4, maxBackoffMs: 10_000, refusedRetryMs: 30 };
  afterEach(() => void vi.restoreAllMocks());

  it.each<[string, Array<Answer | 'list'>, number[], Array<{ resourceVersion: string; restarts: number; lists: number }>]>([
    ['a refused watch is retried every refusedRetryMs, never doubled, however many times', ['list', ...refused(6)], [30, 30, 30, 30, 30, 30], [{ resourceVersion: '7', restarts: 6, lists: 0 }]],
    ['so is a refused first list', refused(4), [30, 30, 30, 30], [{ resourceVersion: '7', restarts: 4, lists: 1 }]],
    ['errors answered back off from min, doubling', ['list', 503, 503, 503], [4, 8, 16], [{ resourceVersion: '7', restarts: 3, lists: 0 }]],
    ['refusals between answered errors neither double the backoff nor reset it', ['list', 503, 503, ...refused(3), 503], [4, 8, 30, 30, 30, 16], [{ resourceVersion: '7', restarts: 6, lists: 0 }]],
    [
      'a bookmark is healthy contact: a watch cut after it backs off from min again, and resumes from the bookmark',
      ['list', 503, 503, 503, 'cut', 503],
      [4, 8, 16, 4, 8],
      [
        { resourceVersion: '7', restarts: 3, lists: 0 },
        { resourceVersion: '9', restarts: 2, lists: 0 },
      ],
    ],
    ['a 410 lists again at once, and the resumed watch says so', ['list', 410], [], [{ resourceVersion: '7', restarts: 1, lists: 1 }]],
    ['410s in a row after lists back off from min, doubling', ['list', 410, 'list', 410, 'list', 410], [], [{ resourceVersion: '7', restarts: 3, lists: 3 }]],
    // Each of those watches was accepted before it ended: each says it resumed.
    ['a watch the API server ends at once, saying nothing, backs off like a failure', ['list', 'closed', 'closed', 'closed'], [4, 8, 16], Array(3).fill({ resourceVersion: '7', restarts: 1, lists: 0 })],
  ])('%s', async (_name, script, delays, resumed) => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    let answer: Answer | 'list' | undefined;
    let cut: ServerResponse | undefined;
    let serving = false;
    server = new FakeApiServer((req, _body, res) => {
      const watch = new URL(req.url!, 'http://x').searchParams.has('watch');
      if (answer === 503 || answer === 410) return status(res, answer, answer === 503 ? 'ServiceUnavailable' : 'Expired', answer === 503 ? 'starting' : 'too old resource version');
      if (!watch) return json(res, 200, { items: [], metadata: { resourceVersion: '7' } });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (answer === 'closed') return res.end();
      if (answer === 'cut') {
        cut = res;
        res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } })}\n`);
      } else res.write('');
    });
    const served = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig(await server.listen()), { qps: 0 });
    const refusing = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig('http://127.0.0.1:1'), { qps: 0 });
    const left = [...script];
    const lines: Array<Record<string, unknown>> = [];
    informer = new ObjectInformer({
      client: {
        listPages: (path, options, onPage) => {
          answer = left.shift();
          return (answer === 'refused' ? refusing : served).listPages(path, options, onPage);
        },
        watch: (path, options, onEvent) => {
          answer = left.shift();
          const last = answer === undefined;
          return (answer === 'refused' ? refusing : served).watch(path, { ...options, onOpen: () => (options.onOpen?.(), (serving = last)) }, (event) => {
            onEvent(event);
            // Cut once the informer has the bookmark.
            if (event.type === 'BOOKMARK' && cut) cut.socket?.destroy();
          });
        },
      },
      logger: createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } }),
      path: '/apis/x.io/v1/peerauthentications',
      name: 'default',
      onChange: () => undefined,
      ...o,
    });
    try {
      informer.start();
      await until('a watch accepted after the script', () => serving);
    } finally {
      served.close();
      refusing.close();
    }
    expect(lines.filter((l) => l.event === 'baseline.watch_failed').map((l) => l.delayMs)).toEqual(delays);
    expect(lines.filter((l) => l.event === 'baseline.watch_resumed')).toEqual(resumed.map((r) => expect.objectContaining({ path: '/apis/x.io/v1/peerauthentications', name: 'default', ...r })));
    const watches = server.requests.map((r) => new URL(r.url, 'http://x').searchParams).filter((q) => q.has('watch'));
    expect(watches.at(-1)!.get('resourceVersion')).toBe(resumed.at(-1)!.resourceVersion);
    expect(informer.lists).toBe(1 + script.filter((a) => a === 410).length);
    const expired = script.filter((a) => a === 410).length;
    expect(lines.filter((l) => l.event === 'baseline.watch_expired').map((l) => l.delayMs)).toEqual(Array.from({ length: expired }, (_, i) => (i === 0 ? 0 : 4 * 2 ** (i - 1))));
  });
});

describe('resolveKind', () => {
  const discovery = { resources: [{ name: 'peerauthentications', kind: 'PeerAuthentication', namespaced: true, verbs: ['list'] }, { name: 'peerauthentications/status', kind: 'PeerAuthentication', namespaced: true }, { name: 'meshconfigs', kind: 'MeshConfig', namespaced: false }] };
  async function resolver(allowed: (verb: string) => boolean) {
    server = new FakeApiServer((req, body, res) => {
      if (req.url === '/apis/x.io/v1') return json(res, 200, discovery);
      if (req.url === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
        const verb = JSON.parse(body).spec.resourceAttributes.verb as string;
        return json(res, 201, { status: { allowed: allowed(verb) } });
      }
      status(res, 404, 'NotFound', 'the server could not find the requested resource');
    });
    return KubeClient.fromKubeConfig(FakeApiServer.kubeConfig(await server.listen()), { qps: 0 });
  }
  it.each([
    ['served and allowed', 'x.io/v1', 'PeerAuthentication', () => true, { group: 'x.io', version: 'v1', kind: 'PeerAuthentication', resource: 'peerauthentications' }],
    ['a group version not served', 'y.io/v1', 'PeerAuthentication', () => true, { problem: 'the API server does not serve y.io/v1 (is the CustomResourceDefinition for PeerAuthentication installed, and does it serve version v1?)' }],
    ['a kind not in the group', 'x.io/v1', 'Sidecar', () => true, { problem: 'x.io/v1 has no kind Sidecar (it serves: MeshConfig, PeerAuthentication)' }],
    ['cluster-scoped', 'x.io/v1', 'MeshConfig', () => true, { problem: expect.stringContaining('MeshConfig is cluster-scoped') }],
    ['watch and patch denied', 'x.io/v1', 'PeerAuthentication', (v: string) => v === 'list' || v === 'create', { problem: expect.stringContaining('netfence may not watch, patch peerauthentications.x.io in all namespaces; add to its ClusterRole {apiGroups: ["x.io"], resources: ["peerauthentications"], verbs: [list, watch, create, patch]}') }],
  ])('%s', async (_n, apiVersion, kind, allowed, want) => {
    const client = await resolver(allowed);
    expect(await resolveKind(client, apiVersion, kind)).toEqual(want);
    client.close();
  });
});
