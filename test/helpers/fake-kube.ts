import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../src/k8s/types.ts';
import { FakeApiServer, json, status } from './fake-api-server.ts';

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * An in-process stand-in for the API server's list and watch of a few collections, over
 * loopback HTTP: objects with resourceVersions, paginated lists (limit/continue), watches that
 * replay history from a resourceVersion, bookmarks, 410 for a resourceVersion older than the
 * compaction point, a field selector on metadata.name. Tests drive it: change objects, end,
 * drop or refuse watches.
 */
export class FakeKube {
  readonly server: FakeApiServer;
  private rv = 100;
  /** Objects by collection path, then namespace/name. */
  private readonly collections = new Map<string, Map<string, KubeObject>>();
  private readonly history: Array<{ path: string; rv: number; type: EventType; object: KubeObject }> = [];
  private readonly watches = new Set<{ path: string; res: ServerResponse; name: string | undefined }>();
  /** Watches from a resourceVersion below this are answered 410 (etcd compaction). */
  compactedBelow = 0;
  /** The next requests matching these are refused with the given status. */
  refuse: Array<{ match: (req: IncomingMessage) => boolean; status: number }> = [];
  /** Accepted watches say nothing and never end (a dead connection). */
  mute = false;
  /** Answers what is not a collection (discovery, access reviews): true when it answered. */
  answer: ((url: URL, req: IncomingMessage, res: ServerResponse) => boolean) | undefined;

  constructor() {
    this.server = new FakeApiServer((req, _body, res) => this.handle(req, res));
  }

  async listen(): Promise<string> {
    return this.server.listen();
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.res.destroy();
    await this.server.close();
  }

  /** Requests made, by kind: list pages and watches per collection path. */
  requests(path: string, kind: 'list' | 'watch'): URLSearchParams[] {
    return this.server.requests
      .map((r) => new URL(r.url, 'http://x'))
      .filter((u) => u.pathname === path && (u.searchParams.get('watch') === '1') === (kind === 'watch'))
      .map((u) => u.searchParams);
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  put(path: string, object: KubeObject): KubeObject {
    const coll = this.collection(path);
    const key = `${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
    const type: EventType = coll.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = structuredClone({ ...object, metadata: { ...object.metadata, resourceVersion: String(++this.rv) } });
    coll.set(key, stored);
    this.publish(path, type, stored);
    return stored;
  }

  delete(path: string, namespace: string, name: string): void {
    const coll = this.collection(path);
    const old = coll.get(`${namespace}/${name}`);
    if (!old) return;
    coll.delete(`${namespace}/${name}`);
    this.publish(path, 'DELETED', { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } });
  }

  /** Forgets history up to now, as etcd compaction does: a watch from before now gets 410. */
  compact(): void {
    this.compactedBelow = this.rv;
  }

  /** Ends every open watch normally (as at its timeout, or a graceful API server shutdown). */
  endWatches(): void {
    for (const w of this.watches) w.res.end();
    this.watches.clear();
  }

  /** Cuts every open watch's connection. */
  dropWatches(): void {
    for (const w of this.watches) w.res.socket?.destroy();
    this.watches.clear();
  }

  bookmark(path: string): void {
    for (const w of this.watches) if (w.path === path) w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.rv) } } }) + '\n');
  }

  get openWatches(): number {
    return this.watches.size;
  }

  private collection(path: string): Map<string, KubeObject> {
    let c = this.collections.get(path);
    if (!c) this.collections.set(path, (c = new Map()));
    return c;
  }

  private publish(path: string, type: EventType, object: KubeObject): void {
    this.history.push({ path, rv: this.rv, type, object });
    if (this.mute) return;
    for (const w of this.watches) if (w.path === path && selected(w.name, object)) w.res.write(JSON.stringify({ type, object }) + '\n');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const refusal = this.refuse.findIndex((r) => r.match(req));
    if (refusal >= 0) {
      const [r] = this.refuse.splice(refusal, 1);
      status(res, r!.status, 'InternalError', 'refused by the test');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (this.answer?.(url, req, res)) return;
    const path = url.pathname;
    const q = url.searchParams;
    const name = /^metadata\.name=(.+)$/.exec(q.get('fieldSelector') ?? '')?.[1];
    if (q.get('watch') === '1') {
      const from = Number(q.get('resourceVersion') ?? '0');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      if (from < this.compactedBelow) {
        res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } }) + '\n');
        return;
      }
      const watch = { path, res, name };
      this.watches.add(watch);
      // The API server ends a watch at its timeoutSeconds.
      const timeout = Number(q.get('timeoutSeconds') ?? '0');
      const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
      res.on('close', () => {
        clearTimeout(timer);
        this.watches.delete(watch);
      });
      if (this.mute) return;
      for (const e of this.history) if (e.path === path && e.rv > from && selected(name, e.object)) res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
      return;
    }
    const all = [...this.collection(path).values()].filter((o) => selected(name, o));
    const limit = Number(q.get('limit') ?? '0') || all.length;
    const start = Number(q.get('continue') ?? '0');
    const items = all.slice(start, start + limit);
    const more = start + limit < all.length;
    json(res, 200, { kind: 'List', metadata: { resourceVersion: String(this.rv), ...(more ? { continue: String(start + limit) } : {}) }, items });
  }
}

const selected = (name: string | undefined, object: KubeObject): boolean => name === undefined || object.metadata?.name === name;
