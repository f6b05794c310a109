import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError, KubeClient, readBody, statusOf, withQuery, type WatchEvent } from './client.ts';
import { FakeApiServer, json, status } from '../../test/helpers/fake-api-server.ts';
import { TokenBucket } from './rate-limit.ts';

const POLICY = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'p', namespace: 'a', resourceVersion: '7' },
  spec: {
    podSelector: {},
    ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 80, endPort: 90 }] }],
    egress: [{ to: [{ namespaceSelector: {} }] }],
  },
};

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(handler: ConstructorParameters<typeof FakeApiServer>[0]): Promise<KubeClient> {
  server = new FakeApiServer(handler);
  const url = await server.listen();
  return KubeClient.fromKubeConfig(FakeApiServer.kubeConfig(url), { qps: 0 });
}

describe('KubeClient', () => {
  it('reads objects as plain JSON: from, to, except and endPort as the API server sent them', async () => {
    const client = await start((req, _b, res) => (req.url === '/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/p' ? json(res, 200, POLICY) : status(res, 404, 'NotFound', 'not found')));
    expect(await client.get('/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/p')).toEqual(POLICY);
    expect(await client.get('/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/q')).toBeUndefined();
    expect(server!.requests[0]!.headers.authorization).toBe('Bearer secret-token');
  });

  it('fails with a typed error carrying the status, reason and message', async () => {
    const client = await start((_r, _b, res) => status(res, 409, 'Conflict', 'the object has been modified'));
    const err = await client.replace('/api/v1/namespaces/a', { metadata: { name: 'a', resourceVersion: '3' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: 409, reason: 'Conflict', message: 'the object has been modified' });
    expect(statusOf(err)).toBe(409);
    expect(statusOf(new Error('x'))).toBeUndefined();
    expect(statusOf(new KubeApiError(0, 'ConnectionError', 'refused'))).toBeUndefined();
  });

  it('sends writes as JSON with the right verb and content type, resourceVersion included', async () => {
    const client = await start((req, body, res) => json(res, req.method === 'POST' ? 201 : 200, body ? JSON.parse(body) : { kind: 'Status' }));
    await client.create('/apis/networking.k8s.io/v1/namespaces/a/networkpolicies', POLICY);
    await client.replace('/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/p', POLICY);
    await client.patch('/api/v1/namespaces/a', { metadata: { labels: { x: 'y' } } }, 'merge');
    await client.patch('/api/v1/namespaces/a', POLICY, 'apply', { fieldManager: 'netfence', force: true });
    await client.delete('/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/p');
    const r = server!.requests;
    expect(r.map((x) => x.method)).toEqual(['POST', 'PUT', 'PATCH', 'PATCH', 'DELETE']);
    expect(JSON.parse(r[1]!.body)).toEqual(POLICY);
    expect(JSON.parse(r[1]!.body).metadata.resourceVersion).toBe('7');
    expect(r[0]!.headers['content-type']).toBe('application/json');
    expect(r[2]!.headers['content-type']).toBe('application/merge-patch+json');
    expect(r[3]!.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(r[3]!.url).toBe('/api/v1/namespaces/a?fieldManager=netfence&force=true');
  });

  it('reuses one keep-alive connection for many requests, and counts connections and requests', async () => {
    const client = await start((_r, _b, res) => json(res, 200, { kind: 'Namespace' }));
    for (let i = 0; i < 20; i++) await client.get('/api/v1/namespaces/a');
    await Promise.all(Array.from({ length: 5 }, () => client.get('/api/v1/namespaces/b')));
    expect(client.stats().requests.get).toBe(25);
    expect(client.stats().connectionsOpened).toBeLessThanOrEqual(5);
    expect(server!.connections).toBe(client.stats().connectionsOpened);
  });

  it('sends a GET again when the API server had closed the kept-alive connection it went out on', async () => {
    const perSocket = new WeakMap<object, number>();
    let dropped = 0;
    const client = await start((req, _b, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n === 2 && dropped === 0) {
        dropped++;
        req.socket.destroy();
        return;
      }
      json(res, 200, { kind: 'Namespace' });
    });
    await client.get('/api/v1/namespaces/a');
    expect(await client.get('/api/v1/namespaces/a')).toEqual({ kind: 'Namespace' });
    expect(dropped).toBe(1);
    expect(client.stats().connectionsOpened).toBe(2);
  });

  it('lists page by page with limit and continue, one callback per page', async () => {
    const client = await start((req, _b, res) => {
      const u = new URL(req.url!, 'http://x');
      const page = Number(u.searchParams.get('continue') ?? '0');
      expect(u.searchParams.get('limit')).toBe('2');
      const items = [0, 1].map((i) => ({ metadata: { name: `p${page * 2 + i}` } }));
      json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '42', ...(page < 2 ? { continue: String(page + 1) } : {}) }, items });
    });
    const pages: string[][] = [];
    const result = await client.listPages('/api/v1/pods', { limit: 2 }, (p) => {
      pages.push(p.items.map((i) => (i.metadata as { name: string }).name));
    });
    expect(pages).toEqual([['p0', 'p1'], ['p2', 'p3'], ['p4', 'p5']]);
    expect(result).toEqual({ resourceVersion: '42', pages: 3, items: 6 });
    expect(client.stats().requests.list).toBe(3);
  });

  it('makes pages of big objects smaller, to keep each parse short', async () => {
    const limits: number[] = [];
    const client = await start((req, _b, res) => {
      const u = new URL(req.url!, 'http://x');
      const limit = Number(u.searchParams.get('limit'));
      const start = Number(u.searchParams.get('continue') ?? '0');
      limits.push(limit);
      const items = Array.from({ length: Math.min(limit, 100 - start) }, (_, i) => ({ metadata: { name: `p${start + i}` }, data: 'x'.repeat(1000) }));
      json(res, 200, { metadata: { resourceVersion: '1', ...(start + limit < 100 ? { continue: String(start + limit) } : {}) }, items });
    });
    const result = await client.listPages('/api/v1/configmaps', { limit: 50, targetPageBytes: 10_000 }, () => undefined);
    expect(result.items).toBe(100);
    expect(limits[0]).toBe(50);
    expect(limits.slice(1).every((l) => l >= 9 && l <= 10)).toBe(true);
  });

  it('streams watch events split across chunks, and resolves when the API server ends the watch', async () => {
    const client = await start((_req, _b, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const lines = [
        JSON.stringify({ type: 'ADDED', object: POLICY }),
        JSON.stringify({ type: 'BOOKMARK', object: { kind: 'NetworkPolicy', metadata: { resourceVersion: '9' } } }),
      ].join('\n') + '\n';
      res.write(lines.slice(0, 17));
      setTimeout(() => res.end(lines.slice(17)), 20);
    });
    const events: WatchEvent[] = [];
    await client.watch('/apis/networking.k8s.io/v1/networkpolicies', { resourceVersion: '5', timeoutSeconds: 300 }, (e) => events.push(e));
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(events[0]!.object).toEqual(POLICY);
    const url = new URL(server!.requests[0]!.url, 'http://x');
    expect(Object.fromEntries(url.searchParams)).toEqual({ watch: '1', resourceVersion: '5', allowWatchBookmarks: 'true', timeoutSeconds: '300' });
  });

  it('rejects a watch the API server refuses, with its status', async () => {
    const client = await start((_r, _b, res) => status(res, 410, 'Expired', 'too old resource version'));
    const err = await client.watch('/api/v1/pods', { resourceVersion: '1' }, () => undefined).catch((e: unknown) => e);
    expect(statusOf(err)).toBe(410);
  });

  it('ends a watch quietly when its signal aborts, and as an error when the connection drops', async () => {
    const client = await start((req, _b, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }) + '\n');
      if (req.url!.includes('drop')) setTimeout(() => res.socket?.destroy(), 20);
    });
    const abort = new AbortController();
    const events: WatchEvent[] = [];
    const watching = client.watch('/api/v1/namespaces', { signal: abort.signal }, (e) => {
      events.push(e);
      abort.abort();
    });
    await expect(watching).resolves.toBeUndefined();
    expect(events).toHaveLength(1);
    const dropped = await client.watch('/api/v1/namespaces', { fieldSelector: 'drop' }, () => undefined).catch((e: unknown) => e);
    expect(dropped).toMatchObject({ reason: 'ConnectionError' });
  });

  it('reports a refused connection as a KubeApiError without status, with the socket error code', async () => {
    const client = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig('http://127.0.0.1:1'), { qps: 0 });
    const err = await client.get('/api/v1/namespaces').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, reason: 'ConnectionError', code: 'ECONNREFUSED' });
    const watched = await client.watch('/api/v1/namespaces', {}, () => undefined).catch((e: unknown) => e);
    expect(watched).toMatchObject({ status: 0, reason: 'ConnectionError', code: 'ECONNREFUSED' });
  });

  it('builds queries without undefined values', () => {
    expect(withQuery('/api/v1/pods', { limit: 500, continue: undefined, watch: true })).toBe('/api/v1/pods?limit=500&watch=true');
    expect(withQuery('/api/v1/pods?x=1', { y: 2 })).toBe('/api/v1/pods?x=1&y=2');
  });
});

