import type { PeerClass } from '../config/types.ts';
import type { PodInfo, PolicyType } from '../k8s/types.ts';
import { policyAdmits, reachesTier, type PodLookup } from './analysis.ts';
import { AddressSet, formatIP, parseCidr, type Family } from './cidr.ts';
import { formatPortSpec } from './describe.ts';
import { podExposure } from './exposure.ts';
import type { PolicyIndex } from './index.ts';
import type { CompiledPolicy } from './policy.ts';
import type { CompiledSelector } from './selector.ts';

// Change impact: what a change of NetworkPolicies newly admits and no longer admits, for one
// pod (or the pod a workload or a tier makes) and direction, and for one policy UPDATE at
// admission. Pure: two indexes (before, after) in, differences out.

const CLASSES: readonly PeerClass[] = ['anywhere', 'internet', 'allNamespaces', 'otherNamespaces'];

/**
 * What a pod admits in one direction. Peers are the classes (anywhere, internet, allNamespaces,
 * otherNamespaces), `pods SELECTOR in namespace NAME` for existing namespaces, and `everything`
 * when the pod is not isolated, each with its ports; addresses (ipBlocks) are kept as address
 * sets per port, so that narrowing 0.0.0.0/0 to a /24 is not reported as opening the /24.
 */
export interface Admitted {
  peers: Map<string, Set<string>>;
  addresses: Map<string, Record<Family, AddressSet>>;
}

const EVERY_PORT = 'every port';

export function admittedPeers(index: PolicyIndex, pod: PodInfo, direction: PolicyType, resolveNamedPorts = true): Admitted {
  const out: Admitted = { peers: new Map(), addresses: new Map() };
  const add = (peer: string, ports: readonly string[]): void => {
    let set = out.peers.get(peer);
    if (!set) out.peers.set(peer, (set = new Set()));
    for (const p of ports) set.add(p);
  };
  const addAddresses = (ports: readonly string[], family: Family, set: AddressSet): void => {
    for (const port of ports) {
      const entry = out.addresses.get(port) ?? { 4: AddressSet.empty(4), 6: AddressSet.empty(6) };
      entry[family] = entry[family].union(set);
      out.addresses.set(port, entry);
    }
  };
  const exposure = podExposure(index, pod, '', {}, resolveNamedPorts);
  const d = direction === 'Ingress' ? exposure.ingress : exposure.egress;
  if (!d.isolated) {
    add('everything (not isolated)', [EVERY_PORT]);
    for (const c of CLASSES) add(c, [EVERY_PORT]);
    for (const family of [4, 6] as const) addAddresses([EVERY_PORT], family, AddressSet.all(family));
    return out;
  }
  for (const rule of d.rules) {
    const ports = rule.allPorts ? [EVERY_PORT] : rule.ports.map(formatPortSpec);
    for (const c of rule.classes) add(c, ports);
    if (rule.allPeers) {
      add('everything (a rule without peers)', ports);
      for (const family of [4, 6] as const) addAddresses(ports, family, AddressSet.all(family));
    }
    for (const peer of rule.peers) {
      if (peer.kind === 'pods') {
        for (const ns of peer.namespaces) add(`pods ${peer.pods || '(all)'} in namespace ${ns}`, ports);
        continue;
      }
      const cidr = parseCidr(peer.cidr);
      if (!cidr) continue;
      const except = peer.except.map((e) => parseCidr(e)).filter((c) => c !== undefined);
      addAddresses(ports, cidr.family, AddressSet.fromCidrs(cidr.family, [cidr]).subtract(AddressSet.fromCidrs(cidr.family, except)));
    }
  }
  return out;
}

export interface AdmittedChange {
  /** A peer (class, pods of a namespace, addresses) and the ports on which it is newly admitted, or no longer. */
  peer: string;
  ports: string[];
}

/** An address set as CIDRs, or as everything except some CIDRs when that is shorter. */
export function describeAddresses(set: AddressSet): string {
  const rest = AddressSet.all(set.family).subtract(set);
  if (rest.isEmpty()) return `every IPv${set.family} address`;
  if (rest.intervals.length < set.intervals.length) return `every IPv${set.family} address except ${cidrList(rest)}`;
  return cidrList(set);
}

