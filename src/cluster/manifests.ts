import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject, type KubeObject } from '../k8s/types.ts';

/** Where an object came from, so that every error can point at it. */
export interface ManifestSource {
  file: string;
  /** 0-based index of the YAML document in the file. */
  document: number;
  /** Path of the object inside the document: '' for the document itself, 'items[3]' in a List. */
  path: string;
}

export interface ManifestObject {
  object: KubeObject;
  source: ManifestSource;
}

export class ManifestError extends Error {
  readonly source: ManifestSource;
  constructor(source: ManifestSource, message: string) {
    super(`${describeSource(source)}: ${message}`);
    this.name = 'ManifestError';
    this.source = source;
  }
}

export function describeSource(source: ManifestSource): string {
  const at = source.path === '' ? '' : `, ${source.path}`;
  return `${source.file} (document ${source.document + 1}${at})`;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Files named directly are read whatever their extension; folders contribute their manifests. */
export function expandPaths(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new ManifestError({ file: path, document: 0, path: '' }, 'no such file or directory');
    }
    if (!stat.isDirectory()) {
      files.push(path);
      continue;
    }
    const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) files.push(...expandPaths([child]));
      else if (MANIFEST_EXTENSIONS.has(extname(entry.name))) files.push(child);
    }
  }
  return files;
}

/** Parses multi-document YAML or JSON text; `kind: List` is flattened into its items. */
export function parseManifests(text: string, file: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  const documents = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(documents)) {
    // parseAllDocuments returns an EmptyStream for an empty input.
    return out;
  }
  documents.forEach((doc, index) => {
    const source: ManifestSource = { file, document: index, path: '' };
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0];
      const where = line ? ` at line ${line.line}, column ${line.col}` : '';
      throw new ManifestError(source, `invalid YAML${where}: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    collect(value, source, out);
  });
  return out;
}

function collect(value: unknown, source: ManifestSource, out: ManifestObject[]): void {
  if (!isObject(value)) {
    throw new ManifestError(source, 'expected a Kubernetes object (a mapping with apiVersion and kind)');
  }
  if (typeof value.kind !== 'string' || value.kind === '') {
    throw new ManifestError(source, `${source.path || 'the object'} has no kind`);
  }
  if (value.kind === 'List' || value.kind.endsWith('List')) {
    if (!Array.isArray(value.items)) {
      throw new ManifestError(source, `${value.kind} has no items array`);
    }
    value.items.forEach((item, i) => {
      const path = `${source.path}${source.path ? '.' : ''}items[${i}]`;
      collect(item, { ...source, path }, out);
    });
    return;
  }
  out.push({ object: value as KubeObject, source });
}

export function loadManifests(paths: readonly string[]): ManifestObject[] {
  const out: ManifestObject[] = [];
  for (const file of expandPaths(paths)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ManifestError({ file, document: 0, path: '' }, `cannot read: ${(err as Error).message}`);
    }
    out.push(...parseManifests(text, file));
  }
  return out;
}
