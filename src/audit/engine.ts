import { isExcludedNamespace } from '../admission/context.ts';
import type { HandlerTable } from '../admission/handlers.ts';
import { defaultHandlers } from '../admission/registry.ts';
import type { ClusterView } from '../cluster/view.ts';
import type { WorkloadInfo } from '../cluster/workloads.ts';
import type { NetfenceConfig } from '../config/types.ts';
import type { NamespaceInfo, NetworkPolicy, PodInfo, PolicyType } from '../k8s/types.ts';
import type { CompiledCache } from '../netpol/index.ts';
import { judgeSubject, type AuditedObject, type RuleResult } from './judge.ts';
import { clearReads, RecordingIndex, storeReads, type Reads, type StoredReads } from './reads.ts';
import { namespaceSubject, parseKey, podSubject, policySubject, subjectKey, workloadSubject, type AuditSubject } from './subjects.ts';

/**
 * One judged object as the audit keeps it, for as long as the object exists: its identity
 * inline (no separate subject object), its results (shared when they are plain passes), and
 * what its judgement read. 85,000 of them at 5,000 namespaces: every field counts.
 */
class Judged implements AuditedObject {
  readonly key: string;
  readonly kindKey: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  readonly results: readonly RuleResult[];
  readonly defaultDeny: Record<PolicyType, boolean> | undefined;
  readonly reads: StoredReads;

  constructor(o: AuditedObject, results: readonly RuleResult[], reads: StoredReads) {
    this.key = o.key;
    ({ kindKey: this.kindKey, apiVersion: this.apiVersion, kind: this.kind, namespace: this.namespace, name: this.name, uid: this.uid } = o.subject);
    this.results = results;
    this.defaultDeny = o.defaultDeny;
    this.reads = reads;
  }

  get subject(): AuditedObject['subject'] {
    const { kindKey, apiVersion, kind, namespace, name, uid } = this;
    return { kindKey, apiVersion, kind, namespace, name, ...(uid ? { uid } : {}) };
  }
}

/** The ClusterPolicyReport's key among the reports the audit marks as changed. */
export const CLUSTER_SCOPE = '';

interface Seen {
  namespace: NamespaceInfo;
  pods: readonly PodInfo[];
  policies: readonly NetworkPolicy[];
  workloads: readonly WorkloadInfo[];
  /** The sync() that last found the namespace. */
  cycle: number;
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * The background audit, pure and incremental: it judges every Namespace, NetworkPolicy, Pod and
 * workload of a ClusterView with the admission core, remembers what each judgement read, and
 * after a change re-judges only the objects that read what changed.
 *
 * Changes are found by list identity (the ClusterView contract: a list is replaced, never
 * mutated, when it changes), so the audit needs no events from the view. Work is done in
 * slices (`judgePending` with a deadline) so that a caller can yield to admission between them.
 */
export class AuditEngine {
  private readonly view: ClusterView;
  private readonly handlers: HandlerTable;
  private readonly netfenceNamespace: string;
  private index: RecordingIndex;
  private readonly recordingView: ClusterView;
  private config: NetfenceConfig;

  private readonly objects = new Map<string, Judged>();
  private readonly keysByNamespace = new Map<string, Set<string>>();
  private readonly seen = new Map<string, Seen>();
  private readonly pending = new Set<string>();
  /** Namespaces new to the audit whose objects are not queued yet (see expandNext). */
  private readonly added = new Set<string>();
  private readonly dirty = new Set<string>();
  private lastNow: number | undefined;
  private cycles = 0;
  /** Some namespace was added, changed or deleted since the readers of every namespace were queued. */
  private allReadersChanged = false;

  // What each judged object read (forward), and who read what (reverse).
  private readonly policyReaders = new Map<string, Set<string>>();
  private readonly podReaders = new Map<string, Set<string>>();
  private readonly podQueriers = new Map<string, Set<string>>();
  private readonly namespaceReaders = new Map<string, Set<string>>();
  private readonly allNamespaceReaders = new Set<string>();

