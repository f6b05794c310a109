import type { PeerClass } from '../config/types.ts';
import type { LabelSelector, NetworkPolicyPeer, NetworkPolicySpec, PodInfo, PolicyType } from '../k8s/types.ts';
import { admitsClass } from './analysis.ts';
import { describeSelector, portSpec, type PortSpec } from './describe.ts';
import type { PolicyIndex } from './index.ts';
import { rulesOf, type CompiledPeer, type CompiledRule } from './policy.ts';
import { selectingPolicies } from './reach.ts';
import { CompiledSelector } from './selector.ts';
import { subsumes } from './subsume.ts';

// Who can reach a pod (ingress) and what it can reach (egress), rule by rule, with the peers
// each rule admits named: selectors, the tiers they stay within, namespaces, CIDRs.

/** One peer of a rule, described. */
export type PeerDescription =
  | {
      path: string;
      kind: 'pods';
      /** The pod selector ('' = every pod). */
      pods: string;
      /** Tiers of the config that contain every pod the selector selects. */
      tiers: string[];
      /** The namespace selector ('' = every namespace), or undefined: the policy's own namespace. */
      namespaceSelector?: string;
      /** Existing namespaces whose pods the peer admits. */
      namespaces: string[];
    }
  | { path: string; kind: 'ipBlock'; cidr: string; except: string[] };

/** One rule through which a pod can be reached (ingress) or can reach (egress). */
export interface ExposureRule {
  policy: string;
  rule: number;
  path: string;
  /** The peer classes the rule admits: anywhere, internet, allNamespaces, otherNamespaces. */
  classes: PeerClass[];
  /** No from/to: every peer, in the cluster and outside. */
  allPeers: boolean;
  peers: PeerDescription[];
  /** No ports: every port and protocol. */
  allPorts: boolean;
  /** The ports the rule admits; for ingress only those the pod serves, named ports resolved. */
  ports: PortSpec[];
}

export interface DirectionExposure {
  /** Not isolated: every connection in this direction is allowed. */
  isolated: boolean;
  policies: string[];
  rules: ExposureRule[];
  /** Rules that admit nothing for this pod (they name only ports it does not serve). */
  inert: Array<{ policy: string; path: string; reason: string }>;
}

export interface PodExposure {
  /** `shop/db` for a Pod, `shop/deployment/api` for a workload. */
  name: string;
  labels: Readonly<Record<string, string>>;
  ingress: DirectionExposure;
  egress: DirectionExposure;
}

const CLASSES: readonly PeerClass[] = ['anywhere', 'internet', 'allNamespaces', 'otherNamespaces'];

function describePeer(
  peer: CompiledPeer,
  written: NetworkPolicyPeer | undefined,
  policyNamespace: string,
  index: PolicyIndex,
  tiers: ReadonlyMap<string, CompiledSelector>,
): PeerDescription {
  if (peer.kind === 'ipBlock') {
    // The compiled peer keeps address sets; the answer shows the block as written.
    return { path: peer.path, kind: 'ipBlock', cidr: written?.ipBlock?.cidr ?? '', except: written?.ipBlock?.except ?? [] };
  }
  const pods = peer.podSelector ?? EVERY;
  const namespaces = index
    .namespaces()
    .filter((ns) => (peer.namespaceSelector ? peer.namespaceSelector.matches(ns.labels) : ns.name === policyNamespace))
    .map((ns) => ns.name)
    .sort();
  if (!peer.namespaceSelector && !namespaces.includes(policyNamespace)) namespaces.push(policyNamespace);
  return {
    path: peer.path,
    kind: 'pods',
    pods: describeSelector(pods),
    tiers: [...tiers].filter(([, t]) => !t.empty && subsumes(t, pods)).map(([name]) => name),
    ...(peer.namespaceSelector ? { namespaceSelector: describeSelector(peer.namespaceSelector) } : {}),
    namespaces,
  };
}

const EVERY = new CompiledSelector({});

function directionExposure(
  index: PolicyIndex,
  pod: PodInfo,
  direction: PolicyType,
  tiers: ReadonlyMap<string, CompiledSelector>,
  resolveNamedPorts: boolean,
): DirectionExposure {
  const policies = selectingPolicies(index, pod, direction);
  const out: DirectionExposure = { isolated: policies.length > 0, policies: policies.map((p) => p.name), rules: [], inert: [] };
  for (const policy of policies) {
    for (const rule of rulesOf(policy, direction)) {
      const ports = rulePorts(rule, direction === 'Ingress' && resolveNamedPorts ? pod : undefined);
      if (!rule.allPorts && ports.length === 0) {
        out.inert.push({ policy: policy.name, path: rule.path, reason: `names only ports ${pod.name} does not declare (${rule.ports.map((p) => p.name ?? '').filter(Boolean).join(', ')})` });
        continue;
      }
      out.rules.push({
        policy: policy.name,
        rule: rule.index,
        path: rule.path,
        classes: CLASSES.filter((c) => admitsClass(rule, c, policy.namespace, index) !== undefined),
        allPeers: rule.allPeers,
        peers: rule.peers.map((peer, i) => describePeer(peer, writtenPeers(policy.policy.spec, direction, rule.index)?.[i], policy.namespace, index, tiers)),
        allPorts: rule.allPorts,
        ports,
      });
    }
  }
  return out;
}

function writtenPeers(spec: NetworkPolicySpec, direction: PolicyType, rule: number): NetworkPolicyPeer[] | undefined {
  return direction === 'Ingress' ? spec.ingress?.[rule]?.from : spec.egress?.[rule]?.to;
}

/**
 * The ports of a rule. For ingress the pod is the destination: a named port resolves on its
 * container ports (same protocol) and is left out when the pod does not declare it, since
 * such a port admits nothing here (`reach` denies the same connection).
 */
function rulePorts(rule: CompiledRule, destination: PodInfo | undefined): PortSpec[] {
  const out: PortSpec[] = [];
  for (const port of rule.ports) {
    if (port.name === undefined || !destination) {
      out.push(portSpec(port));
      continue;
    }
    const served = destination.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (served) out.push(portSpec(port, served.containerPort));
  }
  return out;
}

/**
 * For a pod (or the pod a workload makes): who can reach it and what it can reach.
 * resolveNamedPorts false: named ports are kept as names (for a pod that stands for any pod
 * of a tier, whose ports are not known).
 */
export function podExposure(index: PolicyIndex, pod: PodInfo, name: string, tiers: Readonly<Record<string, LabelSelector>> = {}, resolveNamedPorts = true): PodExposure {
  const compiled = new Map(Object.entries(tiers).map(([n, s]) => [n, index.selector(s)] as const));
  return {
    name,
    labels: pod.labels,
    ingress: directionExposure(index, pod, 'Ingress', compiled, resolveNamedPorts),
    egress: directionExposure(index, pod, 'Egress', compiled, resolveNamedPorts),
  };
}
