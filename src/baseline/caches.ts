import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../k8s/types.ts';
import type { FieldError } from '../util/field-errors.ts';
import { ObjectInformer } from './informer.ts';
import { collectionPath, isUnreachable, resolveKind, type ResolvedKind } from './kube-api.ts';
import type { BaselineTemplate } from './plan.ts';

/** What the controller reads: the stored baseline objects, from informers, never from the API server. */
export interface ObjectCache {
  /** The kind as served, or undefined when it could not be resolved (its template is not reconciled). */
  kind(t: BaselineTemplate): ResolvedKind | undefined;
  get(t: BaselineTemplate, namespace: string): KubeObject | undefined;
  /** Stores what a write answered. */
  put(t: BaselineTemplate, obj: KubeObject): void;
  /** True when every followed template's informer has listed once. */
  synced(): boolean;
  /** Resolves the kinds of new templates and follows them; stops following removed ones. */
  follow(templates: readonly BaselineTemplate[]): Promise<void>;
}

type Client = Pick<KubeClient, 'get' | 'create' | 'listPages' | 'watch'>;

/**
 * One informer per baseline template (kind and name, with a field selector on the name: the
 * API server sends only those objects, one per namespace), with kinds resolved by discovery.
 */
export class BaselineCaches implements ObjectCache {
  private readonly client: Client;
  private readonly logger: Logger;
  private readonly kinds = new Map<string, ResolvedKind | { problem: string }>();
  private readonly informers = new Map<string, { informer: ObjectInformer; kind: ResolvedKind }>();
  /** Set by the controller: a namespace whose object changed, and the first sync of a new informer. */
  onChange: (namespace: string) => void = () => {};
  onSynced: () => void = () => {};
  /** Each follow() call; a retry of an older one gives way to a newer config. */
  private generation = 0;
  retryMs = 10_000;

  constructor(client: Client, logger: Logger) {
    this.client = client;
    this.logger = logger;
  }

  /**
   * Resolves the kinds of the templates: every problem (a kind not served, not namespaced, or
   * that netfence may not list, watch, create and patch) with the config path it comes from.
   * Throws when the API server cannot be asked.
   */
  async resolve(templates: readonly BaselineTemplate[]): Promise<FieldError[]> {
    const problems: FieldError[] = [];
    for (const t of templates) {
      const id = `${t.apiVersion}/${t.kind}`;
      let r = this.kinds.get(id);
      if (!r || 'problem' in r) {
        r = await resolveKind(this.client, t.apiVersion, t.kind);
        this.kinds.set(id, r);
      }
      if ('problem' in r) problems.push({ path: t.source, message: `${t.kind} ${t.name}: ${r.problem}` });
    }
    return problems;
  }

  /** resolve(), retrying while the API server cannot be reached, up to `deadlineMs`. */
  async resolveWithRetry(templates: readonly BaselineTemplate[], deadlineMs = 30_000): Promise<FieldError[]> {
    const end = Date.now() + deadlineMs;
    for (let delay = 500; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        return await this.resolve(templates);
      } catch (err) {
        if (!isUnreachable(err) || Date.now() + delay > end) throw err;
        this.logger.warn({ event: 'baseline.discovery_retry', err: (err as Error).message, delayMs: delay }, 'could not ask the API server which kinds it serves; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  kind(t: BaselineTemplate): ResolvedKind | undefined {
    return this.informers.get(t.key)?.kind;
  }

  get(t: BaselineTemplate, namespace: string): KubeObject | undefined {
    return this.informers.get(t.key)?.informer.get(namespace);
  }

  put(t: BaselineTemplate, obj: KubeObject): void {
    this.informers.get(t.key)?.informer.put(obj);
  }

  synced(): boolean {
    for (const { informer } of this.informers.values()) if (!informer.synced) return false;
    return true;
  }

  async follow(templates: readonly BaselineTemplate[]): Promise<void> {
    const generation = ++this.generation;
    let problems: FieldError[] = [];
    try {
      problems = await this.resolve(templates);
    } catch (err) {
      // The API server could not be asked (a config reload during an outage): follow what is
      // resolved now, and try the rest again later unless another config came meanwhile.
      this.logger.error({ event: 'baseline.discovery_failed', err: (err as Error).message, retryInMs: this.retryMs }, 'could not resolve the baseline kinds; retrying');
      const t = setTimeout(() => {
        if (generation === this.generation) void this.follow(templates).then(() => this.onSynced());
      }, this.retryMs);
      t.unref();
    }
    if (generation !== this.generation) return;
    for (const p of problems) {
      this.logger.error({ event: 'baseline.kind_refused', path: p.path, problem: p.message }, `${p.path}: ${p.message}; this object is not reconciled`);
    }
    const keep = new Set<string>();
    for (const t of templates) {
      const r = this.kinds.get(`${t.apiVersion}/${t.kind}`);
      if (!r || 'problem' in r) continue;
      keep.add(t.key);
      const existing = this.informers.get(t.key);
      if (existing && existing.kind.version === r.version && existing.kind.resource === r.resource) continue;
      existing?.informer.stop();
      const informer = new ObjectInformer({
        client: this.client,
        logger: this.logger,
        path: collectionPath(r),
        name: t.name,
        onChange: (ns) => this.onChange(ns),
        onSynced: () => this.onSynced(),
      });
      this.informers.set(t.key, { informer, kind: r });
      informer.start();
    }
    for (const [key, { informer }] of this.informers) {
      if (keep.has(key)) continue;
      informer.stop();
      this.informers.delete(key);
    }
  }

  stop(): void {
    for (const { informer } of this.informers.values()) informer.stop();
    this.informers.clear();
  }

  /** Objects cached, for the bench and logs. */
  size(): number {
    let n = 0;
    for (const { informer } of this.informers.values()) n += informer.size;
    return n;
  }
}
