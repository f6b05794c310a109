import { dnsLabelError, dnsSubdomainError, labelKeyError, labelValueError } from '../k8s/names.ts';
import { isObject, type LabelSelector, type NetworkPolicySpec, type PolicyType } from '../k8s/types.ts';
import { validateLabelSelector } from '../netpol/selector.ts';
import { validateNetworkPolicySpec } from '../netpol/validate.ts';
import { fieldPath, type FieldError } from '../util/field-errors.ts';
import { readBaselineObjects } from './baseline-objects.ts';
import {
  CONFIG_API_VERSION,
  CONFIG_KIND,
  MODES,
  PEER_CLASSES,
  RULE_TYPES,
  type AllowedSource,
  type Baseline,
  type Exemption,
  type Mode,
  type NetfenceConfig,
  type PeerClass,
  type Rule,
} from './types.ts';

export type ConfigResult = { ok: true; config: NetfenceConfig } | { ok: false; errors: FieldError[] };

const TOP_LEVEL = ['apiVersion', 'kind', 'excludedNamespaces', 'tiers', 'baseline', 'rules', 'exemptions', 'decisionLog'];

/**
 * Validates a complete config document and returns it typed, or every error with its path.
 * Here sections left out are empty: a file is first completed from the built-in config
 * (merge.ts, called by load.ts). Unknown fields are errors, because a misspelt field that is
 * silently ignored is a guardrail that silently does not exist.
 */
export function validateConfig(raw: unknown): ConfigResult {
  const errors: FieldError[] = [];
  if (!isObject(raw)) {
    return { ok: false, errors: [{ path: '', message: `expected a ${CONFIG_KIND} mapping` }] };
  }
  unknownFields(raw, '', TOP_LEVEL, errors);
  if (raw.apiVersion !== CONFIG_API_VERSION) {
    errors.push({ path: 'apiVersion', message: `must be ${CONFIG_API_VERSION}, got ${JSON.stringify(raw.apiVersion)}` });
  }
  if (raw.kind !== CONFIG_KIND) {
    errors.push({ path: 'kind', message: `must be ${CONFIG_KIND}, got ${JSON.stringify(raw.kind)}` });
  }
  const excludedNamespaces = stringList(raw.excludedNamespaces, 'excludedNamespaces', errors, dnsLabelError);
  const tiers = readTiers(raw.tiers, errors);
  const baseline = readBaseline(raw.baseline, errors);
  // References are checked against every name declared, valid or not, so that one mistake
  // is reported once, where it is, and not again at every place that refers to it.
  const declaredTiers = new Set(isObject(raw.tiers) ? Object.keys(raw.tiers) : []);
  const rules = readRules(raw.rules, declaredTiers, errors);
  const declaredRules = new Set(
    Array.isArray(raw.rules) ? raw.rules.flatMap((r) => (isObject(r) && typeof r.id === 'string' ? [r.id] : [])) : [],
  );
  const exemptions = readExemptions(raw.exemptions, declaredRules, errors);
  const decisionLog = { logAllowed: false };
  if (raw.decisionLog !== undefined && raw.decisionLog !== null) {
    if (!isObject(raw.decisionLog)) {
      errors.push({ path: 'decisionLog', message: 'must be a mapping' });
    } else {
      unknownFields(raw.decisionLog, 'decisionLog', ['logAllowed'], errors);
      const v = raw.decisionLog.logAllowed;
      if (v !== undefined && typeof v !== 'boolean') {
        errors.push({ path: 'decisionLog.logAllowed', message: 'must be true or false' });
      } else if (v !== undefined) {
        decisionLog.logAllowed = v;
      }
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      apiVersion: CONFIG_API_VERSION,
      kind: CONFIG_KIND,
      excludedNamespaces,
      tiers,
      baseline,
      rules,
      exemptions,
      decisionLog,
    },
  };
}

function unknownFields(obj: Record<string, unknown>, path: string, known: readonly string[], errors: FieldError[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      errors.push({ path: fieldPath(path, key), message: `unknown field; known fields here: ${known.join(', ')}` });
    }
  }
}

