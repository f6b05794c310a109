import { loadClusterInput } from '../cluster/input.ts';
import type { ManifestObject } from '../cluster/manifests.ts';
import type { StaticClusterView } from '../cluster/static.ts';
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

export async function loadWorld(parsed: ParsedCommand<string>): Promise<World> {
  const { objects, view } = loadClusterInput(parsed.files);
  return { files: objects, live: [], view, origin: `manifests ${parsed.files.join(', ')}` };
}