function cidrList(set: AddressSet, max = 4): string {
  const cidrs: string[] = [];
  const bits = set.family === 4 ? 32 : 128;
  for (const [lo, hi] of set.intervals) {
    let start = lo;
    while (start <= hi && cidrs.length <= max) {
      let size = 0;
      while (size < bits && (start & ((1n << BigInt(size + 1)) - 1n)) === 0n && start + (1n << BigInt(size + 1)) - 1n <= hi) size++;
      cidrs.push(`${formatIP(set.family, start)}/${bits - size}`);
      start += 1n << BigInt(size);
    }
  }
  return cidrs.length > max ? `${cidrs.slice(0, max).join(', ')}, …` : cidrs.join(', ');
}

/** after − before (opened) and before − after (closed), peer by peer, port by port. */
export function diffAdmitted(before: Admitted, after: Admitted): { opened: AdmittedChange[]; closed: AdmittedChange[] } {
  const minus = (a: Admitted, b: Admitted): AdmittedChange[] => {
    const out: AdmittedChange[] = [];
    for (const [peer, ports] of a.peers) {
      const other = b.peers.get(peer);
      // "every port" covers any port: a peer admitted on every port before is not newly opened on 80.
      if (other?.has(EVERY_PORT)) continue;
      const extra = [...ports].filter((p) => !other?.has(p));
      if (extra.length) out.push({ peer, ports: extra });
    }
    for (const [port, sets] of a.addresses) {
      for (const family of [4, 6] as const) {
        let covered = b.addresses.get(port)?.[family] ?? AddressSet.empty(family);
        const every = b.addresses.get(EVERY_PORT)?.[family];
        if (every) covered = covered.union(every);
        const extra = sets[family].subtract(covered);
        if (!extra.isEmpty()) out.push({ peer: `addresses ${describeAddresses(extra)}`, ports: [port] });
      }
    }
    return out.sort((x, y) => x.peer.localeCompare(y.peer));
  };
  return { opened: minus(after, before), closed: minus(before, after) };
}

/** What a change admits for one pod and direction, between two indexes. */
export function podImpact(
  before: PolicyIndex,
  after: PolicyIndex,
  pod: PodInfo,
  direction: PolicyType,
  resolveNamedPorts = true,
): { opened: AdmittedChange[]; closed: AdmittedChange[] } {
  return diffAdmitted(admittedPeers(before, pod, direction, resolveNamedPorts), admittedPeers(after, pod, direction, resolveNamedPorts));
}

/** One thing a policy UPDATE opens for a tier: a class the old version did not admit. */
export interface Opening {
  peerClass: PeerClass;
  /** Where in the new policy: the rule's peer that admits the class. */
  path: string;
  reason: string;
}

/**
 * At admission, for a NetworkPolicy UPDATE: the listed classes the new version admits into
 * (Ingress) or out of (Egress) a tier that the old version did not. The old version "admitted"
 * a class only if it reached the tier, affected the direction and had a rule admitting it, so
 * widening the podSelector onto the tier opens every class its rules admit.
 */
export function policyChangeOpens(
  old: CompiledPolicy | undefined,
  next: CompiledPolicy,
  direction: PolicyType,
  tier: CompiledSelector,
  classes: readonly PeerClass[],
  findPod: PodLookup,
  index?: PolicyIndex,
): Opening[] {
  if (!next.affects[direction] || !reachesTier(next, tier, findPod).reaches) return [];
  const oldReaches = old !== undefined && old.affects[direction] && reachesTier(old, tier, findPod).reaches;
  const out: Opening[] = [];
  for (const peerClass of classes) {
    const now = policyAdmits(next, direction, peerClass, index);
    if (now.length === 0) continue;
    if (oldReaches && policyAdmits(old, direction, peerClass, index).length > 0) continue;
    for (const f of now) out.push({ peerClass, path: f.path, reason: f.reason });
  }
  return out;
}

const CLASS_WORDS: Record<PeerClass, string> = { anywhere: 'anywhere', internet: 'the internet', allNamespaces: 'all namespaces', otherNamespaces: 'other namespaces' };

/** "this change opens tier data to all namespaces (spec.ingress[0]…: reason); the previous version did not" */
export function describeOpenings(openings: readonly Opening[], tierName: string, direction: PolicyType): string {
  const to = direction === 'Ingress' ? 'from' : 'to';
  const parts = openings.map((o) => `${CLASS_WORDS[o.peerClass]} (${o.path}: ${o.reason})`);
  return `this change opens tier ${tierName} ${to} ${parts.join('; ')}, which the previous version did not admit`;
}