function stringList(
  value: unknown,
  path: string,
  errors: FieldError[],
  check?: (s: string) => string | undefined,
): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.push({ path, message: 'must be a list of strings' });
    return [];
  }
  const out: string[] = [];
  value.forEach((v, i) => {
    if (typeof v !== 'string') {
      errors.push({ path: fieldPath(path, i), message: 'must be a string' });
      return;
    }
    const problem = check?.(v);
    if (problem) errors.push({ path: fieldPath(path, i), message: `${JSON.stringify(v)}: ${problem}` });
    out.push(v);
  });
  return out;
}

function stringMap(value: unknown, path: string, errors: FieldError[], labels: boolean): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) {
    errors.push({ path, message: 'must be a map of strings' });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    const keyError = labelKeyError(k);
    if (keyError) errors.push({ path: fieldPath(path, k), message: `invalid key: ${keyError}` });
    if (typeof v !== 'string') {
      errors.push({ path: fieldPath(path, k), message: 'must be a string (quote numbers and booleans)' });
      continue;
    }
    const valueError = labels ? labelValueError(v) : undefined;
    if (valueError) errors.push({ path: fieldPath(path, k), message: `invalid label value: ${valueError}` });
    out[k] = v;
  }
  return out;
}

function readTiers(value: unknown, errors: FieldError[]): Record<string, LabelSelector> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) {
    errors.push({ path: 'tiers', message: 'must be a map of tier names to label selectors' });
    return {};
  }
  const tiers: Record<string, LabelSelector> = {};
  for (const [name, selector] of Object.entries(value)) {
    const path = fieldPath('tiers', name);
    const before = errors.length;
    validateLabelSelector(selector, path, errors);
    if (!isObject(selector) || (!selector.matchLabels && !selector.matchExpressions)) {
      if (errors.length === before) {
        errors.push({ path, message: 'a tier needs matchLabels or matchExpressions: an empty selector would make every pod part of it' });
      }
      continue;
    }
    tiers[name] = selector as LabelSelector;
  }
  return tiers;
}

function readBaseline(value: unknown, errors: FieldError[]): Baseline {
  const baseline: Baseline = { labels: {}, annotations: {}, policies: [] };
  if (value === undefined || value === null) return baseline;
  if (!isObject(value)) {
    errors.push({ path: 'baseline', message: 'must be a mapping with labels, annotations, policies and objects' });
    return baseline;
  }
  unknownFields(value, 'baseline', ['labels', 'annotations', 'policies', 'objects'], errors);
  baseline.labels = stringMap(value.labels, 'baseline.labels', errors, true);
  baseline.annotations = stringMap(value.annotations, 'baseline.annotations', errors, false);
  const objects = readBaselineObjects(value.objects, errors, stringMap);
  if (objects) baseline.objects = objects;
  if (value.policies === undefined || value.policies === null) return baseline;
  if (!Array.isArray(value.policies)) {
    errors.push({ path: 'baseline.policies', message: 'must be a list of {name, spec}' });
    return baseline;
  }
  const names = new Set<string>();
  value.policies.forEach((p, i) => {
    const path = fieldPath('baseline.policies', i);
    if (!isObject(p)) {
      errors.push({ path, message: 'must be a mapping with name and spec' });
      return;
    }
    unknownFields(p, path, ['name', 'spec'], errors);
    if (typeof p.name !== 'string') {
      errors.push({ path: fieldPath(path, 'name'), message: 'required: the NetworkPolicy name' });
      return;
    }
    const nameError = dnsSubdomainError(p.name);
    if (nameError) errors.push({ path: fieldPath(path, 'name'), message: nameError });
    if (names.has(p.name)) errors.push({ path: fieldPath(path, 'name'), message: `duplicate policy name ${p.name}` });
    names.add(p.name);
    validateNetworkPolicySpec(p.spec, fieldPath(path, 'spec'), errors);
    baseline.policies.push({ name: p.name, spec: p.spec as unknown as NetworkPolicySpec });
  });
  return baseline;
}