  /**
   * Results shared between objects: a rule's plain pass is the same result for every object it
   * judges, and so is a list of nothing but passes (most objects of a healthy cluster). Bounded
   * by the rules; emptied when the config changes.
   */
  private readonly passes = new Map<string, RuleResult>();
  private readonly passLists = new Map<string, readonly RuleResult[]>();

  /** The metrics' figures, kept as objects are judged: a scrape never walks every object. */
  private readonly gauges = { namespaces: { both: 0, ingress: 0, egress: 0, none: 0 }, violations: new Map<string, { rule: string; mode: string; count: number }>() };

  /** Objects judged since construction (the bench and metrics read it). */
  judged = 0;

  constructor(view: ClusterView, config: NetfenceConfig, options: { netfenceNamespace: string; handlers?: HandlerTable; compiled?: CompiledCache }) {
    this.view = view;
    this.config = config;
    this.netfenceNamespace = options.netfenceNamespace;
    this.handlers = options.handlers ?? defaultHandlers();
    this.index = new RecordingIndex(view, options.compiled);
    // Rules read the view directly too (the enforcement scope reads a namespace's labels):
    // those reads are recorded like the index's.
    const reads = (): Reads => this.index.current;
    this.recordingView = {
      namespace: (name) => (reads().namespaces.add(name), view.namespace(name)),
      namespaces: () => ((reads().allNamespaces = true), view.namespaces()),
      pods: (ns) => (reads().pods.add(ns), view.pods(ns)),
      networkPolicies: (ns) => (reads().policies.add(ns), view.networkPolicies(ns)),
      synced: () => view.synced(),
      describe: () => view.describe(),
    };
  }

  /** A config reload: everything is judged again (rules, tiers, exemptions may all differ). */
  setConfig(config: NetfenceConfig): void {
    if (config === this.config) return;
    this.config = config;
    this.passes.clear();
    this.passLists.clear();
    this.markAll();
  }

  /** The slow periodic pass: everything judged again, whatever changed. */
  markAll(): void {
    this.seen.clear();
    // Every namespace of the view is new again: its objects, and its records, are queued as
    // judging reaches it (expandNext). Records of namespaces gone from the view: now.
    this.sync();
    // What sync queued besides (readers of new namespaces' labels) is all in those namespaces.
    this.pending.clear();
    for (const [ns, keys] of this.keysByNamespace) if (!this.added.has(ns)) for (const key of keys) this.pending.add(key);
  }

  get pendingCount(): number {
    return this.pending.size + this.added.size;
  }

  /** The keys queued for judgement, sorted (tests and the bench show what a change re-judges). */
  pendingKeys(): string[] {
    while (this.expandNext());
    return [...this.pending].sort();
  }

  /**
   * Compares the view with what was judged and queues what a change can affect: a namespace's
   * new or changed policies → everything that read its policies; a pod added, removed or
   * relabelled → what read its namespace's pods, and the policies whose "is there such a pod"
   * question it answers; a namespace's labels → what read them; a new or deleted object → itself.
   * With `now`, exemptions that expired since the last call queue their namespaces' objects.
   */
  sync(now?: Date): void {
    // Runs every few seconds over every namespace: what is seen is updated in place, so that an
    // unchanged cluster allocates nothing here.
    const cycle = ++this.cycles;
    for (const ns of this.view.namespaces()) {
      const pods = this.view.pods(ns.name);
      const policies = this.view.networkPolicies(ns.name);
      const workloads = this.view.workloads?.(ns.name) ?? NONE;
      const seen = this.seen.get(ns.name);
      if (!seen) {
        const added: Seen = { namespace: ns, pods, policies, workloads, cycle };
        this.seen.set(ns.name, added);
        this.namespaceAdded(added);
        continue;
      }
      seen.cycle = cycle;
      if (seen.namespace !== ns) {
        const before = seen.namespace;
        seen.namespace = ns;
        if (namespaceChanged(before, ns)) this.namespaceChanged(ns.name);
      }
      if (seen.policies !== policies) {
        const before = seen.policies;
        seen.policies = policies;
        this.policiesChanged(ns.name, before, policies);
      }
      if (seen.pods !== pods) {
        const before = seen.pods;
        seen.pods = pods;
        this.podsChanged(ns.name, before, pods);
      }
      if (seen.workloads !== workloads) {
        const before = seen.workloads;
        seen.workloads = workloads;
        this.workloadsChanged(ns.name, before, workloads);
      }
    }
    for (const [name, seen] of this.seen) {
      if (seen.cycle === cycle) continue;
      this.seen.delete(name);
      this.namespaceChanged(name);
      for (const key of this.keysByNamespace.get(name) ?? []) this.pending.add(key);
    }
    if (this.allReadersChanged) {
      this.allReadersChanged = false;
      for (const key of this.allNamespaceReaders) this.pending.add(key);
    }
    if (now) this.expire(now);
  }

