import { validateNetworkPolicy } from '../netpol/validate.ts';
import { loadManifests, ManifestError, type ManifestObject } from './manifests.ts';
import { StaticClusterView } from './static.ts';

/**
 * Manifests given to the offline commands (check, reach, exposure): read, flattened, and
 * NetworkPolicies validated as the API server would, so that an answer is never given about a
 * policy a cluster would have refused. Throws ManifestError with file, document and field path.
 */
export function loadClusterInput(paths: readonly string[], origin = `manifests ${paths.join(', ')}`): { objects: ManifestObject[]; view: StaticClusterView } {
  const objects = loadManifests(paths);
  for (const { object, source } of objects) {
    if (object.kind !== 'NetworkPolicy') continue;
    const errors = validateNetworkPolicy(object);
    if (errors.length > 0) {
      const name = object.metadata?.name ? ` ${object.metadata.name}` : '';
      throw new ManifestError(
        source,
        `NetworkPolicy${name} would be refused by the API server:\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`,
      );
    }
  }
  return { objects, view: new StaticClusterView(objects, origin) };
}