function readRules(value: unknown, tiers: ReadonlySet<string>, errors: FieldError[]): Rule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.push({ path: 'rules', message: 'must be a list of rules' });
    return [];
  }
  const rules: Rule[] = [];
  const ids = new Set<string>();
  value.forEach((r, i) => {
    const path = fieldPath('rules', i);
    if (!isObject(r)) {
      errors.push({ path, message: 'must be a mapping with id, type and mode' });
      return;
    }
    const before = errors.length;
    const id = typeof r.id === 'string' ? r.id : '';
    if (id === '') errors.push({ path: fieldPath(path, 'id'), message: 'required: a rule id (it names the rule in denials and logs)' });
    else if (dnsLabelError(id)) errors.push({ path: fieldPath(path, 'id'), message: `${JSON.stringify(id)}: ${dnsLabelError(id)}` });
    else if (ids.has(id)) errors.push({ path: fieldPath(path, 'id'), message: `duplicate rule id ${id}` });
    ids.add(id);
    const mode = r.mode === undefined ? 'enforce' : r.mode;
    if (!MODES.includes(mode as Mode)) {
      errors.push({ path: fieldPath(path, 'mode'), message: `${JSON.stringify(r.mode)}: use one of ${MODES.join(', ')}` });
    }
    const tier = (field: string, required: boolean): string | undefined => {
      const t = r[field];
      if (t === undefined && !required) return undefined;
      if (typeof t !== 'string' || !tiers.has(t)) {
        const known = tiers.size ? [...tiers].join(', ') : 'none defined';
        errors.push({ path: fieldPath(path, field), message: `${JSON.stringify(t)} is not a tier defined under tiers (known: ${known})` });
        return undefined;
      }
      return t;
    };
    const base = { id, mode: mode as Mode };
    switch (r.type) {
      case 'requireDefaultDeny': {
        unknownFields(r, path, ['id', 'type', 'mode', 'directions'], errors);
        const directions = r.directions === undefined ? ['Ingress', 'Egress'] : r.directions;
        if (!Array.isArray(directions) || directions.length === 0 || !directions.every((d) => d === 'Ingress' || d === 'Egress')) {
          errors.push({ path: fieldPath(path, 'directions'), message: 'must be a non-empty list of Ingress and/or Egress' });
        }
        if (errors.length === before) rules.push({ ...base, type: 'requireDefaultDeny', directions: [...new Set(directions as PolicyType[])] });
        break;
      }
      case 'forbidIngressFrom':
      case 'forbidEgressTo': {
        const listField = r.type === 'forbidIngressFrom' ? 'sources' : 'destinations';
        unknownFields(r, path, ['id', 'type', 'mode', 'tier', listField], errors);
        const t = tier('tier', true);
        const classes = r[listField];
        if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => PEER_CLASSES.includes(c as PeerClass))) {
          errors.push({ path: fieldPath(path, listField), message: `must be a non-empty list of ${PEER_CLASSES.join(', ')}` });
        }
        if (errors.length !== before || t === undefined) break;
        const list = [...new Set(classes as PeerClass[])];
        rules.push(
          r.type === 'forbidIngressFrom'
            ? { ...base, type: 'forbidIngressFrom', tier: t, sources: list }
            : { ...base, type: 'forbidEgressTo', tier: t, destinations: list },
        );
        break;
      }
      case 'restrictIngressSources': {
        unknownFields(r, path, ['id', 'type', 'mode', 'tier', 'allow'], errors);
        const t = tier('tier', true);
        const allow = readAllow(r.allow, fieldPath(path, 'allow'), tiers, errors);
        if (errors.length === before && t !== undefined) rules.push({ ...base, type: 'restrictIngressSources', tier: t, allow });
        break;
      }
      case 'requirePorts': {
        unknownFields(r, path, ['id', 'type', 'mode', 'tier'], errors);
        const t = tier('tier', false);
        if (errors.length === before) rules.push({ ...base, type: 'requirePorts', ...(t ? { tier: t } : {}) });
        break;
      }
      default:
        errors.push({ path: fieldPath(path, 'type'), message: `${JSON.stringify(r.type)} is not a rule type; use one of ${RULE_TYPES.join(', ')}` });
    }
  });
  return rules;
}