  /** Exemptions whose expiry passed since the last judgement: their namespaces are judged again. */
  private expire(now: Date): void {
    const t = now.getTime();
    const last = this.lastNow;
    this.lastNow = t;
    if (last === undefined) return;
    for (const e of this.config.exemptions) {
      if (!e.expires) continue;
      const at = Date.parse(e.expires);
      if (at > last && at <= t) for (const ns of e.namespaces) for (const key of this.keysByNamespace.get(ns) ?? []) this.pending.add(key);
    }
  }

  /** The next time an exemption expires after `now`, for the caller's timer. */
  nextExpiry(now: Date): Date | undefined {
    let next: number | undefined;
    for (const e of this.config.exemptions) {
      const at = e.expires ? Date.parse(e.expires) : NaN;
      if (at > now.getTime() && (next === undefined || at < next)) next = at;
    }
    return next === undefined ? undefined : new Date(next);
  }

  private namespaceAdded(s: Seen): void {
    const name = s.namespace.name;
    this.namespaceReadersChanged(name);
    // Its objects (itself included) are queued when judging reaches it (expandNext), in the caller's slices: the
    // first pass over 5,000 namespaces queued 85,000 keys in one step of ~100 ms.
    this.added.add(name);
  }

  /** Queues the objects of the next namespace added; false when there is none. */
  private expandNext(): boolean {
    for (const name of this.added) {
      this.added.delete(name);
      const s = this.seen.get(name);
      // What was judged there before too: a record whose object is gone is judged (removed).
      for (const key of this.keysByNamespace.get(name) ?? []) this.pending.add(key);
      if (!s) return true; // gone since: nothing more to judge
      this.pending.add(subjectKey(name, 'Namespace', name));
      for (const p of s.pods) this.pending.add(subjectKey(name, 'Pod', p.name));
      for (const p of s.policies) this.pending.add(subjectKey(name, 'NetworkPolicy', p.metadata.name));
      for (const w of s.workloads) this.pending.add(subjectKey(name, workloadSubject(w).kindKey, w.name));
      return true;
    }
    return false;
  }

  private namespaceChanged(name: string): void {
    this.pending.add(subjectKey(name, 'Namespace', name));
    this.namespaceReadersChanged(name);
  }

  /** What read the namespace's labels (or every namespace's). */
  private namespaceReadersChanged(name: string): void {
    for (const key of this.namespaceReaders.get(name) ?? []) this.pending.add(key);
    // Queued once per sync, not once per namespace: a burst of 200 new namespaces queued the
    // thousands of readers of every namespace 200 times over in one step.
    this.allReadersChanged = true;
  }

  private policiesChanged(ns: string, before: readonly NetworkPolicy[], after: readonly NetworkPolicy[]): void {
    const changed = diffByName(before, after, (p) => p.metadata.name, (a, b) => JSON.stringify(a.spec) === JSON.stringify(b.spec));
    if (changed.length === 0) return;
    for (const name of changed) this.pending.add(subjectKey(ns, 'NetworkPolicy', name));
    for (const key of this.policyReaders.get(ns) ?? []) this.pending.add(key);
  }

