import type { NetfenceConfig } from '../config/types.ts';
import type { PodInfo, PolicyType } from '../k8s/types.ts';
import { admitsInternet, admitsOtherNamespaces } from '../netpol/analysis.ts';
import type { PolicyIndex } from '../netpol/index.ts';
import { rulesOf, type CompiledRule } from '../netpol/policy.ts';
import { peerMatches, selectingPolicies, type Endpoint } from '../netpol/reach.ts';

// Who can reach whom in one namespace, on some port: workloads (pods grouped by their app
// label) in columns by tier, and the outside classes (the internet, other namespaces) in the
// first column. Deterministic: the same cluster always gives the same picture.

export interface GraphNode {
  id: string;
  label: string;
  /** The column: `outside`, a tier name, or `no tier`. */
  column: string;
  pods: number;
}

export interface GraphEdge {
  from: string;
  to: string;
}

export interface NamespaceGraph {
  namespace: string;
  columns: string[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Workloads left out (beyond MAX_NODES). */
  omitted: number;
}

export const MAX_NODES = 60;
export const INTERNET = 'c:internet';
export const OTHER_NAMESPACES = 'c:other-namespaces';
const NO_TIER = 'no tier';

/** The workload a pod belongs to, by the labels controllers and charts set. */
function workloadOf(pod: PodInfo): string {
  const l = pod.labels;
  return l['app.kubernetes.io/name'] ?? l.app ?? l['k8s-app'] ?? pod.name.replace(/-[a-z0-9]{8,10}-[a-z0-9]{5}$|-[a-z0-9]{5}$|-\d+$/, '');
}

function admits(index: PolicyIndex, self: PodInfo, direction: PolicyType, other: Endpoint): boolean {
  const policies = selectingPolicies(index, self, direction);
  if (policies.length === 0) return true;
  return policies.some((p) => rulesOf(p, direction).some((r) => r.allPeers || r.peers.some((peer) => peerMatches(peer, p.namespace, other))));
}

// A rule's answer does not depend on the pod: remembered per rule, as workloads share policies.
const outsideOf = new WeakMap<CompiledRule, Record<typeof INTERNET | typeof OTHER_NAMESPACES, boolean>>();

function admitsOutside(index: PolicyIndex, self: PodInfo, direction: PolicyType, which: typeof INTERNET | typeof OTHER_NAMESPACES): boolean {
  const policies = selectingPolicies(index, self, direction);
  if (policies.length === 0) return true;
  return policies.some((p) =>
    rulesOf(p, direction).some((r) => {
      let o = outsideOf.get(r);
      if (!o) outsideOf.set(r, (o = { [INTERNET]: admitsInternet(r) !== undefined, [OTHER_NAMESPACES]: admitsOtherNamespaces(r, p.namespace, index) !== undefined }));
      return o[which];
    }),
  );
}

export function namespaceGraph(index: PolicyIndex, config: NetfenceConfig, namespace: string): NamespaceGraph {
  const ns = index.namespace(namespace);
  const groups = new Map<string, PodInfo[]>();
  for (const pod of index.pods(namespace)) {
    const w = workloadOf(pod);
    const list = groups.get(w);
    if (list) list.push(pod);
    else groups.set(w, [pod]);
  }
  const tiers = Object.entries(config.tiers).map(([name, sel]) => ({ name, sel: index.selector(sel) }));
  const sorted = [...groups].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  const kept = sorted.slice(0, MAX_NODES).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const workloads = kept.map(([name, pods]) => {
    const rep = [...pods].sort((a, b) => (a.name < b.name ? -1 : 1))[0]!;
    const tier = tiers.find((t) => t.sel.matches(rep.labels))?.name ?? NO_TIER;
    return { node: { id: `w:${name}`, label: name, column: tier, pods: pods.length }, rep };
  });
  const used = new Set(workloads.map((w) => w.node.column));
  const columns = ['outside', ...tiers.map((t) => t.name).filter((t) => used.has(t)), ...(used.has(NO_TIER) ? [NO_TIER] : [])];
  const nodes: GraphNode[] = [
    { id: INTERNET, label: 'internet', column: 'outside', pods: 0 },
    { id: OTHER_NAMESPACES, label: 'other namespaces', column: 'outside', pods: 0 },
    ...workloads.map((w) => w.node),
  ];
  const edges: GraphEdge[] = [];
  for (const a of workloads) {
    const from: Endpoint = { kind: 'pod', pod: a.rep, namespace: ns };
    for (const b of workloads) {
      if (a === b) continue;
      const to: Endpoint = { kind: 'pod', pod: b.rep, namespace: ns };
      if (admits(index, a.rep, 'Egress', to) && admits(index, b.rep, 'Ingress', from)) edges.push({ from: a.node.id, to: b.node.id });
    }
  }
  for (const outside of [INTERNET, OTHER_NAMESPACES] as const) {
    for (const w of workloads) {
      if (admitsOutside(index, w.rep, 'Ingress', outside)) edges.push({ from: outside, to: w.node.id });
      if (admitsOutside(index, w.rep, 'Egress', outside)) edges.push({ from: w.node.id, to: outside });
    }
  }
  return { namespace, columns, nodes, edges, omitted: sorted.length - kept.length };
}
