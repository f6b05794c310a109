import type { PeerClass } from '../config/types.ts';
import { NAMESPACE_NAME_LABEL, type PodInfo, type PolicyType, type Protocol } from '../k8s/types.ts';
import { AddressSet, formatIP, publicSpace, type Family } from './cidr.ts';
import type { PolicyIndex } from './index.ts';
import { rulesOf, type CompiledPeer, type CompiledPolicy, type CompiledRule } from './policy.ts';
import type { CompiledSelector } from './selector.ts';
import { subsumes } from './subsume.ts';

// The symbolic face: what does a rule admit, whatever pods and namespaces exist or will
// exist? Every answer that is "yes" comes with the field path that makes it so and the reason
// in words, for denial messages.

export interface Finding {
  /** The field that makes the answer true, e.g. `spec.ingress[0].from[1].namespaceSelector`. */
  path: string;
  /** What it admits, in words a namespace owner understands. */
  reason: string;
}

function addressesOf(peers: readonly CompiledPeer[], family: Family): AddressSet {
  let set = AddressSet.empty(family);
  for (const p of peers) if (p.kind === 'ipBlock') set = set.union(p.addresses![family]);
  return set;
}

function allPeersFinding(rule: CompiledRule, what: string): Finding {
  const field = rule.direction === 'Ingress' ? 'from' : 'to';
  const how = rule.peersPath === rule.path ? `has no ${field}` : `has an empty ${field}`;
  return { path: rule.peersPath, reason: `${how}, so it admits ${what}` };
}

const FAMILY_NAME: Record<Family, string> = { 4: 'IPv4', 6: 'IPv6' };

/** `anywhere`: every public IPv4 address or every public IPv6 address. */
export function admitsAnywhere(rule: CompiledRule): Finding | undefined {
  if (rule.allPeers) return allPeersFinding(rule, 'every source and destination, inside the cluster and on the internet');
  for (const family of [4, 6] as const) {
    const space = publicSpace(family);
    const single = rule.peers.find((p) => p.kind === 'ipBlock' && p.addresses![family].covers(space));
    if (single) {
      return { path: `${single.path}.ipBlock`, reason: `admits every public ${FAMILY_NAME[family]} address (anywhere on the internet)` };
    }
    if (addressesOf(rule.peers, family).covers(space)) {
      const parts = rule.peers.filter((p) => p.kind === 'ipBlock' && !p.addresses![family].intersect(space).isEmpty());
      return {
        path: rule.peersPath,
        reason: `its ipBlocks (${parts.map((p) => p.path.slice(p.path.lastIndexOf('.') + 1)).join(', ')}) together admit every public ${FAMILY_NAME[family]} address (anywhere on the internet)`,
      };
    }
  }
  return undefined;
}

/** `internet`: at least one public address. */
export function admitsInternet(rule: CompiledRule): Finding | undefined {
  if (rule.allPeers) return allPeersFinding(rule, 'every address on the internet');
  for (const peer of rule.peers) {
    if (peer.kind !== 'ipBlock') continue;
    for (const family of [4, 6] as const) {
      const open = peer.addresses![family].intersect(publicSpace(family));
      const sample = open.sample();
      if (sample !== undefined) {
        return { path: `${peer.path}.ipBlock`, reason: `admits public internet addresses (${formatIP(family, sample)}, for one)` };
      }
    }
  }
  return undefined;
}

/** A name no selector mentions: it stands for a namespace created tomorrow. */
function freshNamespaceName(selector: CompiledSelector): string {
  const used = new Set(selector.requirements.flatMap((r) => [...r.values]));
  let name = 'a-namespace-created-later';
  for (let i = 0; used.has(name); i++) name = `a-namespace-created-later-${i}`;
  return name;
}

/** Whether a namespace selector matches a new namespace that carries only its name label. */
export function matchesNewNamespace(selector: CompiledSelector): boolean {
  return selector.matches({ [NAMESPACE_NAME_LABEL]: freshNamespaceName(selector) });
}

/** `allNamespaces`: pods in every namespace, including ones created later, whatever their labels. */
export function admitsAllNamespaces(rule: CompiledRule): Finding | undefined {
  if (rule.allPeers) return allPeersFinding(rule, 'pods in every namespace, including ones created later');
  for (const peer of rule.peers) {
    if (peer.kind !== 'pods' || !peer.namespaceSelector) continue;
    if (matchesNewNamespace(peer.namespaceSelector)) {
      const spelled = peer.namespaceSelector.empty ? 'namespaceSelector {}' : 'this namespaceSelector';
      const pods = peer.podSelector && !peer.podSelector.empty ? ' (namespace owners choose their own pod labels, so the podSelector beside it does not narrow this)' : '';
      return { path: `${peer.path}.namespaceSelector`, reason: `${spelled} admits every namespace, including ones created later${pods}` };
    }
  }
  return undefined;
}

