import type { PeerClass } from '../config/types.ts';
import { NAMESPACE_NAME_LABEL, type PodInfo, type PolicyType, type Protocol } from '../k8s/types.ts';
import { AddressSet, formatIP, publicSpace, publicSpaceSize, type Family } from './cidr.ts';
import type { PolicyIndex } from './index.ts';
import { rulesOf, type CompiledPeer, type CompiledPolicy, type CompiledRule } from './policy.ts';
import type { CompiledSelector } from './selector.ts';
import { selectsNothing, subsumes } from './subsume.ts';

// The symbolic face: what does a rule admit, whatever pods and namespaces exist or will
// exist? Every answer that is "yes" comes with the field path that makes it so and the reason
// in words, for denial messages.

export interface Finding {
  /** The field that makes the answer true, e.g. `spec.ingress[0].from[1].namespaceSelector`. */
  path: string;
  /** What it admits, in words a namespace owner understands. */
  reason: string;
}

/** Every address the rule's ipBlocks admit: all their intervals, normalised once. */
function addressesOf(peers: readonly CompiledPeer[], family: Family): AddressSet {
  return AddressSet.unionAll(family, peers.filter((p) => p.kind === 'ipBlock').map((p) => p.addresses![family]));
}

function allPeersFinding(rule: CompiledRule, what: string): Finding {
  const field = rule.direction === 'Ingress' ? 'from' : 'to';
  const how = rule.peersPath === rule.path ? `has no ${field}` : `has an empty ${field}`;
  return { path: rule.peersPath, reason: `${how}, so it admits ${what}` };
}

const FAMILY_NAME: Record<Family, string> = { 4: 'IPv4', 6: 'IPv6' };

/**
 * Whether a set of addresses is `anywhere` for its family: the public addresses it holds
 * number at least half of the family's public addresses. Carving a few ranges out of
 * `0.0.0.0/0` does not escape it; a partner's /24 (or any set short of half) is not it.
 */
export function isAnywhere(addresses: AddressSet): boolean {
  const space = publicSpaceSize(addresses.family);
  // A set smaller than half the space cannot hold half of it: most ipBlocks stop here.
  if (2n * addresses.size() < space) return false;
  return 2n * addresses.intersect(publicSpace(addresses.family)).size() >= space;
}

function shareOfPublic(addresses: AddressSet): string {
  const space = publicSpace(addresses.family);
  const open = addresses.intersect(space);
  if (open.covers(space)) return `every public ${FAMILY_NAME[addresses.family]} address`;
  const permille = Number((open.size() * 1000n) / publicSpaceSize(addresses.family));
  return `${(permille / 10).toFixed(1)}% of the public ${FAMILY_NAME[addresses.family]} addresses (at least half counts as anywhere, whatever is carved out)`;
}

/**
 * `anywhere`: for IPv4 or IPv6, at least half of the family's public addresses (see
 * isAnywhere). The finding names the field that says the most: one ipBlock that admits every
 * public address, else the list whose ipBlocks together do, else one ipBlock, else the list,
 * reaching the half.
 */