function readAllow(value: unknown, path: string, tiers: ReadonlySet<string>, errors: FieldError[]): AllowedSource[] {
  if (!Array.isArray(value) || value.length === 0) {
    errors.push({ path, message: 'must be a non-empty list of {tier} and/or {namespaces}' });
    return [];
  }
  const out: AllowedSource[] = [];
  value.forEach((a, i) => {
    const p = fieldPath(path, i);
    if (!isObject(a) || (a.tier === undefined && a.namespaces === undefined)) {
      errors.push({ path: p, message: 'must name a tier, namespaces, or both' });
      return;
    }
    unknownFields(a, p, ['tier', 'namespaces'], errors);
    const entry: AllowedSource = {};
    if (a.tier !== undefined) {
      if (typeof a.tier !== 'string' || !tiers.has(a.tier)) {
        errors.push({ path: fieldPath(p, 'tier'), message: `${JSON.stringify(a.tier)} is not a tier defined under tiers` });
      } else {
        entry.tier = a.tier;
      }
    }
    if (a.namespaces !== undefined) entry.namespaces = stringList(a.namespaces, fieldPath(p, 'namespaces'), errors, dnsLabelError);
    out.push(entry);
  });
  return out;
}

function readExemptions(value: unknown, ruleIds: ReadonlySet<string>, errors: FieldError[]): Exemption[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.push({ path: 'exemptions', message: 'must be a list of exemptions' });
    return [];
  }
  const out: Exemption[] = [];
  const ids = new Set<string>();
  value.forEach((e, i) => {
    const path = fieldPath('exemptions', i);
    if (!isObject(e)) {
      errors.push({ path, message: 'must be a mapping with id, namespaces, rules, reason and expires' });
      return;
    }
    unknownFields(e, path, ['id', 'namespaces', 'rules', 'reason', 'expires'], errors);
    if (typeof e.id !== 'string' || e.id === '') errors.push({ path: fieldPath(path, 'id'), message: 'required: an exemption id' });
    else if (ids.has(e.id)) errors.push({ path: fieldPath(path, 'id'), message: `duplicate exemption id ${e.id}` });
    ids.add(String(e.id));
    const namespaces = stringList(e.namespaces, fieldPath(path, 'namespaces'), errors, dnsLabelError);
    if (namespaces.length === 0) errors.push({ path: fieldPath(path, 'namespaces'), message: 'must list at least one namespace' });
    const rules = stringList(e.rules, fieldPath(path, 'rules'), errors, (id) =>
      ruleIds.has(id) ? undefined : `not a rule id defined under rules (known: ${[...ruleIds].join(', ') || 'none'})`,
    );
    if (rules.length === 0) errors.push({ path: fieldPath(path, 'rules'), message: 'must list at least one rule id' });
    if (typeof e.reason !== 'string' || e.reason.trim() === '') {
      errors.push({ path: fieldPath(path, 'reason'), message: 'required: auditors read why the exemption exists' });
    }
    let expires: string | undefined;
    if (e.expires !== undefined) {
      // YAML may parse an unquoted timestamp as a Date; accept both.
      const text = e.expires instanceof Date ? e.expires.toISOString() : e.expires;
      if (typeof text !== 'string' || !RFC3339.test(text) || Number.isNaN(Date.parse(text))) {
        errors.push({ path: fieldPath(path, 'expires'), message: 'must be an RFC 3339 time, e.g. "2027-01-31T00:00:00Z"' });
      } else {
        expires = text;
      }
    }
    out.push({ id: String(e.id), namespaces, rules, reason: String(e.reason ?? ''), ...(expires ? { expires } : {}) });
  });
  return out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
