import { loadClusterInput } from '../cluster/input.ts';
import type { ManifestObject } from '../cluster/manifests.ts';
import type { StaticClusterView } from '../cluster/static.ts';
import type { ParsedCommand } from './io.ts';

/** What a command answers about: the files' objects, and the view of the cluster they make. */
export interface World {
  /** The objects of the files (what `check` judges). */
  files: ManifestObject[];
  view: StaticClusterView;
  /** Where the view comes from, for the output. */
  origin: string;
}

export async function loadWorld(parsed: ParsedCommand<string>): Promise<World> {
  const { objects, view } = loadClusterInput(parsed.files);
  return { files: objects, view, origin: `manifests ${parsed.files.join(', ')}` };
}
