import { isObject, type KubeObject } from '../k8s/types.ts';
import { validateNetworkPolicy } from '../netpol/validate.ts';
import { describeSource, loadManifests, ManifestError, type ManifestObject } from './manifests.ts';
import { StaticClusterView } from './static.ts';

/** Kinds without a namespace among those netfence reads. */
const CLUSTER_SCOPED = new Set(['Namespace']);

/** kind/namespace/name: what the API server keeps one object of. */
export function objectKey(object: KubeObject): string | undefined {
  const name = object.metadata?.name;
  if (typeof name !== 'string' || name === '') return undefined; // generateName: a new object each time
  const namespace = CLUSTER_SCOPED.has(object.kind ?? '') ? '' : object.metadata?.namespace || 'default';
  return `${object.kind}/${namespace}/${name}`;
}

/**
 * Fields the API server fills in before it stores (and before admission sees) an object, so
 * that a manifest means what it would mean in a cluster. A NetworkPolicy's spec and
 * spec.podSelector are optional: missing, they select every pod of the namespace.
 */
export function withDefaults(object: KubeObject): KubeObject {
  if (object.kind !== 'NetworkPolicy') return object;
  const spec = object.spec === undefined || object.spec === null ? {} : object.spec;
  if (!isObject(spec) || (spec.podSelector !== undefined && spec.podSelector !== null)) return spec === object.spec ? object : { ...object, spec };
  return { ...object, spec: { ...spec, podSelector: {} } };
}

/**
 * Defaults, validates and de-duplicates objects read from manifests. NetworkPolicies are
 * validated as the API server would, so that an answer is never given about a policy a cluster
 * would have refused; two objects of the same kind, namespace and name are refused (the API
 * server would keep only one, and which one depends on the order of apply). Throws
 * ManifestError with file, document and field path.
 */
export function prepareObjects(objects: readonly ManifestObject[]): ManifestObject[] {
  const seen = new Map<string, ManifestObject>();
  const out: ManifestObject[] = [];
  for (const entry of objects) {
    const object = withDefaults(entry.object);
    const { source } = entry;
    if (object.kind === 'NetworkPolicy') {
      const errors = validateNetworkPolicy(object);
      if (errors.length > 0) {
        const name = object.metadata?.name ? ` ${object.metadata.name}` : '';
        throw new ManifestError(
          source,
          `NetworkPolicy${name} would be refused by the API server:\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`,
        );
      }
    }
    const key = objectKey(object);
    if (key) {
      const first = seen.get(key);
      if (first) {
        const [kind, namespace, name] = key.split('/');
        throw new ManifestError(
          source,
          `${kind} ${namespace ? `${namespace}/` : ''}${name} is also defined at ${describeSource(first.source)}; a cluster keeps only one object of a kind, namespace and name: remove or rename one`,
        );
      }
      seen.set(key, { object, source });
    }
    out.push({ object, source });
  }
  return out;
}

/**
 * Objects read from a cluster, with the files' objects of the same kind, namespace and name
 * in their place: "what the cluster would hold if these files were applied now".
 */
export function overlay(base: readonly ManifestObject[], files: readonly ManifestObject[]): ManifestObject[] {
  const replaced = new Set(files.map((f) => objectKey(f.object)).filter((k) => k !== undefined));
  return [...base.filter((b) => !replaced.has(objectKey(b.object) ?? '')), ...files];
}

/**
 * Manifests given to the offline commands (check, reach, exposure) and `serve --snapshot`:
 * read, flattened, defaulted, validated and de-duplicated (prepareObjects).
 */
export function loadClusterInput(paths: readonly string[], origin = `manifests ${paths.join(', ')}`): { objects: ManifestObject[]; view: StaticClusterView } {
  const objects = prepareObjects(loadManifests(paths));
  return { objects, view: new StaticClusterView(objects, origin) };
}
