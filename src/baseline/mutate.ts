import { emptyVerdict, type AdmissionContext, type Verdict } from '../admission/context.ts';
import type { Baseline } from '../config/types.ts';
import type { KubeObject } from '../k8s/types.ts';

/**
 * The namespace with the baseline labels and annotations added where absent. A value the
 * creator set is never overwritten (the rules judge it); the input is never modified.
 */
export function withBaseline(namespace: KubeObject, baseline: Pick<Baseline, 'labels' | 'annotations'>): KubeObject {
  // Copies along the changed path only (the object, its metadata, the maps added to): the
  // rest is shared, read-only, so a namespace with a 3 MiB label map is not cloned whole.
  const metadata = { ...(namespace.metadata ?? {}) };
  const out: KubeObject = { ...namespace, metadata };
  for (const [field, wanted] of [['labels', baseline.labels], ['annotations', baseline.annotations]] as const) {
    const entries = Object.entries(wanted);
    if (entries.length === 0) continue;
    const current = { ...(metadata[field] ?? {}) };
    for (const [k, v] of entries) if (!Object.hasOwn(current, k)) current[k] = v;
    metadata[field] = current;
  }
  return out;
}

/** Namespace CREATE on /mutate. */
export function mutateNamespace(ctx: AdmissionContext): Verdict {
  const obj = ctx.request.object;
  if (!obj) return emptyVerdict();
  return { ...emptyVerdict(), mutated: withBaseline(obj, ctx.config.baseline) };
}
