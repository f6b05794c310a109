import type { ClusterView } from '../cluster/view.ts';
import { excludedNamespaceNames } from '../config/exclusions.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { isObject, type KubeObject, type NetworkPolicy, type PodInfo, type PolicyType } from '../k8s/types.ts';
import { describePorts } from '../netpol/describe.ts';
import { PolicyIndex } from '../netpol/index.ts';
import { rulesOf } from '../netpol/policy.ts';
import { selectingPolicies } from '../netpol/reach.ts';

// What adopting a namespace does to its traffic, before it is done. Adopting = giving the
// namespace the baseline labels: from then on netfence enforces its rules there, and the
// reconciler creates the baseline NetworkPolicies. A default-deny created in a namespace that
// runs workloads cuts every connection that no policy admitted before: this says which pods
// lose what, per workload, computed with the same engine as admission. Pure: the CLI reads
// the cluster and writes the label.

export type DirectionChange =
  /** Not isolated today, isolated afterwards: only `keeps` is admitted from then on. */
  | { change: 'cut'; keeps: string[] }
  /** Already isolated by existing policies: the baseline can only add to what is admitted. */
  | { change: 'none'; isolatedBy: string[] }
  /** Not isolated today, and the baseline does not isolate it either. */
  | { change: 'stays-open' };

export interface WorkloadImpact {
  /** `Deployment/web`, `StatefulSet/db`, `Pod/debug` */
  workload: string;
  pods: string[];
  ingress: DirectionChange;
  egress: DirectionChange;
}

export interface AdoptionPlan {
  namespace: string;
  /** adopt: will be labelled; adopted: nothing to do; excluded/terminating/unknown: refused. */
  action: 'adopt' | 'adopted' | 'excluded' | 'terminating' | 'unknown';
  reason: string;
  /** Labels to set: key → value (old value when it is being replaced). */
  labels: Array<{ key: string; value: string; was?: string }>;
  /** Baseline policies the reconciler will create (those not there yet). */
  policies: string[];
  workloads: WorkloadImpact[];
}

const DIRECTIONS: readonly PolicyType[] = ['Ingress', 'Egress'];

export function planAdoption(
  config: NetfenceConfig,
  view: ClusterView,
  namespace: string,
  netfenceNamespace: string,
  workloadOf: (pod: PodInfo) => string = (pod) => `Pod/${pod.name}`,
): AdoptionPlan {
  const empty = { labels: [], policies: [], workloads: [] };
  const ns = view.namespace(namespace);
  if (!ns) return { namespace, action: 'unknown', reason: `namespace ${namespace} does not exist`, ...empty };
  if (excludedNamespaceNames(config, netfenceNamespace).includes(namespace)) {
    return { namespace, action: 'excluded', reason: `namespace ${namespace} is excluded (excludedNamespaces, or netfence's own): netfence never evaluates it, so adopting it would do nothing; remove it from excludedNamespaces first`, ...empty };
  }
  if (ns.terminating) return { namespace, action: 'terminating', reason: `namespace ${namespace} is being deleted`, ...empty };
  const labels = Object.entries(config.baseline.labels)
    .filter(([k, v]) => ns.labels[k] !== v)
    .map(([key, value]) => (ns.labels[key] !== undefined ? { key, value, was: ns.labels[key] } : { key, value }));
  if (Object.keys(config.baseline.labels).length === 0) {
    return { namespace, action: 'adopted', reason: 'the config has no baseline labels: every namespace is enforced already', ...empty };
  }
  if (labels.length === 0) return { namespace, action: 'adopted', reason: `namespace ${namespace} is adopted already`, ...empty };

  const existing = new Set(view.networkPolicies(namespace).map((p) => p.metadata.name));
  const added: NetworkPolicy[] = config.baseline.policies
    .filter((p) => !existing.has(p.name))
    .map((p) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: p.name, namespace }, spec: p.spec }));
  const before = new PolicyIndex(view);
  const after = new PolicyIndex(withPolicies(view, namespace, added));

  const byWorkload = new Map<string, WorkloadImpact>();
  for (const pod of view.pods(namespace)) {
    const [ingress, egress] = DIRECTIONS.map((d) => directionChange(before, after, pod, d)) as [DirectionChange, DirectionChange];
    const workload = workloadOf(pod);
    // Pods of one workload share labels, so they share the outcome; one that differs (labels
    // edited by hand) is listed on its own.
    const key = `${workload}\0${JSON.stringify([ingress, egress])}`;
    const entry = byWorkload.get(key);
    if (entry) entry.pods.push(pod.name);
    else byWorkload.set(key, { workload, pods: [pod.name], ingress, egress });
  }
  const workloads = [...byWorkload.values()].sort((a, b) => (a.workload < b.workload ? -1 : a.workload > b.workload ? 1 : 0));
  return {
    namespace,
    action: 'adopt',
    reason: `namespace ${namespace} is not adopted: its violations are recorded in audit mode today`,
    labels,
    policies: added.map((p) => p.metadata.name),
    workloads,
  };
}

