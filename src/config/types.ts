import type { LabelSelector, NetworkPolicySpec, PolicyType } from '../k8s/types.ts';

export const CONFIG_API_VERSION = 'netfence.io/v1alpha1';
export const CONFIG_KIND = 'NetfenceConfig';

/** enforce: deny; warn: allow with an AdmissionResponse warning; audit: only log. */
export type Mode = 'enforce' | 'warn' | 'audit';
export const MODES: readonly Mode[] = ['enforce', 'warn', 'audit'];

/** The classes of peers a rule can admit, as docs/concepts.md defines them. */
export type PeerClass = 'anywhere' | 'internet' | 'allNamespaces' | 'otherNamespaces';
export const PEER_CLASSES: readonly PeerClass[] = ['anywhere', 'internet', 'allNamespaces', 'otherNamespaces'];

interface RuleBase {
  id: string;
  mode: Mode;
}

export interface RequireDefaultDenyRule extends RuleBase {
  type: 'requireDefaultDeny';
  directions: PolicyType[];
}

export interface ForbidIngressFromRule extends RuleBase {
  type: 'forbidIngressFrom';
  tier: string;
  sources: PeerClass[];
}

export interface ForbidEgressToRule extends RuleBase {
  type: 'forbidEgressTo';
  tier: string;
  destinations: PeerClass[];
}

/** One allowed source of restrictIngressSources: pods of a tier, optionally only in some namespaces. */
export interface AllowedSource {
  tier?: string;
  namespaces?: string[];
}

export interface RestrictIngressSourcesRule extends RuleBase {
  type: 'restrictIngressSources';
  tier: string;
  allow: AllowedSource[];
}

export interface RequirePortsRule extends RuleBase {
  type: 'requirePorts';
  tier?: string;
}

export type Rule =
  | RequireDefaultDenyRule
  | ForbidIngressFromRule
  | ForbidEgressToRule
  | RestrictIngressSourcesRule
  | RequirePortsRule;

export type RuleType = Rule['type'];
export const RULE_TYPES: readonly RuleType[] = [
  'requireDefaultDeny',
  'forbidIngressFrom',
  'forbidEgressTo',
  'restrictIngressSources',
  'requirePorts',
];

export interface Exemption {
  id: string;
  namespaces: string[];
  rules: string[];
  reason: string;
  /** RFC 3339; once passed, the exemption no longer applies. */
  expires?: string;
}

export interface BaselinePolicy {
  name: string;
  spec: NetworkPolicySpec;
}

/**
 * A namespaced object of any kind kept in every baseline namespace, written as in a manifest
 * without a namespace: `apiVersion`, `kind`, `metadata` (name, labels, annotations) and the
 * body (`spec`, `data`, …). The fields it sets are kept as written; fields the API server or
 * others add are left alone; a field set to null is kept absent.
 */
export interface BaselineObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface Baseline {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  policies: BaselinePolicy[];
  /** Present only when configured, so that configs without it keep their hash. */
  objects?: BaselineObject[];
}

export interface DecisionLogSettings {
  /** Log allow decisions too (denials and warnings are always logged). */
  logAllowed: boolean;
}

export interface NetfenceConfig {
  apiVersion: typeof CONFIG_API_VERSION;
  kind: typeof CONFIG_KIND;
  excludedNamespaces: string[];
  tiers: Record<string, LabelSelector>;
  baseline: Baseline;
  rules: Rule[];
  exemptions: Exemption[];
  decisionLog: DecisionLogSettings;
}
