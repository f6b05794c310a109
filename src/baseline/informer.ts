import type { Logger } from 'pino';
import { expiredDelay, jitter, retryDelay } from '../kube/backoff.ts';
import { KubeApiError, statusOf, type KubeClient, type WatchEvent } from '../kube/client.ts';
import type { KubeObject } from '../k8s/types.ts';

export interface ObjectInformerOptions {
  client: Pick<KubeClient, 'listPages' | 'watch'>;
  logger: Logger;
  /** Cluster-wide collection path, e.g. /apis/security.istio.io/v1/peerauthentications. */
  path: string;
  /** The one name this informer follows (a field selector: the API server sends nothing else). */
  name: string;
  /** A namespace's object was added, changed or deleted (not called for what netfence wrote itself). */
  onChange(namespace: string): void;
  /** Called once, when the first list is in. */
  onSynced?(): void;
  /** Backoff after failures: doubles from min to max, with jitter. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * A refused connection (nothing listening: an API server restarting) is retried after about
   * this long, without doubling, so that repairs resume within about that long of its return.
   */
  refusedRetryMs?: number;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** A watch that ends this soon with no event was not a normal end (the API server's timeout). */
const CLOSED_AT_ONCE_MS = 1_000;

/**
 * What the reconciler keeps of a stored object: identity, resourceVersion (writes carry it),
 * labels and annotations (less kubectl's copy of the whole object), and the body; not status
 * or managedFields, which are most of an object's size and nothing the plan reads.
 */
export function slim(obj: Record<string, unknown>): KubeObject {
  const { status: _s, metadata, ...body } = obj as KubeObject & { status?: unknown };
  const m = metadata ?? {};
  const annotations = m.annotations && LAST_APPLIED in m.annotations ? Object.fromEntries(Object.entries(m.annotations).filter(([k]) => k !== LAST_APPLIED)) : m.annotations;
  return {
    ...body,
    metadata: {
      name: m.name ?? '',
      namespace: m.namespace ?? '',
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.labels ? { labels: m.labels } : {}),
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
  };
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * A cache of one baseline object (kind and name) in every namespace: list, then watch from
 * the list's resourceVersion with bookmarks, and resume each watch where the last one ended.
 * It lists again only when the API server says the resourceVersion is too old (410); after any
 * other failure it waits (backoff, as the cluster view's reflectors: a refused connection about
 * every refusedRetryMs, anything else 0.5 s doubling to 30 s) and resumes the watch. A relist
 * reports only the namespaces whose object changed, so an unchanged cluster is not reconciled
 * again.
 */
export class ObjectInformer {
  private readonly o: Required<Omit<ObjectInformerOptions, 'onSynced'>> & Pick<ObjectInformerOptions, 'onSynced'>;
  private objects = new Map<string, KubeObject>();
  private resourceVersion = '';
  private abort: AbortController | undefined;
  /** Failures since the last healthy contact, for the log. */
  private failures = 0;
  private expiredInARow = 0;
  /** Those that doubled the backoff (refused connections do not). */
  private backoffSteps = 0;
  /** Since the first failure or 410 of the current run of them (until a watch is accepted again), for the log. */
  private down: { since: number; restarts: number; lists: number } | undefined;
  synced = false;
  /** Lists made, for tests and the bench: one at start, then only after a 410. */
  lists = 0;

  constructor(options: ObjectInformerOptions) {
    this.o = { minBackoffMs: 500, maxBackoffMs: 30_000, refusedRetryMs: 1_000, ...options };
  }

  get(namespace: string): KubeObject | undefined {
    return this.objects.get(namespace);
  }

  get size(): number {
    return this.objects.size;
  }

  /**
   * What a write answered, stored at once: until the watch brings the same version, the next
   * look at the namespace sees what netfence wrote, not what it replaced.
   */
  put(obj: KubeObject): void {
    const s = slim(obj as Record<string, unknown>);
    this.objects.set(s.metadata!.namespace!, s);
  }

  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    void this.run(this.abort.signal);
  }

  stop(): void {
    this.abort?.abort();
    this.abort = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const fieldSelector = `metadata.name=${this.o.name}`;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.list(fieldSelector, signal);
          needList = false;
        }
        // The API server ends the watch after timeoutSeconds: a normal end, resumed at once.
        // One that ends at once with nothing said is not: it backs off like a failure, so that
        // a server closing every watch is not asked again and again without pause.
        const opened = Date.now();
        let events = 0;
        await this.o.client.watch(
          this.o.path,
          { resourceVersion: this.resourceVersion, timeoutSeconds: 300 + Math.floor(Math.random() * 300), allowWatchBookmarks: true, fieldSelector, signal, onOpen: () => this.opened() },
          (event) => {
            events++;
            this.onEvent(event);
          },
        );
        if (events === 0 && Date.now() - opened < CLOSED_AT_ONCE_MS && !signal.aborted) throw new Error('the API server ended the watch at once');
        this.healthy();
        this.expiredInARow = 0;
      } catch (err) {
        if (signal.aborted) return;
        this.down ??= { since: Date.now(), restarts: 0, lists: this.lists };
        this.down.restarts++;
        if (statusOf(err) === 410) {
          needList = true;
          // A 410 again right after a list: list again only after a backoff, as for failures.
          this.expiredInARow++;
          const delay = expiredDelay(this.expiredInARow - 1, this.o);
          this.o.logger.debug({ event: 'baseline.watch_expired', path: this.o.path, name: this.o.name, resourceVersion: this.resourceVersion, delayMs: delay }, 'resourceVersion too old; listing again');
          if (delay > 0) await sleep(delay, signal);
          continue;
        }
        this.failures++;
        const next = retryDelay(err, this.backoffSteps, this.o);
        this.backoffSteps = next.steps;
        const delay = jitter(next.delayMs);
        this.o.logger[this.failures === 1 ? 'warn' : 'debug'](
          { event: 'baseline.watch_failed', path: this.o.path, name: this.o.name, resourceVersion: this.resourceVersion, attempt: this.failures, delayMs: delay, err: (err as Error).message },
          `watch of ${this.o.name} in ${this.o.path} failed; resuming with backoff`,
        );
        await sleep(delay, signal);
      }
    }
  }

  /** Contact that proves the API server is serving: the next failure backs off from the start. */
  private healthy(): void {
    this.failures = 0;
    this.backoffSteps = 0;
  }

  /** A watch accepted: after failures or a 410, says once from which resourceVersion it resumed. */
  private opened(): void {
    const down = this.down;
    if (!down) return;
    this.down = undefined;
    this.o.logger.info(
      { event: 'baseline.watch_resumed', path: this.o.path, name: this.o.name, resourceVersion: this.resourceVersion, restarts: down.restarts, lists: this.lists - down.lists, ms: Date.now() - down.since },
      `resumed the watch of ${this.o.name} in ${this.o.path} from resourceVersion ${this.resourceVersion}`,
    );
  }

  private async list(fieldSelector: string, signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, KubeObject>();
    const { resourceVersion } = await this.o.client.listPages(this.o.path, { fieldSelector, limit: 500, signal }, (page) => {
      for (const item of page.items) {
        const s = slim(item);
        fresh.set(s.metadata!.namespace!, s);
      }
    });
    this.lists++;
    const changed: string[] = [];
    for (const [ns, obj] of fresh) if (this.objects.get(ns)?.metadata?.resourceVersion !== obj.metadata?.resourceVersion) changed.push(ns);
    for (const ns of this.objects.keys()) if (!fresh.has(ns)) changed.push(ns);
    this.objects = fresh;
    this.resourceVersion = resourceVersion;
    this.healthy();
    const first = !this.synced;
    this.synced = true;
    if (first) this.o.onSynced?.();
    else for (const ns of changed) this.o.onChange(ns);
  }

  private onEvent(event: WatchEvent): void {
    const rv = (event.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const s = slim(event.object);
        const ns = s.metadata!.namespace!;
        const had = this.objects.get(ns);
        this.objects.set(ns, s);
        // Netfence's own write, already in the cache: nothing new.
        if (had?.metadata?.resourceVersion !== s.metadata?.resourceVersion) this.o.onChange(ns);
        break;
      }
      case 'DELETED': {
        const ns = (event.object.metadata as { namespace?: string } | undefined)?.namespace ?? '';
        this.objects.delete(ns);
        this.o.onChange(ns);
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const status = event.object as { code?: number; reason?: string; message?: string };
        throw new KubeApiError(status.code ?? 0, status.reason ?? 'WatchError', status.message ?? 'watch error');
      }
    }
    this.healthy();
    if (rv) this.resourceVersion = rv;
  }
}