function directionChange(before: PolicyIndex, after: PolicyIndex, pod: PodInfo, direction: PolicyType): DirectionChange {
  const today = selectingPolicies(before, pod, direction);
  if (today.length > 0) return { change: 'none', isolatedBy: today.map((p) => p.name) };
  const then = selectingPolicies(after, pod, direction);
  if (then.length === 0) return { change: 'stays-open' };
  const keeps: string[] = [];
  for (const policy of then) {
    for (const rule of rulesOf(policy, direction)) {
      const raw = (direction === 'Ingress' ? policy.policy.spec.ingress : policy.policy.spec.egress)?.[rule.index];
      const peers = direction === 'Ingress' ? (raw as { from?: unknown })?.from : (raw as { to?: unknown })?.to;
      const who = rule.allPeers ? 'everything' : `${direction === 'Ingress' ? 'from' : 'to'} ${compact(peers)}`;
      keeps.push(`${policy.name} ${rule.path}: ${who} on ${describePorts(rule)}`);
    }
  }
  return { change: 'cut', keeps };
}

function compact(value: unknown): string {
  return JSON.stringify(value).replace(/"([^"]+)":/g, '$1: ').replace(/"/g, '').replace(/,/g, ', ');
}

function withPolicies(view: ClusterView, namespace: string, extra: readonly NetworkPolicy[]): ClusterView {
  const list = [...view.networkPolicies(namespace), ...extra];
  return {
    namespace: (name) => view.namespace(name),
    namespaces: () => view.namespaces(),
    pods: (ns) => view.pods(ns),
    networkPolicies: (ns) => (ns === namespace ? list : view.networkPolicies(ns)),
    synced: () => view.synced(),
    describe: () => view.describe(),
  };
}

/**
 * The workload a Pod belongs to, from its controller reference: a ReplicaSet made by a
 * Deployment is named `<deployment>-<pod-template-hash>`, so the Deployment is named.
 */
export function workloadOfPod(pod: KubeObject): string {
  const refs = pod.metadata?.ownerReferences;
  const owner = Array.isArray(refs) ? (refs.find((r) => isObject(r) && r.controller === true) ?? refs[0]) : undefined;
  if (!isObject(owner) || typeof owner.kind !== 'string' || typeof owner.name !== 'string') return `Pod/${pod.metadata?.name ?? ''}`;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return `Deployment/${owner.name.slice(0, -hash.length - 1)}`;
  return `${owner.kind}/${owner.name}`;
}

/** The plan in words, as `netfence adopt` prints it. */
export function describePlan(plan: AdoptionPlan): string[] {
  if (plan.action !== 'adopt') return [`${plan.namespace}: ${plan.action}: ${plan.reason}`];
  const lines = [`${plan.namespace}: ${plan.reason}. Adopting it will:`];
  lines.push(`  label it ${plan.labels.map((l) => `${l.key}=${l.value}${l.was !== undefined ? ` (was ${l.was})` : ''}`).join(', ')}: from then on its violations are enforced, not only recorded`);
  if (plan.policies.length > 0) lines.push(`  have netfence create the NetworkPolicies ${plan.policies.join(', ')}`);
  const cut = plan.workloads.filter((w) => w.ingress.change === 'cut' || w.egress.change === 'cut');
  const same = plan.workloads.filter((w) => !cut.includes(w));
  if (cut.length === 0) {
    lines.push(plan.workloads.length === 0 ? '  cut no traffic: the namespace has no pods' : '  cut no traffic: every pod is already isolated by its own policies');
  } else {
    lines.push(`  cut traffic that is allowed today, for ${cut.length} workload${cut.length === 1 ? '' : 's'}:`);
    for (const w of cut) {
      lines.push(`    ${w.workload} (${w.pods.length} pod${w.pods.length === 1 ? '' : 's'}: ${w.pods.slice(0, 5).join(', ')}${w.pods.length > 5 ? ', …' : ''})`);
      for (const [direction, change] of [['ingress', w.ingress], ['egress', w.egress]] as const) {
        lines.push(`      ${direction}: ${changeText(direction, change)}`);
      }
    }
  }
  if (same.length > 0) lines.push(`  change nothing for ${same.map((w) => w.workload).join(', ')}`);
  return lines;
}

function changeText(direction: string, change: DirectionChange): string {
  switch (change.change) {
    case 'none':
      return `unchanged (already isolated by ${change.isolatedBy.join(', ')})`;
    case 'stays-open':
      return 'unchanged (not isolated, and the baseline does not isolate it)';
    case 'cut':
      return change.keeps.length === 0
        ? `every ${direction} connection is cut (nothing selects it today; afterwards nothing admits any)`
        : `every ${direction} connection is cut except ${change.keeps.join('; ')}`;
  }
}