  private podsChanged(ns: string, before: readonly PodInfo[], after: readonly PodInfo[]): void {
    const old = new Map(before.map((p) => [p.name, p]));
    const labelSets: Array<Readonly<Record<string, string>>> = [];
    for (const p of after) {
      const o = old.get(p.name);
      old.delete(p.name);
      if (o === p || (o && sameLabels(o.labels, p.labels) && JSON.stringify(o.ports) === JSON.stringify(p.ports))) continue;
      this.pending.add(subjectKey(ns, 'Pod', p.name));
      labelSets.push(p.labels);
      if (o) labelSets.push(o.labels);
    }
    for (const o of old.values()) {
      this.pending.add(subjectKey(ns, 'Pod', o.name));
      labelSets.push(o.labels);
    }
    if (labelSets.length === 0) return;
    for (const key of this.podReaders.get(ns) ?? []) this.pending.add(key);
    // Only the questions a changed pod could answer differently: all selectors match it.
    for (const key of this.podQueriers.get(ns) ?? []) {
      if (this.pending.has(key)) continue;
      const queries = this.objects.get(key)?.reads.podQueries ?? [];
      if (queries.some((q) => q.namespace === ns && labelSets.some((l) => q.selectors.every((s) => s.matches(l))))) this.pending.add(key);
    }
  }

  private workloadsChanged(ns: string, before: readonly WorkloadInfo[], after: readonly WorkloadInfo[]): void {
    const key = (w: WorkloadInfo): string => `${workloadSubject(w).kindKey}|${w.name}`;
    for (const k of diffByName(before, after, key, (a, b) => JSON.stringify(a.pod) === JSON.stringify(b.pod))) {
      const i = k.lastIndexOf('|');
      this.pending.add(subjectKey(ns, k.slice(0, i), k.slice(i + 1)));
    }
  }

  /**
   * Judges queued objects until none is left or `deadline` (performance.now() ms) passes;
   * returns how many were judged.
   */
  judgePending(now: Date, deadline = Infinity, clock: () => number = () => performance.now()): number {
    let n = 0;
    outer: for (;;) {
      if (this.pending.size === 0 && !this.expandNext()) break;
      for (const key of this.pending) {
        this.pending.delete(key);
        this.judgeKey(key, now);
        n++;
        // Checked after every object: one that reads every namespace costs milliseconds at 5,000.
        if (clock() > deadline) break outer;
      }
    }
    if (this.pendingCount === 0) this.lastNow ??= now.getTime();
    return n;
  }

  /** Everything queued, judged now: the first pass, the periodic pass, tests and the CLI. */
  runAll(now: Date): number {
    this.sync(now);
    return this.judgePending(now);
  }

  private judgeKey(pendingKey: string, now: Date): void {
    const { namespace, kindKey, name } = parseKey(pendingKey);
    const subject = isExcludedNamespace({ config: this.config, netfenceNamespace: this.netfenceNamespace }, namespace) ? undefined : this.lookup(namespace, kindKey, name);
    const before = this.objects.get(pendingKey);
    // The key string kept is the first one: a re-judgement keeps no copy of it.
    const key = before?.key ?? pendingKey;
    const scope = kindKey === 'Namespace' ? CLUSTER_SCOPE : namespace;
    if (!subject) {
      if (before) {
        this.forget(key, before.reads);
        this.count(before, -1);
        this.objects.delete(key);
        removeFrom(this.keysByNamespace, namespace, key);
        this.dirty.add(scope);
      }
      return;
    }
    const reads = this.index.current;
    clearReads(reads);
    const audited = judgeSubject(subject, key, { config: this.config, cluster: this.recordingView, index: this.index, handlers: this.handlers, now, netfenceNamespace: this.netfenceNamespace });
    this.judged++;
    const results = this.share(audited.results);
    const sameResults = before !== undefined && (before.results === results || JSON.stringify(before.results) === JSON.stringify(results)) && JSON.stringify(before.defaultDeny) === JSON.stringify(audited.defaultDeny);
    // Nothing new (most of a periodic full pass): the record stays as it is, so that a pass
    // over 85,000 objects replaces none of them (it made 30 MB of old-space garbage).
    if (sameResults && before.uid === audited.subject.uid && sameReads(reads, before.reads)) {
      clearReads(reads);
      return;
    }
    if (before) {
      this.forget(key, before.reads);
      this.count(before, -1);
    }
    // storeReads copies: the scratch Reads is cleared before the next judgement.
    const judged = new Judged(audited, results, storeReads(reads));
    clearReads(reads);
    this.remember(key, judged.reads);
    this.count(judged, 1);
    this.objects.set(key, judged);
    let keys = this.keysByNamespace.get(namespace);
    if (!keys) this.keysByNamespace.set(namespace, (keys = new Set()));
    keys.add(key);
    if (!sameResults) this.dirty.add(scope);
  }

