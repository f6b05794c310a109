import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { formatFieldErrors, type FieldError } from '../util/field-errors.ts';
import { defaultConfig } from './default.ts';
import { explainInherited, withDefaults } from './merge.ts';
import type { NetfenceConfig } from './types.ts';
import { validateConfig } from './validate.ts';

/** A validated config and what identifies it in decision records. */
export interface LoadedConfig {
  config: NetfenceConfig;
  /** sha256 of the canonical JSON of the config: the same config always has the same hash. */
  hash: string;
  /** The file it came from, or "built-in". */
  source: string;
}

export class ConfigError extends Error {
  readonly errors: readonly FieldError[];
  readonly source: string;
  constructor(source: string, errors: readonly FieldError[]) {
    super(`invalid config ${source}:\n${formatFieldErrors(errors).replace(/^/gm, '  ')}`);
    this.name = 'ConfigError';
    this.errors = errors;
    this.source = source;
  }
}

export function configHash(config: NetfenceConfig): string {
  return `sha256:${createHash('sha256').update(canonicalJSON(config)).digest('hex')}`;
}

function canonicalJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function builtInConfig(): LoadedConfig {
  const config = defaultConfig();
  return { config, hash: configHash(config), source: 'built-in' };
}

/**
 * Parses config text, fills what it leaves out from the built-in config (merge.ts), and
 * validates it; throws ConfigError with every problem and its path.
 */
export function parseConfig(text: string, source: string): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        message: `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    );
  }
  const merged = withDefaults(doc.toJS({ maxAliasCount: 100 }));
  if (merged.errors.length > 0) throw new ConfigError(source, merged.errors);
  const result = validateConfig(merged.raw);
  if (!result.ok) throw new ConfigError(source, explainInherited(result.errors, merged.inherited));
  return { config: result.config, hash: configHash(result.config), source };
}

/** The text of a config file; a file that cannot be read is a ConfigError like any other. */
export function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
}

export function loadConfigFile(path: string): LoadedConfig {
  return parseConfig(readConfigText(path), path);
}
