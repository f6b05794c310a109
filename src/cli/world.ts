import { loadClusterInput, overlay, prepareObjects } from '../cluster/input.ts';
import { loadManifests, type ManifestObject } from '../cluster/manifests.ts';
import { StaticClusterView } from '../cluster/static.ts';
import type { ParsedCommand } from './io.ts';

/** What a command answers about. */
export interface World {
  /** The objects of the files (what `check` judges). */
  files: ManifestObject[];
  /** The objects read from a cluster (empty offline). */
  live: ManifestObject[];
  /** The files, applied over the cluster when there is one. */
  view: StaticClusterView;
  /** Where the view comes from, for the output. */
  origin: string;
}

/**
 * The files, or the live cluster with the files applied on top (the files replace the live
 * objects of the same kind, namespace and name). The cluster client is imported only when a
 * cluster is asked for, so that the offline commands start fast.
 */
export async function loadWorld(parsed: ParsedCommand<string>): Promise<World> {
  if (parsed.kubeconfig === undefined) {
    const { objects, view } = loadClusterInput(parsed.files);
    return { files: objects, live: [], view, origin: `manifests ${parsed.files.join(', ')}` };
  }
  const files = parsed.files.length ? prepareObjects(loadManifests(parsed.files)) : [];
  const { readCluster } = await import('./live.ts');
  const cluster = await readCluster(parsed.kubeconfig);
  const live = prepareObjects(cluster.objects);
  const origin = `${cluster.origin}${parsed.files.length ? ` with ${parsed.files.join(', ')} applied` : ''}`;
  return { files, live, view: new StaticClusterView(overlay(live, files), origin), origin };
}
