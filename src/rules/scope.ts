import type { AdmissionContext } from '../admission/context.ts';
import type { Mode } from '../config/types.ts';

/**
 * The enforcement scope. Installing netfence must change nothing for namespaces that already
 * run workloads: a namespace is *adopted* when it carries the baseline labels, and only
 * adopted namespaces are enforced. Every other namespace is judged with every rule in audit
 * mode: its violations are recorded, marked with why they were downgraded, and never denied
 * nor warned about. New namespaces get the labels from the mutating webhook at CREATE, so
 * they are adopted from their first second; existing ones are adopted by labelling them
 * (`netfence adopt` or `kubectl label`).
 */

/** Why a violation was recorded in audit mode instead of its configured mode. */
export const NOT_ADOPTED = 'namespace-not-adopted' as const;

export interface Scope {
  adopted: boolean;
  /** In words, for logs and the adopt command. */
  reason: string;
}

/**
 * Whether the request's namespace is adopted, from the request and the cluster view only.
 * - A Namespace CREATE is a new namespace: adopted (the mutating webhook labels it).
 * - A Namespace UPDATE or DELETE: adopted when the stored object (oldObject) carries the
 *   baseline labels, so labelling a namespace adopts it and removing the labels of an
 *   adopted one is judged under enforcement.
 * - An object in a namespace the cluster view has never seen: adopted. The view lists every
 *   namespace before netfence reports ready, so such a namespace was created after netfence
 *   was serving, and got the labels at its CREATE.
 * - With no baseline labels configured there is no way to tell: every namespace is adopted.
 */
export function scopeOf(ctx: Pick<AdmissionContext, 'request' | 'config' | 'cluster'>, namespace: string | undefined): Scope {
  const labels = ctx.config.baseline.labels;
  if (namespace === undefined) return { adopted: true, reason: 'cluster-scoped object' };
  if (Object.keys(labels).length === 0) return { adopted: true, reason: 'no baseline labels are configured: every namespace is enforced' };
  const { request } = ctx;
  if (request.kind.group === '' && request.kind.kind === 'Namespace') {
    if (request.operation === 'CREATE') return { adopted: true, reason: 'a new namespace is adopted at its creation' };
    const stored = request.oldObject?.metadata?.labels;
    if (stored) return labelled(hasLabels(stored, labels), namespace, labels);
  }
  const known = ctx.cluster.namespace(namespace);
  if (!known) return { adopted: true, reason: `namespace ${namespace} was created after netfence started` };
  return labelled(hasLabels(known.labels, labels), namespace, labels);
}

function hasLabels(actual: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  return Object.entries(wanted).every(([k, v]) => actual[k] === v);
}

function labelled(adopted: boolean, namespace: string, labels: Readonly<Record<string, string>>): Scope {
  const text = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ');
  return adopted
    ? { adopted: true, reason: `namespace ${namespace} carries the baseline labels (${text})` }
    : { adopted: false, reason: `namespace ${namespace} is not adopted (it lacks the baseline labels ${text}): violations are recorded in audit mode, never denied` };
}

/** The mode a rule is applied with in a namespace of this scope. */
export function effectiveMode(configured: Mode, scope: Scope): Mode {
  return scope.adopted ? configured : 'audit';
}