/** `otherNamespaces`: pods in some namespace other than the policy's own. */
export function admitsOtherNamespaces(rule: CompiledRule, ownNamespace: string, index?: PolicyIndex): Finding | undefined {
  if (rule.allPeers) return allPeersFinding(rule, 'pods in other namespaces');
  for (const peer of rule.peers) {
    if (peer.kind !== 'pods' || !peer.namespaceSelector) continue;
    const selector = peer.namespaceSelector;
    if (matchesNewNamespace(selector)) {
      return { path: `${peer.path}.namespaceSelector`, reason: 'admits pods in other namespaces, including ones created later' };
    }
    const candidates = new Map<string, Readonly<Record<string, string>>>();
    for (const ns of index?.namespaces() ?? []) candidates.set(ns.name, ns.labels);
    for (const req of selector.requirements) {
      if (req.key !== NAMESPACE_NAME_LABEL || req.operator !== 'In') continue;
      for (const name of req.values) if (!candidates.has(name)) candidates.set(name, { [NAMESPACE_NAME_LABEL]: name });
    }
    const others = [...candidates].filter(([name, labels]) => name !== ownNamespace && selector.matches(labels)).map(([name]) => name);
    if (others.length > 0) {
      return { path: `${peer.path}.namespaceSelector`, reason: `admits pods in other namespaces (${others.sort().slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''})` };
    }
  }
  return undefined;
}

export function admitsClass(rule: CompiledRule, peerClass: PeerClass, ownNamespace: string, index?: PolicyIndex): Finding | undefined {
  switch (peerClass) {
    case 'anywhere':
      return admitsAnywhere(rule);
    case 'internet':
      return admitsInternet(rule);
    case 'allNamespaces':
      return admitsAllNamespaces(rule);
    case 'otherNamespaces':
      return admitsOtherNamespaces(rule, ownNamespace, index);
  }
}

/**
 * Whether a rule admits every port: no ports, or for some protocol port entries whose ranges
 * together cover 1–65535 (an entry without `port` covers them all).
 */
export function admitsAllPorts(rule: CompiledRule): Finding | undefined {
  if (rule.allPorts) {
    const how = rule.portsPath === rule.path ? 'has no ports' : 'has an empty ports list';
    return { path: rule.portsPath, reason: `${how}, so it admits every port and protocol` };
  }
  for (const protocol of ['TCP', 'UDP', 'SCTP'] as const satisfies readonly Protocol[]) {
    const entries = rule.ports.filter((p) => p.protocol === protocol && p.range);
    const whole = entries.find((p) => p.range![0] <= 1 && p.range![1] >= 65535);
    if (whole) return { path: whole.path, reason: `admits every ${protocol} port` };
    // Port ranges are integer intervals too: the address-set arithmetic answers "do they cover 1-65535".
    const covered = AddressSet.of(4, entries.map((p) => [BigInt(p.range![0]), BigInt(p.range![1])] as const));
    if (covered.covers(AddressSet.of(4, [[1n, 65535n]]))) {
      return { path: rule.portsPath, reason: `its port ranges together admit every ${protocol} port` };
    }
  }
  return undefined;
}

/** Finds an existing pod that all the selectors select (PolicyIndex.findPod, or a scan in tests). */
export type PodLookup = (...selectors: CompiledSelector[]) => PodInfo | undefined;

export function scanPods(pods: readonly PodInfo[]): PodLookup {
  return (...selectors) => pods.find((p) => selectors.every((s) => s.matches(p.labels)));
}

/**
 * Whether a policy's podSelector reaches a tier: it selects every pod the tier selects, or it
 * selects an existing pod of the tier in the namespace.
 */
export function reachesTier(policy: CompiledPolicy, tier: CompiledSelector, findPod: PodLookup): { reaches: boolean; pod?: string } {
  // Subsumption depends on the selectors only, so it is remembered on the compiled policy;
  // the pod lookup is not: pods come and go while a policy stays the same.
  let subsumed = policy.subsumesTier.get(tier);
  if (subsumed === undefined) {
    subsumed = subsumes(policy.podSelector, tier);
    policy.subsumesTier.set(tier, subsumed);
  }
  if (subsumed) return { reaches: true };
  const pod = findPod(tier, policy.podSelector);
  return pod ? { reaches: true, pod: pod.name } : { reaches: false };
}

/** Every finding of a class across the rules of the direction a policy affects. */
export function policyAdmits(
  policy: CompiledPolicy,
  direction: PolicyType,
  peerClass: PeerClass,
  index?: PolicyIndex,
): Array<Finding & { rule: number }> {
  if (!policy.affects[direction]) return [];
  const out: Array<Finding & { rule: number }> = [];
  for (const rule of rulesOf(policy, direction)) {
    const f = admitsClass(rule, peerClass, policy.namespace, index);
    if (f) out.push({ ...f, rule: rule.index });
  }
  return out;
}
