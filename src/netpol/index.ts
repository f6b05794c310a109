import type { ClusterView } from '../cluster/view.ts';
import { bareNamespace } from '../k8s/objects.ts';
import type { NamespaceInfo, NetworkPolicy, PodInfo } from '../k8s/types.ts';
import { compilePolicy, type CompiledPolicy } from './policy.ts';

/**
 * The cluster's policies compiled for evaluation, per namespace. Compiled forms are cached by
 * the identity of the policy lists the view returns, so a view that keeps its lists until
 * they change (both implementations do) compiles each policy once.
 */
export class PolicyIndex {
  readonly view: ClusterView;
  private readonly byList = new WeakMap<readonly NetworkPolicy[], CompiledPolicy[]>();
  private readonly byPolicy = new WeakMap<NetworkPolicy, CompiledPolicy>();

  constructor(view: ClusterView) {
    this.view = view;
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

  /** Compiles one policy, reusing the compiled form of an object seen before. */
  compile(policy: NetworkPolicy): CompiledPolicy {
    let compiled = this.byPolicy.get(policy);
    if (!compiled) {
      compiled = compilePolicy(policy);
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
}
