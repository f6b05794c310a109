import { objectKey } from '../cluster/input.ts';
import type { ManifestObject } from '../cluster/manifests.ts';
import { withBaseline } from '../baseline/mutate.ts';
import { baselineTemplates, desiredObject, wantsBaseline } from '../baseline/plan.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { namespaceInfo } from '../k8s/objects.ts';
import type { KubeObject } from '../k8s/types.ts';

/**
 * Namespaces that exist before netfence is installed: admission never labelled them, so they
 * are managed only if they carry the baseline labels already.
 */
const PREEXISTING = new Set(['default']);

export interface AssumedBaseline {
  /** The objects the view should hold: Namespaces as admission leaves them, plus the baseline policies. */
  objects: ManifestObject[];
  /** Managed namespaces, by name. */
  namespaces: string[];
  /** The baseline policies added, as namespace/name. */
  added: string[];
}

const ASSUMED = (what: string): ManifestObject['source'] => ({ file: `(assumed: ${what})`, document: 1, path: '' });

/**
 * The cluster `check` judges against, when netfence runs there: every namespace created while
 * it runs gets the baseline labels on CREATE (a Namespace in the files, or one the files only
 * refer to), and the reconciler keeps the baseline policies in every namespace that carries
 * them. Policies of the same name already in the files or the cluster are left as they are.
 *
 * `live` are objects read from a cluster (they exist: no CREATE, their labels are as stored);
 * `files` are the objects about to be created.
 */
export function assumeBaseline(live: readonly ManifestObject[], files: readonly ManifestObject[], config: NetfenceConfig, netfenceNamespace: string): AssumedBaseline {
  const liveKeys = new Set(live.map((m) => objectKey(m.object)));
  const namespaces = new Map<string, ManifestObject>();
  const policies = new Set<string>();
  const referenced = new Set<string>();
  const objects: ManifestObject[] = [];
  for (const m of [...live, ...files]) {
    const { object } = m;
    if (object.kind === 'Namespace') {
      const name = object.metadata?.name ?? '';
      const created = !liveKeys.has(objectKey(object));
      namespaces.set(name, created ? { object: withBaseline(object, config.baseline), source: m.source } : m);
      continue;
    }
    const ns = object.metadata?.namespace || 'default';
    referenced.add(ns);
    if (object.kind === 'NetworkPolicy') policies.add(`${ns}/${object.metadata?.name ?? ''}`);
    objects.push(m);
  }
  for (const name of referenced) {
    if (namespaces.has(name)) continue;
    // Referred to but not given: it is created (and labelled) like any namespace, unless it
    // predates netfence.
    const bare: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
    namespaces.set(name, { object: PREEXISTING.has(name) ? bare : withBaseline(bare, config.baseline), source: ASSUMED('namespace') });
  }
  const managed: string[] = [];
  const added: string[] = [];
  for (const [name, ns] of [...namespaces].sort(([a], [b]) => a.localeCompare(b))) {
    objects.push(ns);
    if (!wantsBaseline(namespaceInfo(ns.object), config, netfenceNamespace)) continue;
    managed.push(name);
    // Only the NetworkPolicies matter to the rules; baseline objects of other kinds do not.
    for (const template of baselineTemplates(config).filter((t) => t.group === 'networking.k8s.io' && t.kind === 'NetworkPolicy')) {
      if (policies.has(`${name}/${template.name}`)) continue;
      objects.push({ object: desiredObject(name, template), source: ASSUMED('baseline policy') });
      added.push(`${name}/${template.name}`);
    }
  }
  return { objects, namespaces: managed, added };
}