export function admitsAnywhere(rule: CompiledRule): Finding | undefined {
  if (rule.allPeers) return allPeersFinding(rule, 'every source and destination, inside the cluster and on the internet');
  // With fewer than two ipBlocks, their union is the single one already tried: no set built.
  const several = rule.peers.filter((p) => p.kind === 'ipBlock').length > 1;
  for (const whole of [true, false]) {
    for (const family of [4, 6] as const) {
      const space = publicSpace(family);
      const enough = (set: AddressSet): boolean => (whole ? set.covers(space) : isAnywhere(set));
      const single = rule.peers.find((p) => p.kind === 'ipBlock' && enough(p.addresses![family]));
      if (single) {
        return { path: `${single.path}.ipBlock`, reason: `admits ${shareOfPublic(single.addresses![family])} (anywhere on the internet)` };
      }
      if (!several) continue;
      const all = addressesOf(rule.peers, family);
      if (enough(all)) {
        const parts = rule.peers.filter((p) => p.kind === 'ipBlock' && !p.addresses![family].intersect(space).isEmpty());
        const names = parts.slice(0, 5).map((p) => p.path.slice(p.path.lastIndexOf('.') + 1));
        const more = parts.length > names.length ? ` and ${parts.length - names.length} more` : '';
        return {
          path: rule.peersPath,
          reason: `its ipBlocks (${names.join(', ')}${more}) together admit ${shareOfPublic(all)} (anywhere on the internet)`,
        };
      }
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

const freshNames = new WeakMap<CompiledSelector, string>();

/**
 * A name the selector does not mention for the name label: it stands for a namespace created
 * tomorrow. Remembered per selector: several classes ask, and a selector may list 100,000 names.
 */
function freshNamespaceName(selector: CompiledSelector): string {
  let name = freshNames.get(selector);
  if (name === undefined) {
    const mentioned = new Set<string>();
    for (const r of selector.requirements) if (r.key === NAMESPACE_NAME_LABEL) for (const v of r.values) mentioned.add(v);
    name = 'a-namespace-created-later';
    // Each try rules out one mentioned name, so this ends within (mentioned names + 1) tries.
    for (let i = 0; mentioned.has(name); i++) name = `a-namespace-created-later-${i}`;
    freshNames.set(selector, name);
  }
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
    // Candidates: the namespaces that exist, and those the selector names (created later). A
    // selector with `In` on the name label can only match the names it lists: then those alone
    // are tried, not every namespace of the cluster for each of thousands of peers.
    const candidates = new Map<string, Readonly<Record<string, string>>>();
    const named = selector.requirements.find((r) => r.key === NAMESPACE_NAME_LABEL && r.operator === 'In');
    if (named) {
      for (const name of named.values) candidates.set(name, index?.namespace(name).labels ?? { [NAMESPACE_NAME_LABEL]: name });
    } else {
      for (const ns of index?.namespaces() ?? []) candidates.set(ns.name, ns.labels);
    }
    const others = [...candidates].filter(([name, labels]) => name !== ownNamespace && selector.matches(labels)).map(([name]) => name);
    if (others.length > 0) {
      return { path: `${peer.path}.namespaceSelector`, reason: `admits pods in other namespaces (${others.sort().slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''})` };
    }
  }
  return undefined;
}

/**
 * Answers that depend on the rule alone, remembered per compiled rule: the cluster's policies
 * stay compiled in the PolicyIndex, and every Pod review in their namespace asks them again.
 */
const ruleOnly = new WeakMap<CompiledRule, Map<PeerClass, Finding | undefined>>();

function remembered(rule: CompiledRule, peerClass: PeerClass, answer: (rule: CompiledRule) => Finding | undefined): Finding | undefined {
  let answers = ruleOnly.get(rule);
  if (!answers) ruleOnly.set(rule, (answers = new Map()));
  if (!answers.has(peerClass)) answers.set(peerClass, answer(rule));
  return answers.get(peerClass);
}

export function admitsClass(rule: CompiledRule, peerClass: PeerClass, ownNamespace: string, index?: PolicyIndex): Finding | undefined {
  switch (peerClass) {
    case 'anywhere':
      return remembered(rule, peerClass, admitsAnywhere);
    case 'internet':
      return remembered(rule, peerClass, admitsInternet);
    case 'allNamespaces':
      return remembered(rule, peerClass, admitsAllNamespaces);
    case 'otherNamespaces':
      // Depends on the namespaces that exist: asked anew each time.
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

/** How a policy's podSelector reaches a tier: it selects the whole tier, only pods of the tier, or an existing pod of it. */
export type TierReach = { reaches: false } | { reaches: true; how: 'whole' | 'within' } | { reaches: true; how: 'pod'; pod: string };

/**
 * Whether a policy's podSelector reaches a tier: it selects every pod the tier selects
 * (`whole`), or it selects only pods of the tier and can select some (`within`: a podSelector
 * `{tier: data, app: postgres}` reaches tier data before any such pod exists), or it selects
 * an existing pod of the tier in the namespace (`pod`).
 */
export function reachesTier(policy: CompiledPolicy, tier: CompiledSelector, findPod: PodLookup): TierReach {
  // Subsumption depends on the selectors only, so it is remembered on the compiled policy;
  // the pod lookup is not: pods come and go while a policy stays the same.
  let how = policy.subsumesTier.get(tier);
  if (how === undefined) {
    how = subsumes(policy.podSelector, tier) ? 'whole' : subsumes(tier, policy.podSelector) && !selectsNothing(policy.podSelector) ? 'within' : 'none';
    policy.subsumesTier.set(tier, how);
  }
  if (how !== 'none') return { reaches: true, how };
  const pod = findPod(tier, policy.podSelector);
  return pod ? { reaches: true, how: 'pod', pod: pod.name } : { reaches: false };
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
