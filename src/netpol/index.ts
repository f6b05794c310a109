import type { ClusterView } from '../cluster/view.ts';
import { bareNamespace } from '../k8s/objects.ts';
import type { NamespaceInfo, NetworkPolicy, PodInfo } from '../k8s/types.ts';
import { compilePolicy, type CompiledPolicy, type SelectorSource } from './policy.ts';
import { CompiledSelector, SelectorInterner } from './selector.ts';
import type { LabelSelector } from '../k8s/types.ts';

/** Pods of one namespace by label key, then value. */
type LabelIndex = Map<string, Map<string, PodInfo[]>>;

/**
 * What a PolicyIndex compiles, keyed by the identity of the view's lists and objects: indexes
 * over the same view may share one (serve's admission and background audit do), so that each
 * policy of the cluster is compiled and kept once.
 */
export class CompiledCache {
  readonly byList = new WeakMap<readonly NetworkPolicy[], CompiledPolicy[]>();
  readonly byPolicy = new WeakMap<NetworkPolicy, CompiledPolicy>();
  readonly labelIndexes = new WeakMap<readonly PodInfo[], LabelIndex>();
  readonly selectors = new WeakMap<LabelSelector, CompiledSelector>();
  readonly interner = new SelectorInterner();
}

/**
 * The cluster's policies compiled for evaluation, per namespace. Compiled forms are cached by
 * the identity of the policy lists the view returns, so a view that keeps its lists until
 * they change (both implementations do) compiles each policy once.
 */
export class PolicyIndex {
  readonly view: ClusterView;
  private readonly byList: CompiledCache['byList'];
  private readonly byPolicy: CompiledCache['byPolicy'];
  private readonly labelIndexes: CompiledCache['labelIndexes'];
  private readonly selectors: CompiledCache['selectors'];
  private readonly interner: SelectorInterner;
  /** Compiles a label selector, sharing equal ones with the cached policies. */
  readonly compileSelector: SelectorSource;

  constructor(view: ClusterView, cache: CompiledCache = new CompiledCache()) {
    this.view = view;
    ({ byList: this.byList, byPolicy: this.byPolicy, labelIndexes: this.labelIndexes, selectors: this.selectors, interner: this.interner } = cache);
    this.compileSelector = this.interner.compile;
  }

  policies(namespace: string): readonly CompiledPolicy[] {
    const list = this.view.networkPolicies(namespace);
    let compiled = this.byList.get(list);
    if (!compiled) {
      compiled = list.map((p) => this.compile(p));
      this.byList.set(list, compiled);
    }
    return compiled;
  }

  /**
   * Compiles one of the view's policies, reusing the compiled form of an object seen before
   * (a live view replaces one policy of a namespace's list at a time).
   */
  private compile(policy: NetworkPolicy): CompiledPolicy {
    let compiled = this.byPolicy.get(policy);
    if (!compiled) {
      compiled = compilePolicy(policy, this.interner.compile);
      this.byPolicy.set(policy, compiled);
    }
    return compiled;
  }

  /** A namespace as decisions see it; one the view does not know carries only its name label. */
  namespace(name: string): NamespaceInfo {
    return this.view.namespace(name) ?? bareNamespace(name);
  }

  namespaces(): readonly NamespaceInfo[] {
    return this.view.namespaces();
  }

  pods(namespace: string): readonly PodInfo[] {
    return this.view.pods(namespace);
  }

  /** A selector from the config (a tier), compiled once per selector object. */
  selector(selector: LabelSelector): CompiledSelector {
    let compiled = this.selectors.get(selector);
    if (!compiled) {
      compiled = new CompiledSelector(selector);
      this.selectors.set(selector, compiled);
    }
    return compiled;
  }

  /**
   * A pod of the namespace that every selector selects, or undefined. Candidates come from the
   * most selective `In` requirement through a label index, so that "is there such a pod?" does
   * not scan a namespace of thousands of pods when the answer is no.
   */
  findPod(namespace: string, ...selectors: CompiledSelector[]): PodInfo | undefined {
    const pods = this.view.pods(namespace);
    let candidates: readonly PodInfo[] = pods;
    if (pods.length > 32) {
      const index = this.labelIndex(pods);
      for (const selector of selectors) {
        for (const req of selector.requirements) {
          if (req.operator !== 'In') continue;
          const byValue = index.get(req.key);
          const list: PodInfo[] = [];
          for (const v of req.values) list.push(...(byValue?.get(v) ?? []));
          if (list.length < candidates.length) candidates = list;
        }
      }
    }
    return candidates.find((p) => selectors.every((s) => s.matches(p.labels)));
  }

  private labelIndex(pods: readonly PodInfo[]): LabelIndex {
    let index = this.labelIndexes.get(pods);
    if (!index) {
      index = new Map();
      for (const pod of pods) {
        for (const [k, v] of Object.entries(pod.labels)) {
          let byValue = index.get(k);
          if (!byValue) index.set(k, (byValue = new Map()));
          const list = byValue.get(v);
          if (list) list.push(pod);
          else byValue.set(v, [pod]);
        }
      }
      this.labelIndexes.set(pods, index);
    }
    return index;
  }
}