describe('readBody', () => {
  // The last response of a pooled socket stays referenced until the socket is reused: once its
  // body is read, nothing of the response may still lead to the body (its listeners did).
  const cases: Array<[string, (res: EventEmitter & { complete: boolean }) => void, string | Error]> = [
    ['a complete body', (res) => { res.emit('data', Buffer.from('{"kind":')); res.emit('data', Buffer.from('"PodList"}')); res.complete = true; res.emit('end'); res.emit('close'); }, '{"kind":"PodList"}'],
    ['a connection error', (res) => { res.emit('data', Buffer.from('{')); res.emit('error', new Error('reset')); }, new Error('reset')],
    ['a close before the end', (res) => { res.emit('data', Buffer.from('{')); res.emit('close'); }, new Error('the connection closed before the answer was complete')],
  ];
  it.each(cases)('%s: settles, then keeps no listener but a harmless error one', async (_what, drive, want) => {
    const res = Object.assign(new EventEmitter(), { complete: false });
    const body = readBody(res as unknown as IncomingMessage);
    drive(res);
    if (typeof want === 'string') await expect(body).resolves.toBe(want);
    else await expect(body).rejects.toThrow(want.message);
    expect(['data', 'end', 'close'].map((e) => res.listenerCount(e))).toEqual([0, 0, 0]);
    expect(res.listenerCount('error')).toBe(1);
    expect(() => res.emit('error', new Error('late'))).not.toThrow();
  });
});

describe('TokenBucket', () => {
  afterEach(() => vi.useRealTimers());

  it('lets a burst through at once, then qps per second, in order', async () => {
    vi.useFakeTimers();
    const bucket = new TokenBucket(10, 3, () => Date.now());
    const done: number[] = [];
    for (let i = 0; i < 6; i++) void bucket.take().then(() => done.push(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toEqual([0, 1, 2]);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toEqual([0, 1, 2, 3]);
    await vi.advanceTimersByTimeAsync(200);
    expect(done).toEqual([0, 1, 2, 3, 4, 5]);
    expect(bucket.waiting).toBe(0);
  });

  it('does not limit when qps is zero', async () => {
    const bucket = new TokenBucket(0, 1);
    await Promise.all(Array.from({ length: 100 }, () => bucket.take()));
    expect(bucket.waiting).toBe(0);
  });
});
