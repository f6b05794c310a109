import type { Logger } from 'pino';
import type { LiveClusterView } from '../cluster/live.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../k8s/types.ts';
import type { FieldError } from '../util/field-errors.ts';
import { ObjectInformer } from './informer.ts';
import { collectionPath, isUnreachable, resolveKind, type ResolvedKind } from './kube-api.ts';
import type { BaselineTemplate } from './plan.ts';

/** What the controller reads: the stored baseline objects, from informers or the live view, never from the API server. */
export interface ObjectCache {
  /** The kind as served, or undefined when it could not be resolved (its template is not reconciled). */
  kind(t: BaselineTemplate): ResolvedKind | undefined;
  get(t: BaselineTemplate, namespace: string): KubeObject | undefined;
  /** Stores what a write answered. */
  put(t: BaselineTemplate, obj: KubeObject): void;
  /** True when every followed template's cache (its informer, or the view's NetworkPolicies) has listed once. */
  synced(): boolean;
  /** Resolves the kinds of new templates and follows them; stops following removed ones. */
  follow(templates: readonly BaselineTemplate[]): Promise<void>;
}

type Client = Pick<KubeClient, 'get' | 'create' | 'listPages' | 'watch'>;

/** What the caches read of the live view: its NetworkPolicies, already listed and watched. */
export type PolicyView = Pick<LiveClusterView, 'networkPolicy' | 'putNetworkPolicy' | 'hasListed' | 'on' | 'off'>;

const servedByView = (k: ResolvedKind): boolean => k.group === 'networking.k8s.io' && k.version === 'v1' && k.resource === 'networkpolicies';

/**
 * Where each baseline template's objects are read from, with kinds resolved by discovery.
 * NetworkPolicies come from the live view when there is one (it lists and watches them all
 * anyway, for admission: a second watch and a second copy of every baseline policy would cost
 * two watches and ~1 KB per namespace and policy). Every other kind has an informer of its own
 * per template (kind and name, with a field selector on the name: the API server sends only
 * those objects, one per namespace).
 */
export class BaselineCaches implements ObjectCache {
  private readonly client: Client;
  private readonly logger: Logger;
  private readonly view: PolicyView | undefined;
  private readonly kinds = new Map<string, ResolvedKind | { problem: string }>();
  /** By template key; no informer: served by the view. */
  private readonly informers = new Map<string, { informer?: ObjectInformer; kind: ResolvedKind; name: string }>();
  /** The view's listeners, while any template is served by it. */
  private listening: { policy: (ns: string, name: string) => void; synced: (resource: string) => void } | undefined;
  /** Set by the controller: a namespace whose object changed, and the first sync of a new informer. */
  onChange: (namespace: string) => void = () => {};
  onSynced: () => void = () => {};
  /** Each follow() call; a retry of an older one gives way to a newer config. */
  private generation = 0;
  retryMs = 10_000;

  constructor(client: Client, logger: Logger, view?: PolicyView) {
    this.client = client;
    this.logger = logger;
    this.view = view;
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
    const followed = this.informers.get(t.key);
    if (!followed) return undefined;
    return followed.informer ? followed.informer.get(namespace) : this.view?.networkPolicy(namespace, t.name);
  }

  put(t: BaselineTemplate, obj: KubeObject): void {
    const followed = this.informers.get(t.key);
    if (!followed) return;
    if (followed.informer) followed.informer.put(obj);
    else this.view?.putNetworkPolicy(obj);
  }

  synced(): boolean {
    for (const { informer } of this.informers.values()) {
      if (!(informer ? informer.synced : this.view!.hasListed('networkpolicies'))) return false;
    }
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
      existing?.informer?.stop();
      if (this.view && servedByView(r)) {
        this.informers.set(t.key, { kind: r, name: t.name });
        continue;
      }
      const informer = new ObjectInformer({
        client: this.client,
        logger: this.logger,
        path: collectionPath(r),
        name: t.name,
        onChange: (ns) => this.onChange(ns),
        onSynced: () => this.onSynced(),
      });
      this.informers.set(t.key, { informer, kind: r, name: t.name });
      informer.start();
    }
    for (const [key, { informer }] of this.informers) {
      if (keep.has(key)) continue;
      informer?.stop();
      this.informers.delete(key);
    }
    this.listen();
  }

  /** Follows the view's events while a template is served by it; the controller hears of a namespace whose baseline policy changed. */
  private listen(): void {
    const view = this.view;
    if (!view || this.listening) return;
    const listening = {
      policy: (ns: string, name: string): void => {
        // The first list announces every policy: the controller queues every namespace once it is in (synced).
        if (!view.hasListed('networkpolicies')) return;
        for (const f of this.informers.values()) {
          if (!f.informer && f.name === name) return this.onChange(ns);
        }
      },
      synced: (resource: string): void => {
        if (resource === 'networkpolicies' && [...this.informers.values()].some((f) => !f.informer)) this.onSynced();
      },
    };
    view.on('networkpolicy', listening.policy);
    view.on('synced', listening.synced);
    this.listening = listening;
  }

  stop(): void {
    for (const { informer } of this.informers.values()) informer?.stop();
    this.informers.clear();
    if (this.listening && this.view) {
      this.view.off('networkpolicy', this.listening.policy);
      this.view.off('synced', this.listening.synced);
    }
    this.listening = undefined;
  }

  /** Objects cached by the informers, for the bench and logs (not the view's NetworkPolicies: the view counts those). */
  size(): number {
    let n = 0;
    for (const { informer } of this.informers.values()) n += informer?.size ?? 0;
    return n;
  }
}