  private share(results: readonly RuleResult[]): readonly RuleResult[] {
    const plain = (r: RuleResult): boolean => r.result === 'pass' && Object.keys(r).length === 4;
    const pass = (r: RuleResult): RuleResult => {
      const k = `${r.rule}\0${r.type}\0${r.mode}`;
      let shared = this.passes.get(k);
      if (!shared) this.passes.set(k, (shared = Object.freeze({ rule: r.rule, type: r.type, mode: r.mode, result: 'pass' })));
      return shared;
    };
    if (!results.every(plain)) return Object.freeze(results.map((r) => (plain(r) ? pass(r) : r)));
    const k = results.map((r) => `${r.rule}\0${r.type}\0${r.mode}`).join('\n');
    let list = this.passLists.get(k);
    if (!list) this.passLists.set(k, (list = Object.freeze(results.map(pass))));
    return list;
  }

  /** Adds (sign 1) or takes away (-1) one judged object's share of the gauges. */
  private count(o: AuditedObject, sign: 1 | -1): void {
    if (o.defaultDeny) {
      const { Ingress, Egress } = o.defaultDeny;
      this.gauges.namespaces[Ingress && Egress ? 'both' : Ingress ? 'ingress' : Egress ? 'egress' : 'none'] += sign;
    }
    for (const r of o.results) {
      if (r.result !== 'fail' && r.result !== 'warn') continue;
      const key = `${r.rule}\0${r.mode}`;
      let v = this.gauges.violations.get(key);
      if (!v) this.gauges.violations.set(key, (v = { rule: r.rule, mode: r.mode, count: 0 }));
      v.count += sign;
      if (v.count === 0) this.gauges.violations.delete(key);
    }
  }

  /** Namespaces by default-deny state, and violations by rule and mode, over every judged object. */
  counts(): { namespaces: { both: number; ingress: number; egress: number; none: number }; violations: Array<{ rule: string; mode: string; count: number }> } {
    return { namespaces: { ...this.gauges.namespaces }, violations: [...this.gauges.violations.values()].map((v) => ({ ...v })) };
  }

  private lookup(namespace: string, kindKey: string, name: string): AuditSubject | undefined {
    const seen = this.seen.get(namespace);
    if (!seen) return undefined;
    switch (kindKey) {
      case 'Namespace':
        return namespaceSubject(seen.namespace);
      case 'Pod': {
        const p = findByName(seen.pods, name, (x) => x.name);
        return p && podSubject(p);
      }
      case 'NetworkPolicy': {
        const p = findByName(seen.policies, name, (x) => x.metadata.name);
        return p && policySubject(p);
      }
      default: {
        const w = findByName(seen.workloads, `${kindKey}|${name}`, (x) => `${workloadSubject(x).kindKey}|${x.name}`);
        return w && workloadSubject(w);
      }
    }
  }

  private remember(key: string, reads: StoredReads): void {
    for (const ns of reads.policies) addTo(this.policyReaders, ns, key);
    for (const ns of reads.pods) addTo(this.podReaders, ns, key);
    for (const q of reads.podQueries) addTo(this.podQueriers, q.namespace, key);
    for (const ns of reads.namespaces) addTo(this.namespaceReaders, ns, key);
    if (reads.allNamespaces) this.allNamespaceReaders.add(key);
  }

  private forget(key: string, reads: StoredReads): void {
    for (const ns of reads.policies) removeFrom(this.policyReaders, ns, key);
    for (const ns of reads.pods) removeFrom(this.podReaders, ns, key);
    for (const q of reads.podQueries) removeFrom(this.podQueriers, q.namespace, key);
    for (const ns of reads.namespaces) removeFrom(this.namespaceReaders, ns, key);
    this.allNamespaceReaders.delete(key);
  }

  /** Report scopes (namespace names, CLUSTER_SCOPE) whose results changed since the last call. */
  takeDirty(): string[] {
    const out = [...this.dirty];
    this.dirty.clear();
    return out;
  }

