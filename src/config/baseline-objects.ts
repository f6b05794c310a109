import { dnsSubdomainError } from '../k8s/names.ts';
import { isObject } from '../k8s/types.ts';
import { fieldPath, type FieldError } from '../util/field-errors.ts';
import type { BaselineObject } from './types.ts';

const API_VERSION = /^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?v[1-9][0-9]*(?:(?:alpha|beta)[1-9][0-9]*)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;
/** Fields the API server owns or sets per object: a template may not set them. */
const SERVER_FIELDS = ['status'];
const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** The API group of an apiVersion: '' for the core group (`v1`). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * Reads `baseline.objects`: namespaced objects of any kind, written as in a manifest without a
 * namespace. Which kinds the API server serves, and whether netfence may watch them, is checked
 * at start against the cluster (the config alone cannot tell).
 */
export function readBaselineObjects(
  value: unknown,
  errors: FieldError[],
  stringMap: (value: unknown, path: string, errors: FieldError[], labels: boolean) => Record<string, string>,
): BaselineObject[] | undefined {
  if (value === undefined || value === null) return undefined;
  const base = 'baseline.objects';
  if (!Array.isArray(value)) {
    errors.push({ path: base, message: 'must be a list of objects, each with apiVersion, kind, metadata.name and its body (spec, …)' });
    return [];
  }
  const out: BaselineObject[] = [];
  const seen = new Set<string>();
  value.forEach((o, i) => {
    const path = fieldPath(base, i);
    if (!isObject(o)) {
      errors.push({ path, message: 'must be a mapping with apiVersion, kind, metadata.name and the body' });
      return;
    }
    const before = errors.length;
    const { apiVersion, kind, metadata } = o;
    if (typeof apiVersion !== 'string' || !API_VERSION.test(apiVersion)) {
      errors.push({ path: fieldPath(path, 'apiVersion'), message: `${JSON.stringify(apiVersion)}: must be GROUP/VERSION (e.g. security.istio.io/v1) or v1 for the core group` });
    }
    if (typeof kind !== 'string' || !KIND.test(kind)) {
      errors.push({ path: fieldPath(path, 'kind'), message: `${JSON.stringify(kind)}: must be a kind as the API serves it, e.g. PeerAuthentication` });
    }
    if (typeof apiVersion === 'string' && groupOf(apiVersion) === 'networking.k8s.io' && kind === 'NetworkPolicy') {
      errors.push({ path: fieldPath(path, 'kind'), message: 'NetworkPolicies go under baseline.policies (as {name, spec}), where their specs are validated as the API server would' });
    }
    for (const f of SERVER_FIELDS) {
      if (f in o) errors.push({ path: fieldPath(path, f), message: 'set by the API server and controllers, not by a template: remove it' });
    }
    let name = '';
    const meta: BaselineObject['metadata'] = { name };
    if (!isObject(metadata)) {
      errors.push({ path: fieldPath(path, 'metadata'), message: 'required: a mapping with name (and optionally labels, annotations)' });
    } else {
      const mpath = fieldPath(path, 'metadata');
      for (const key of Object.keys(metadata)) {
        if (key === 'namespace') {
          errors.push({ path: fieldPath(mpath, key), message: 'remove it: netfence puts the object in every baseline namespace' });
        } else if (!['name', 'labels', 'annotations'].includes(key)) {
          errors.push({ path: fieldPath(mpath, key), message: 'unknown field; known fields here: name, labels, annotations' });
        }
      }
      if (typeof metadata.name !== 'string') {
        errors.push({ path: fieldPath(mpath, 'name'), message: 'required: the name of the object in each namespace' });
      } else {
        name = metadata.name;
        meta.name = name;
        const problem = dnsSubdomainError(name);
        if (problem) errors.push({ path: fieldPath(mpath, 'name'), message: problem });
      }
      if (metadata.labels !== undefined) {
        meta.labels = stringMap(metadata.labels, fieldPath(mpath, 'labels'), errors, true);
        const managedBy = meta.labels[MANAGED_BY_LABEL];
        if (managedBy !== undefined && managedBy !== 'netfence') {
          errors.push({ path: fieldPath(fieldPath(mpath, 'labels'), MANAGED_BY_LABEL), message: `netfence sets it to netfence on the objects it keeps; remove it or set it to netfence` });
        }
      }
      if (metadata.annotations !== undefined) meta.annotations = stringMap(metadata.annotations, fieldPath(mpath, 'annotations'), errors, false);
    }
    if (errors.length !== before) return;
    const key = `${groupOf(apiVersion as string)}/${kind as string}/${name}`;
    if (seen.has(key)) {
      errors.push({ path: fieldPath(fieldPath(path, 'metadata'), 'name'), message: `duplicate: another ${kind as string} of the same API group is named ${name}` });
      return;
    }
    seen.add(key);
    out.push({ ...structuredClone(o), apiVersion: apiVersion as string, kind: kind as string, metadata: meta });
  });
  return out;
}
