import type { NetfenceConfig } from '../config/types.ts';
import { groupOf } from '../config/baseline-objects.ts';
import type { KubeObject, NamespaceInfo, NetworkPolicySpec } from '../k8s/types.ts';
import { affectedDirections } from '../netpol/policy.ts';
import { hasBaselineLabels } from '../rules/default-deny.ts';
import { firstDifference, mergePatchTo, withoutNulls } from './fields.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'netfence';

/** One object netfence keeps in every baseline namespace: a baseline policy or a baseline object. */
export interface BaselineTemplate {
  /** `group/Kind/name` (`/ConfigMap/x` for the core group): the identity the reconciler and its caches use. */
  key: string;
  /** Where the config declares it, for messages: `baseline.objects[1]`. */
  source: string;
  apiVersion: string;
  group: string;
  kind: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  /** The top-level fields other than apiVersion, kind and metadata (spec, data, …), as written. */
  fields: Readonly<Record<string, unknown>>;
  /**
   * NetworkPolicies are compared whole (with the API server's defaults applied): a rule added
   * to a default-deny changes what it admits. Other kinds compare the template's fields as a
   * subset of the stored object.
   */
  exact: boolean;
}

export const templateKey = (group: string, kind: string, name: string): string => `${group}/${kind}/${name}`;

/** Every baseline template of the config: `baseline.policies`, then `baseline.objects`. */
export function baselineTemplates(config: NetfenceConfig): BaselineTemplate[] {
  const policies = config.baseline.policies.map(
    (p, i): BaselineTemplate => ({
      key: templateKey('networking.k8s.io', 'NetworkPolicy', p.name),
      source: `baseline.policies[${i}]`,
      apiVersion: 'networking.k8s.io/v1',
      group: 'networking.k8s.io',
      kind: 'NetworkPolicy',
      name: p.name,
      labels: {},
      annotations: {},
      fields: { spec: p.spec },
      exact: true,
    }),
  );
  const objects = (config.baseline.objects ?? []).map((o, i): BaselineTemplate => {
    const { apiVersion, kind, metadata, ...fields } = o;
    const group = groupOf(apiVersion);
    return {
      key: templateKey(group, kind, metadata.name),
      source: `baseline.objects[${i}]`,
      apiVersion,
      group,
      kind,
      name: metadata.name,
      labels: metadata.labels ?? {},
      annotations: metadata.annotations ?? {},
      fields,
      exact: false,
    };
  });
  return [...policies, ...objects];
}

/** What the reconciler must do about one baseline object in one namespace. */
export type Action =
  | { kind: 'create'; template: BaselineTemplate; object: KubeObject & { metadata: { name: string; namespace: string } } }
  /** A JSON merge patch carrying the stored resourceVersion, so that it applies only to what was compared. */
  | { kind: 'update'; template: BaselineTemplate; patch: Record<string, unknown>; field: string }
  | { kind: 'skip'; template: BaselineTemplate; reason: string };

/** Whether netfence keeps the baseline in this namespace. */
export function wantsBaseline(namespace: NamespaceInfo, config: NetfenceConfig, netfenceNamespace: string): boolean {
  if (namespace.terminating) return false;
  if (namespace.name === netfenceNamespace || config.excludedNamespaces.includes(namespace.name)) return false;
  const any = config.baseline.policies.length > 0 || (config.baseline.objects?.length ?? 0) > 0;
  return any && hasBaselineLabels(namespace, config.baseline.labels);
}

/** The object as netfence creates it in a namespace. */
export function desiredObject(namespace: string, t: BaselineTemplate): KubeObject & { metadata: { name: string; namespace: string } } {
  return {
    apiVersion: t.apiVersion,
    kind: t.kind,
    metadata: {
      name: t.name,
      namespace,
      labels: { ...t.labels, [MANAGED_BY_LABEL]: MANAGED_BY },
      ...(Object.keys(t.annotations).length > 0 ? { annotations: { ...t.annotations } } : {}),
    },
    ...withoutNulls(structuredClone(t.fields) as Record<string, unknown>),
  };
}

/**
 * A NetworkPolicy spec with the API server's defaults applied (policyTypes, protocol TCP) and
 * empty lists dropped, so that a template and the object stored from it compare equal.
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
 * Desired against actual for one object: create it when missing, patch back what was changed,
 * and leave alone an object of the same name that another tool manages (someone else's
 * object: touching it would be worse than reporting it).
 */
export function planObject(namespace: string, t: BaselineTemplate, actual: KubeObject | undefined): Action {
  if (!actual) return { kind: 'create', template: t, object: desiredObject(namespace, t) };
  const labels = actual.metadata?.labels ?? {};
  const manager = labels[MANAGED_BY_LABEL];
  if (manager !== undefined && manager !== MANAGED_BY) {
    return { kind: 'skip', template: t, reason: `a ${t.kind} of that name is managed by ${manager}` };
  }
  const patch: Record<string, unknown> = {};
  let field: string | undefined;
  if (t.exact) {
    const want = t.fields.spec as NetworkPolicySpec;
    const have = (actual.spec ?? {}) as NetworkPolicySpec;
    if (!sameSpec(have, want)) {
      field = 'spec';
      patch.spec = mergePatchTo(have, want);
    }
  } else {
    const { apiVersion: _a, kind: _k, metadata: _m, ...have } = actual;
    field = firstDifference(t.fields, have);
    if (field !== undefined) Object.assign(patch, structuredClone(t.fields));
  }
  const wantLabels = { ...t.labels, [MANAGED_BY_LABEL]: MANAGED_BY };
  const labelField = firstDifference(wantLabels, labels, 'metadata.labels');
  const annotationField = firstDifference(t.annotations, actual.metadata?.annotations ?? {}, 'metadata.annotations');
  field ??= labelField ?? annotationField;
  if (field === undefined) return { kind: 'skip', template: t, reason: 'in place' };
  patch.metadata = {
    // The patch applies only to the version compared: a change made since is a 409, and the
    // namespace is looked at again once the cache has that change.
    resourceVersion: actual.metadata?.resourceVersion,
    labels: wantLabels,
    ...(Object.keys(t.annotations).length > 0 ? { annotations: { ...t.annotations } } : {}),
  };
  return { kind: 'update', template: t, patch, field };
}

/** Every baseline object of one namespace; `actual` reads the cache by template key. */
export function planNamespace(namespace: string, templates: readonly BaselineTemplate[], actual: (t: BaselineTemplate) => KubeObject | undefined): Action[] {
  return templates.map((t) => planObject(namespace, t, actual(t)));
}