  /** Results of the objects of one namespace (the Namespace object itself is cluster-scoped). */
  namespaceResults(namespace: string): AuditedObject[] {
    const out: AuditedObject[] = [];
    for (const key of this.keysByNamespace.get(namespace) ?? []) {
      const o = this.objects.get(key);
      if (o && o.subject.kindKey !== 'Namespace') out.push(o);
    }
    return out;
  }

  /** Results of the Namespace objects (the ClusterPolicyReport). */
  clusterResults(): AuditedObject[] {
    const out: AuditedObject[] = [];
    for (const [name, keys] of this.keysByNamespace) {
      const o = this.objects.get(subjectKey(name, 'Namespace', name));
      if (o && keys.has(o.key)) out.push(o);
    }
    return out;
  }

  /** Every judged object. */
  all(): IterableIterator<AuditedObject> {
    return this.objects.values();
  }

  /** Namespaces that have judged objects. */
  namespaceNames(): string[] {
    return [...this.keysByNamespace].filter(([, keys]) => keys.size > 0).map(([name]) => name);
  }

  /** Entries of the engine's indexes, by index (tests: a deleted namespace leaves none behind). */
  indexSizes(): Record<string, number> {
    return {
      objects: this.objects.size,
      namespaces: this.keysByNamespace.size,
      policyReaders: this.policyReaders.size,
      podReaders: this.podReaders.size,
      podQueriers: this.podQueriers.size,
      namespaceReaders: this.namespaceReaders.size,
      seen: this.seen.size,
    };
  }
}

function namespaceChanged(a: NamespaceInfo, b: NamespaceInfo): boolean {
  return !sameLabels(a.labels, b.labels) || !sameLabels(a.annotations, b.annotations) || Boolean(a.terminating) !== Boolean(b.terminating);
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** Names added, removed, or whose item differs. */
function diffByName<T>(before: readonly T[], after: readonly T[], name: (x: T) => string, same: (a: T, b: T) => boolean): string[] {
  const old = new Map(before.map((x) => [name(x), x]));
  const out: string[] = [];
  for (const x of after) {
    const n = name(x);
    const o = old.get(n);
    old.delete(n);
    if (!o || (o !== x && !same(o, x))) out.push(n);
  }
  out.push(...old.keys());
  return out;
}

// Name lookups over a view's list, built once per list (lists are replaced when they change).
const byNameCache = new WeakMap<readonly unknown[], Map<string, unknown>>();

function findByName<T>(list: readonly T[], name: string, nameOf: (x: T) => string): T | undefined {
  if (list.length < 16) return list.find((x) => nameOf(x) === name);
  let m = byNameCache.get(list) as Map<string, T> | undefined;
  if (!m) {
    m = new Map(list.map((x) => [nameOf(x), x]));
    byNameCache.set(list, m);
  }
  return m.get(name);
}

/** Whether a judgement read exactly what the stored reads say (selectors by identity). */
function sameReads(r: Reads, s: StoredReads): boolean {
  if (r.allNamespaces !== s.allNamespaces || r.policies.size !== s.policies.length || r.pods.size !== s.pods.length || r.namespaces.size !== s.namespaces.length || r.podQueries.length !== s.podQueries.length) return false;
  if (!s.policies.every((x) => r.policies.has(x)) || !s.pods.every((x) => r.pods.has(x)) || !s.namespaces.every((x) => r.namespaces.has(x))) return false;
  return r.podQueries.every((q, i) => {
    const t = s.podQueries[i]!;
    return q.namespace === t.namespace && q.selectors.length === t.selectors.length && q.selectors.every((x, j) => x === t.selectors[j]);
  });
}

/** Removes v, and the set with it when it was the last: a deleted namespace leaves no entry. */
function removeFrom(map: Map<string, Set<string>>, k: string, v: string): void {
  const s = map.get(k);
  if (s?.delete(v) && s.size === 0) map.delete(k);
}

function addTo(map: Map<string, Set<string>>, k: string, v: string): void {
  let s = map.get(k);
  if (!s) map.set(k, (s = new Set()));
  s.add(v);
}
