import type { NamespaceInfo, PodInfo, PolicyType, Protocol } from '../k8s/types.ts';
import type { Family } from './cidr.ts';
import type { PolicyIndex } from './index.ts';
import { rulesOf, type CompiledPeer, type CompiledPolicy, type CompiledPort, type CompiledRule } from './policy.ts';

// The concrete face: is one connection allowed? A connection needs the source's egress and
// the destination's ingress. An address outside the cluster has no policies of its own, so
// only the pod end is judged.

export type Endpoint =
  | { kind: 'pod'; pod: PodInfo; namespace: NamespaceInfo }
  | { kind: 'address'; family: Family; value: bigint; text: string };

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: Protocol;
}

/** Which policy rule admitted the connection, by index and path. */
export interface Admission {
  policy: string;
  rule: number;
  path: string;
}

export interface DirectionVerdict {
  direction: PolicyType;
  /** The pod this direction is judged on; undefined when that end is an outside address. */
  pod?: string;
  /** Whether some policy selects the pod for this direction. Not isolated = everything allowed. */
  isolated: boolean;
  /** The policies that select the pod for this direction, by name. */
  policies: string[];
  allowed: boolean;
  /** The first policy rule (by policy name, then rule index) that admits the connection. */
  admittedBy?: Admission;
}

export interface ConnectionVerdict {
  allowed: boolean;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
}

/** Whether a peer matches the other end of the connection. */
export function peerMatches(peer: CompiledPeer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.kind === 'ipBlock') {
    // ipBlocks describe addresses outside the cluster; they never match pods.
    return other.kind === 'address' && peer.addresses![other.family].has(other.value);
  }
  if (other.kind !== 'pod') return false;
  if (peer.namespaceSelector) {
    if (!peer.namespaceSelector.matches(other.namespace.labels)) return false;
  } else if (other.pod.namespace !== policyNamespace) {
    return false;
  }
  return peer.podSelector ? peer.podSelector.matches(other.pod.labels) : true;
}

/** Whether a port entry matches; named ports resolve on the destination pod's container ports. */
export function portMatches(port: CompiledPort, number: number, protocol: Protocol, destination: PodInfo | undefined): boolean {
  if (port.protocol !== protocol) return false;
  if (port.range) return number >= port.range[0] && number <= port.range[1];
  if (!destination) return false;
  return destination.ports.some((p) => p.name === port.name && p.protocol === protocol && p.containerPort === number);
}

export function ruleAdmits(
  rule: CompiledRule,
  policyNamespace: string,
  other: Endpoint,
  port: number,
  protocol: Protocol,
  destination: PodInfo | undefined,
): boolean {
  if (!rule.allPorts && !rule.ports.some((p) => portMatches(p, port, protocol, destination))) return false;
  return rule.allPeers || rule.peers.some((peer) => peerMatches(peer, policyNamespace, other));
}

/** The policies that select the pod and affect the direction, in name order. */
export function selectingPolicies(index: PolicyIndex, pod: PodInfo, direction: PolicyType): CompiledPolicy[] {
  const out: CompiledPolicy[] = [];
  for (const p of index.policies(pod.namespace)) {
    if (p.affects[direction] && p.podSelector.matches(pod.labels)) out.push(p);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function judge(
  index: PolicyIndex,
  direction: PolicyType,
  self: Endpoint,
  other: Endpoint,
  port: number,
  protocol: Protocol,
  destination: PodInfo | undefined,
): DirectionVerdict {
  if (self.kind !== 'pod') return { direction, isolated: false, policies: [], allowed: true };
  const pod = `${self.pod.namespace}/${self.pod.name}`;
  const policies = selectingPolicies(index, self.pod, direction);
  if (policies.length === 0) return { direction, pod, isolated: false, policies: [], allowed: true };
  const names = policies.map((p) => p.name);
  for (const policy of policies) {
    for (const rule of rulesOf(policy, direction)) {
      if (ruleAdmits(rule, policy.namespace, other, port, protocol, destination)) {
        return { direction, pod, isolated: true, policies: names, allowed: true, admittedBy: { policy: policy.name, rule: rule.index, path: rule.path } };
      }
    }
  }
  return { direction, pod, isolated: true, policies: names, allowed: false };
}

export function evaluateConnection(index: PolicyIndex, connection: Connection): ConnectionVerdict {
  const { from, to, port, protocol } = connection;
  const destination = to.kind === 'pod' ? to.pod : undefined;
  const egress = judge(index, 'Egress', from, to, port, protocol, destination);
  const ingress = judge(index, 'Ingress', to, from, port, protocol, destination);
  return { allowed: egress.allowed && ingress.allowed, egress, ingress };
}
