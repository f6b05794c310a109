import type { BaselinePolicy, NetfenceConfig } from '../config/types.ts';
import type { NamespaceInfo, NetworkPolicy, NetworkPolicySpec } from '../k8s/types.ts';
import { affectedDirections } from '../netpol/policy.ts';
import { hasBaselineLabels } from '../rules/default-deny.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'netfence';

/** What the reconciler must do about one baseline policy. */
export type Action =
  | { kind: 'create'; name: string; policy: NetworkPolicy }
  | { kind: 'update'; name: string; policy: NetworkPolicy; reason: 'spec' | 'labels' }
  | { kind: 'skip'; name: string; reason: string };

/** Whether netfence keeps baseline policies in this namespace. */
export function wantsBaseline(namespace: NamespaceInfo, config: NetfenceConfig, netfenceNamespace: string): boolean {
  if (namespace.terminating) return false;
  if (namespace.name === netfenceNamespace || config.excludedNamespaces.includes(namespace.name)) return false;
  return config.baseline.policies.length > 0 && hasBaselineLabels(namespace, config.baseline.labels);
}

/** The policy as netfence creates it. */
export function desiredPolicy(namespace: string, template: BaselinePolicy): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: template.name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    spec: structuredClone(template.spec),
  };
}

/**
 * A spec with the API server's defaults applied (policyTypes, protocol TCP) and empty lists
 * dropped, so that a template and the object the API server stored from it compare equal.
 */
export function normalizeSpec(spec: NetworkPolicySpec): unknown {
  const directions = affectedDirections(spec);
  const ports = (list: NetworkPolicySpec['ingress']) =>
    (list ?? []).map((rule) => {
      const r = (rule ?? {}) as Record<string, unknown>;
      const peers = (r.from ?? r.to ?? []) as unknown[];
      const portList = ((r.ports ?? []) as Array<Record<string, unknown>>).map((p) => ({ protocol: 'TCP', ...p }));
      return { peers, ports: portList };
    });
  return canonical({
    podSelector: spec.podSelector ?? {},
    policyTypes: (['Ingress', 'Egress'] as const).filter((d) => directions[d]),
    ingress: ports(spec.ingress),
    egress: ports(spec.egress as NetworkPolicySpec['ingress']),
  });
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || v === null) continue;
      if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 && key !== 'podSelector' && key !== 'namespaceSelector') continue;
      out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

export function sameSpec(a: NetworkPolicySpec, b: NetworkPolicySpec): boolean {
  return JSON.stringify(normalizeSpec(a)) === JSON.stringify(normalizeSpec(b));
}

/**
 * Desired against actual, for one namespace: create what is missing, restore what was edited,
 * and leave alone a policy of the same name that netfence does not manage (someone else's
 * object: touching it would be worse than reporting it).
 */
export function planNamespace(namespace: string, config: NetfenceConfig, actual: ReadonlyMap<string, NetworkPolicy | undefined>): Action[] {
  return config.baseline.policies.map((template): Action => {
    const want = desiredPolicy(namespace, template);
    const have = actual.get(template.name);
    if (!have) return { kind: 'create', name: template.name, policy: want };
    const labels = have.metadata.labels ?? {};
    if (labels[MANAGED_BY_LABEL] !== undefined && labels[MANAGED_BY_LABEL] !== MANAGED_BY) {
      return { kind: 'skip', name: template.name, reason: `a NetworkPolicy of that name is managed by ${labels[MANAGED_BY_LABEL]}` };
    }
    const specOk = sameSpec(have.spec, want.spec);
    const labelOk = labels[MANAGED_BY_LABEL] === MANAGED_BY;
    if (specOk && labelOk) return { kind: 'skip', name: template.name, reason: 'in place' };
    const policy: NetworkPolicy = {
      ...want,
      metadata: {
        ...have.metadata,
        name: template.name,
        namespace,
        labels: { ...labels, [MANAGED_BY_LABEL]: MANAGED_BY },
      },
    };
    return { kind: 'update', name: template.name, policy, reason: specOk ? 'labels' : 'spec' };
  });
}
