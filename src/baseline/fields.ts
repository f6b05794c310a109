import { isObject } from '../k8s/types.ts';

// Field comparison for baseline objects of any kind. A template states the fields netfence
// keeps; the API server fills in defaults and other tools add fields of their own, so the
// stored object is compared with the template as a superset, as server-side apply treats the
// fields a manager set: what the template sets must be there as written, the rest is not
// netfence's business. A field the template sets to null must be absent (as in a JSON merge
// patch, where null deletes).

/**
 * The path of the first field the template sets that the stored object does not have as
 * written (`spec.mtls.mode`), or undefined when every one of them is in place. Lists are
 * compared element by element and must have the same length (a list is one value, as in a
 * merge patch); an empty list or mapping in the template matches an absent field, since the
 * API server drops empty optional fields.
 */
export function firstDifference(desired: unknown, actual: unknown, path = ''): string | undefined {
  if (desired === null) return actual === undefined || actual === null ? undefined : path || '(root)';
  if (Array.isArray(desired)) {
    if (actual === undefined && desired.length === 0) return undefined;
    if (!Array.isArray(actual) || actual.length !== desired.length) return path || '(root)';
    for (let i = 0; i < desired.length; i++) {
      const d = firstDifference(desired[i], actual[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (isObject(desired)) {
    if (actual === undefined && Object.keys(desired).length === 0) return undefined;
    if (!isObject(actual)) return path || '(root)';
    for (const [key, value] of Object.entries(desired)) {
      const d = firstDifference(value, actual[key], path ? `${path}.${key}` : key);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return desired === actual ? undefined : path || '(root)';
}

/** The template as it is sent on create: nulls (must be absent) dropped. */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutNulls) as T;
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = withoutNulls(v);
    return out as T;
  }
  return value;
}

/**
 * The JSON merge patch (RFC 7386) that turns `actual` into exactly `desired`: changed fields
 * set, fields only in `actual` set to null. Lists are replaced whole, as merge patches do.
 * Used where a whole value must match the template (a NetworkPolicy's spec: a rule added to a
 * default-deny changes what it means).
 */
export function mergePatchTo(actual: unknown, desired: unknown): unknown {
  if (!isObject(actual) || !isObject(desired)) return desired;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(actual)) if (!(key in desired)) patch[key] = null;
  for (const [key, value] of Object.entries(desired)) {
    if (!(key in actual)) patch[key] = value;
    else if (JSON.stringify(actual[key]) !== JSON.stringify(value)) {
      patch[key] = isObject(actual[key]) && isObject(value) ? mergePatchTo(actual[key], value) : value;
    }
  }
  return patch;
}

/** Applies a JSON merge patch (RFC 7386), as the API server does; for tests and the write cache. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}
