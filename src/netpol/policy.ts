import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, PolicyType, Protocol } from '../k8s/types.ts';
import { AddressSet, parseCidr, type Family } from './cidr.ts';
import { CompiledSelector } from './selector.ts';

// A NetworkPolicy compiled once for evaluation: selectors compiled, ipBlocks as address sets,
// ports normalised, every part carrying its field path for explanations and messages.

export interface CompiledPeer {
  path: string;
  /** Pods (podSelector and/or namespaceSelector) or addresses (ipBlock). */
  kind: 'pods' | 'ipBlock';
  /** Which pods, within the namespaces below; undefined = every pod there. */
  podSelector?: CompiledSelector;
  /** Which namespaces; undefined = the policy's own namespace only. */
  namespaceSelector?: CompiledSelector;
  /** cidr minus except, per family (only for ipBlock peers). */
  addresses?: Record<Family, AddressSet>;
}

export interface CompiledPort {
  path: string;
  protocol: Protocol;
  /** Inclusive port range; [1, 65535] when port is not given. */
  range?: readonly [number, number];
  /** A named port, resolved on the destination pod. */
  name?: string;
}

export interface CompiledRule {
  direction: PolicyType;
  index: number;
  path: string;
  /** Path of the from/to list, or of the rule when it has none. */
  peersPath: string;
  /** No `from`/`to`, or an empty one: every peer, in the cluster and outside. */
  allPeers: boolean;
  peers: CompiledPeer[];
  /** No `ports`, or an empty list: every port and protocol. */
  allPorts: boolean;
  /** Path of the ports list, or of the rule when it has none. */
  portsPath: string;
  ports: CompiledPort[];
}

export interface CompiledPolicy {
  policy: NetworkPolicy;
  name: string;
  namespace: string;
  podSelector: CompiledSelector;
  /** The directions the policy affects, after policyTypes defaulting. */
  affects: Readonly<Record<PolicyType, boolean>>;
  ingress: CompiledRule[];
  egress: CompiledRule[];
  /**
   * How podSelector relates to a tier, per tier selector (several rules ask): it selects the
   * whole tier, only pods of it (and can select some), or neither.
   */
  readonly subsumesTier: Map<unknown, 'whole' | 'within' | 'none'>;
}

/**
 * policyTypes as the API server defaults it: the listed types if any; otherwise Ingress, and
 * Egress too when the policy has at least one egress rule (`egress: []` does not count).
 */
export function affectedDirections(spec: NetworkPolicy['spec']): Record<PolicyType, boolean> {
  if (spec.policyTypes && spec.policyTypes.length > 0) {
    return { Ingress: spec.policyTypes.includes('Ingress'), Egress: spec.policyTypes.includes('Egress') };
  }
  return { Ingress: true, Egress: (spec.egress?.length ?? 0) > 0 };
}

const EMPTY: Record<Family, AddressSet> = { 4: AddressSet.empty(4), 6: AddressSet.empty(6) };

function compilePeer(peer: NetworkPolicyPeer, path: string): CompiledPeer {
  if (peer.ipBlock) {
    const block = peer.ipBlock;
    let addresses: Record<Family, AddressSet> | undefined;
    // Address sets are built on first use: most decisions never ask about addresses.
    return {
      path,
      kind: 'ipBlock',
      get addresses(): Record<Family, AddressSet> {
        if (!addresses) {
          const cidr = parseCidr(block.cidr);
          addresses = { 4: EMPTY[4], 6: EMPTY[6] };
          if (cidr) {
            // Most ipBlocks have no except: one interval, no set arithmetic.
            const whole = AddressSet.of(cidr.family, [[cidr.start, cidr.end]]);
            const excepts = (block.except ?? []).map((e) => parseCidr(e)).filter((c) => c !== undefined);
            addresses[cidr.family] = excepts.length === 0 ? whole : whole.subtract(AddressSet.fromCidrs(cidr.family, excepts));
          }
        }
        return addresses;
      },
    };
  }
  return {
    path,
    kind: 'pods',
    ...(peer.podSelector ? { podSelector: new CompiledSelector(peer.podSelector) } : {}),
    ...(peer.namespaceSelector ? { namespaceSelector: new CompiledSelector(peer.namespaceSelector) } : {}),
  };
}

function compilePort(port: NetworkPolicyPort, path: string): CompiledPort {
  const protocol = port.protocol ?? 'TCP';
  if (typeof port.port === 'string') return { path, protocol, name: port.port };
  if (typeof port.port === 'number') return { path, protocol, range: [port.port, port.endPort ?? port.port] };
  return { path, protocol, range: [1, 65535] };
}

function compileRules(
  rules: ReadonlyArray<{ from?: NetworkPolicyPeer[]; to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] } | null> | undefined,
  direction: PolicyType,
): CompiledRule[] {
  const key = direction === 'Ingress' ? 'from' : 'to';
  const base = direction === 'Ingress' ? 'spec.ingress' : 'spec.egress';
  // Paths are built with plain templates: the keys are fixed identifiers, and this runs for
  // every NetworkPolicy review.
  return (rules ?? []).map((rule, index) => {
    const path = `${base}[${index}]`;
    const peers = rule?.[key] ?? [];
    const ports = rule?.ports ?? [];
    return {
      direction,
      index,
      path,
      peersPath: rule?.[key] ? `${path}.${key}` : path,
      allPeers: peers.length === 0,
      peers: peers.map((p, i) => compilePeer(p ?? {}, `${path}.${key}[${i}]`)),
      allPorts: ports.length === 0,
      portsPath: rule?.ports ? `${path}.ports` : path,
      ports: ports.map((p, i) => compilePort(p ?? {}, `${path}.ports[${i}]`)),
    };
  });
}

export function compilePolicy(policy: NetworkPolicy): CompiledPolicy {
  const spec = policy.spec ?? { podSelector: {} };
  let ingress: CompiledRule[] | undefined;
  let egress: CompiledRule[] | undefined;
  // Rules are compiled on first use: most reviews are settled by the podSelector alone (a
  // policy that does not reach a tier is not judged by that tier's rules).
  return {
    policy,
    name: policy.metadata.name,
    namespace: policy.metadata.namespace,
    podSelector: new CompiledSelector(spec.podSelector),
    affects: affectedDirections(spec),
    get ingress(): CompiledRule[] {
      return (ingress ??= compileRules(spec.ingress, 'Ingress'));
    },
    get egress(): CompiledRule[] {
      return (egress ??= compileRules(spec.egress, 'Egress'));
    },
    subsumesTier: new Map(),
  };
}

export function rulesOf(policy: CompiledPolicy, direction: PolicyType): CompiledRule[] {
  return direction === 'Ingress' ? policy.ingress : policy.egress;
}
