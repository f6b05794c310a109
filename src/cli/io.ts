import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { defaultConfig } from '../config/default.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { UsageError } from './usage.ts';

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

/** The flags every command over manifests shares: -f (repeatable), -o, and the live cluster. */
const COMMON_FLAGS = {
  file: { type: 'string', short: 'f', multiple: true },
  output: { type: 'string', short: 'o', default: 'text' },
  kubeconfig: { type: 'string' },
  live: { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

export interface ParsedCommand<O extends string> {
  values: Record<string, string | boolean | string[] | undefined>;
  files: string[];
  output: O;
  /** Where to read the live cluster from: a kubeconfig path, '' for the default one, or undefined (files only). */
  kubeconfig?: string;
}

/**
 * Parses the flags of a command that reads manifests and/or a cluster: its own options plus
 * the common ones, checked here once for all (-f or a cluster; -o among the command's formats).
 */
export function parseCommand<O extends string>(
  args: string[],
  options: ParseArgsOptionsConfig,
  outputs: readonly O[],
  what = '-f: give at least one manifest file or folder (or --kubeconfig F / --live to read a cluster)',
): ParsedCommand<O> {
  const { values } = parseArgs({ args, strict: true, allowPositionals: false, options: { ...options, ...COMMON_FLAGS } });
  const { file: files = [], output, kubeconfig, live, ...rest } = values as Record<string, unknown> & {
    file?: string[];
    output: string;
    kubeconfig?: string;
    live?: boolean;
  };
  if (kubeconfig !== undefined && kubeconfig === '') throw new UsageError('--kubeconfig: give the path of a kubeconfig file');
  const cluster = kubeconfig ?? (live ? '' : undefined);
  if (files.length === 0 && cluster === undefined) throw new UsageError(what);
  if (!outputs.includes(output as O)) throw new UsageError(`-o ${output}: use ${outputs.join(', ')}`);
  return { values: rest as ParsedCommand<O>['values'], files, output: output as O, ...(cluster !== undefined ? { kubeconfig: cluster } : {}) };
}

/**
 * The config of `--config`, or the built-in one. Anything wrong with the file (YAML an alias
 * bomb included) is a ConfigError: bad input, exit 2, never a stack trace. The loader is
 * imported only for a file: it hashes configs, and node:crypto alone costs a few tens of
 * milliseconds of start-up.
 */
export async function loadConfig(path: string | undefined): Promise<{ config: NetfenceConfig }> {
  if (path === undefined) return { config: defaultConfig() };
  const { ConfigError, loadConfigFile } = await import('../config/load.ts');
  try {
    return loadConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(path, [{ path: '', message: `invalid YAML: ${(err as Error).message}` }]);
  }
}
