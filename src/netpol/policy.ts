import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, PolicyType, Protocol } from '../k8s/types.ts';
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
  readonly ingress: CompiledRule[];
  readonly egress: CompiledRule[];
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

// What a compiled policy keeps is sized for clusters of tens of thousands of policies, each
// compiled once and kept while it exists (the admission and audit caches): no closures or
// accessor literals (which put an object in dictionary mode), field paths shared between
// policies, and the directions object shared.

/** Field paths, shared: `spec.ingress[0].from[1]` is the same string in every policy. */
const PATHS = new Map<string, string>();
const MAX_SHARED_PATHS = 4096;
function sharedPath(path: string): string {
  const shared = PATHS.get(path);
  if (shared !== undefined) return shared;
  if (PATHS.size < MAX_SHARED_PATHS) PATHS.set(path, path);
  return path;
}

const DIRECTIONS: ReadonlyArray<Readonly<Record<PolicyType, boolean>>> = [
  Object.freeze({ Ingress: false, Egress: false }),
  Object.freeze({ Ingress: true, Egress: false }),
  Object.freeze({ Ingress: false, Egress: true }),
  Object.freeze({ Ingress: true, Egress: true }),
];
function sharedDirections(d: Record<PolicyType, boolean>): Readonly<Record<PolicyType, boolean>> {
  return DIRECTIONS[(d.Ingress ? 1 : 0) + (d.Egress ? 2 : 0)]!;
}

/** An ipBlock peer; its address sets are built on first use (most decisions never ask). */
class IpBlockPeer implements CompiledPeer {
  readonly kind = 'ipBlock';
  readonly path: string;
  private readonly block: NonNullable<NetworkPolicyPeer['ipBlock']>;
  private sets: Record<Family, AddressSet> | undefined;

  constructor(block: NonNullable<NetworkPolicyPeer['ipBlock']>, path: string) {
    this.block = block;
    this.path = path;
  }

  get addresses(): Record<Family, AddressSet> {
    if (!this.sets) {
      const cidr = parseCidr(this.block.cidr);
      const addresses = { 4: EMPTY[4], 6: EMPTY[6] };
      if (cidr) {
        // Most ipBlocks have no except: one interval, no set arithmetic.
        const whole = AddressSet.of(cidr.family, [[cidr.start, cidr.end]]);
        const excepts = (this.block.except ?? []).map((e) => parseCidr(e)).filter((c) => c !== undefined);
        addresses[cidr.family] = excepts.length === 0 ? whole : whole.subtract(AddressSet.fromCidrs(cidr.family, excepts));
      }
      this.sets = addresses;
    }
    return this.sets;
  }
}

function compilePeer(peer: NetworkPolicyPeer, path: string, selectors: SelectorSource): CompiledPeer {
  if (peer.ipBlock) return new IpBlockPeer(peer.ipBlock, path);
  return {
    path,
    kind: 'pods',
    ...(peer.podSelector ? { podSelector: selectors(peer.podSelector) } : {}),
    ...(peer.namespaceSelector ? { namespaceSelector: selectors(peer.namespaceSelector) } : {}),
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
  selectors: SelectorSource,
): CompiledRule[] {
  const key = direction === 'Ingress' ? 'from' : 'to';
  const base = direction === 'Ingress' ? 'spec.ingress' : 'spec.egress';
  // Paths are built with plain templates: the keys are fixed identifiers, and this runs for
  // every NetworkPolicy review.
  return (rules ?? []).map((rule, index) => {
    const path = sharedPath(`${base}[${index}]`);
    const peers = rule?.[key] ?? [];
    const ports = rule?.ports ?? [];
    return {
      direction,
      index,
      path,
      peersPath: rule?.[key] ? sharedPath(`${path}.${key}`) : path,
      allPeers: peers.length === 0,
      peers: peers.map((p, i) => compilePeer(p ?? {}, sharedPath(`${path}.${key}[${i}]`), selectors)),
      allPorts: ports.length === 0,
      portsPath: rule?.ports ? sharedPath(`${path}.ports`) : path,
      ports: ports.map((p, i) => compilePort(p ?? {}, sharedPath(`${path}.ports[${i}]`))),
    };
  });
}

/** Compiles a label selector; a PolicyIndex passes one that shares equal selectors between policies. */
export type SelectorSource = (selector: LabelSelector | undefined) => CompiledSelector;
const fresh: SelectorSource = (selector) => new CompiledSelector(selector);

/** Rules are compiled on first use: most reviews are settled by the podSelector alone. */
class Compiled implements CompiledPolicy {
  readonly policy: NetworkPolicy;
  readonly name: string;
  readonly namespace: string;
  readonly podSelector: CompiledSelector;
  readonly affects: Readonly<Record<PolicyType, boolean>>;
  private readonly selectors: SelectorSource;
  private ingressRules: CompiledRule[] | undefined;
  private egressRules: CompiledRule[] | undefined;

  constructor(policy: NetworkPolicy, selectors: SelectorSource) {
    const spec = policy.spec ?? { podSelector: {} };
    this.policy = policy;
    this.name = policy.metadata.name;
    this.namespace = policy.metadata.namespace;
    this.selectors = selectors;
    this.podSelector = selectors(spec.podSelector);
    this.affects = sharedDirections(affectedDirections(spec));
  }

  get ingress(): CompiledRule[] {
    return (this.ingressRules ??= compileRules(this.policy.spec?.ingress, 'Ingress', this.selectors));
  }

  get egress(): CompiledRule[] {
    return (this.egressRules ??= compileRules(this.policy.spec?.egress, 'Egress', this.selectors));
  }

  /** Subsumption depends on the selectors only: remembered on the podSelector, shared by equal ones. */
  get subsumesTier(): Map<unknown, 'whole' | 'within' | 'none'> {
    return this.podSelector.tierRelations;
  }
}

export function compilePolicy(policy: NetworkPolicy, selectors: SelectorSource = fresh): CompiledPolicy {
  return new Compiled(policy, selectors);
}

export function rulesOf(policy: CompiledPolicy, direction: PolicyType): CompiledRule[] {
  return direction === 'Ingress' ? policy.ingress : policy.egress;
}
