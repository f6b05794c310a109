import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { UsageError } from './usage.ts';

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

/** The flags every command over manifest files shares: -f (repeatable) and -o text|json. */
const MANIFEST_FLAGS = {
  file: { type: 'string', short: 'f', multiple: true },
  output: { type: 'string', short: 'o', default: 'text' },
} as const satisfies ParseArgsOptionsConfig;

/**
 * Parses the flags of a command that reads manifests: its own options plus -f and -o, which are
 * checked here once for all (at least one -f; -o is text or json).
 */
export function parseManifestCommand(
  args: string[],
  options: Record<string, { type: 'string'; short?: string; default?: string }>,
): { values: Record<string, string | undefined>; files: string[]; output: 'text' | 'json' } {
  const { values } = parseArgs({ args, strict: true, allowPositionals: false, options: { ...options, ...MANIFEST_FLAGS } });
  const { file: files, output, ...rest } = values as Record<string, unknown> & { file?: string[]; output: string };
  if (!files?.length) throw new UsageError('-f: give at least one manifest file or folder');
  if (output !== 'text' && output !== 'json') throw new UsageError(`-o ${output}: use text or json`);
  return { values: rest as Record<string, string | undefined>, files, output };
}
