import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { isMap, isSeq, parseAllDocuments, type Document } from 'yaml';
import { isObject, type KubeObject } from '../k8s/types.ts';

/** Where an object came from, so that every error can point at it. */
export interface ManifestSource {
  file: string;
  /** 1-based number of the YAML document in the file, as people count them (and editors show). */
  document: number;
  /** Path of the object inside the document: '' for the document itself, 'items[3]' in a List. */
  path: string;
  /** 1-based line where the object starts (for code-scanning reports), when known. */
  line?: number;
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
  return `${source.file} (document ${source.document}${at})`;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Aliases a document may expand. The yaml package's own default (100) already stops a "billion
 * laughs" document; naming it keeps the bound visible where manifests are read.
 */
const MAX_ALIASES = 100;

/** Files named directly are read whatever their extension; folders contribute their manifests. */
export function expandPaths(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new ManifestError({ file: path, document: 1, path: '' }, 'no such file or directory');
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

/**
 * Parses multi-document YAML or JSON text. Lists are flattened into their items as kubectl
 * does: `kind: List` items carry their own kind; the items of a typed list (`PodList`, what the
 * API server returns) usually do not, and take it from the list.
 */
export function parseManifests(text: string, file: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  const documents = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(documents)) {
    // parseAllDocuments returns an EmptyStream for an empty input.
    return out;
  }
  const lineOf = lineStarts(text);
  documents.forEach((doc, index) => {
    const source: ManifestSource = { file, document: index + 1, path: '' };
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0];
      const where = line ? ` at line ${line.line}, column ${line.col}` : '';
      throw new ManifestError(source, `invalid YAML${where}: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      // The yaml package throws (rather than reports) on alias expansion beyond the bound and on
      // aliases to nothing: both are bad input, never a crash.
      throw new ManifestError(source, `invalid YAML: ${(err as Error).message} (at most ${MAX_ALIASES} alias expansions per document)`);
    }
    if (value === null || value === undefined) return;
    const first = out.length;
    collect(value, source, out, undefined);
    for (const m of out.slice(first)) {
      const offset = offsetOf(doc, m.source.path);
      if (offset !== undefined) m.source.line = lineOf(offset);
    }
  });
  return out;
}

/** offset → 1-based line, by binary search over the line starts. */
function lineStarts(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** Where the node of an object path ('' or 'items[2].items[0]') starts in the text. */
function offsetOf(doc: Document, path: string): number | undefined {
  let node: unknown = doc.contents;
  for (const match of path.matchAll(/items\[(\d+)\]/g)) {
    if (!isMap(node)) return undefined;
    const items = node.get('items', true);
    node = isSeq(items) ? items.items[Number(match[1])] : undefined;
  }
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  return range?.[0];
}

/** What a typed list's items are: `PodList` → `Pod`, with the list's apiVersion. */
interface ItemDefaults {
  kind: string;
  apiVersion?: string;
}

function collect(value: unknown, source: ManifestSource, out: ManifestObject[], defaults: ItemDefaults | undefined): void {
  if (!isObject(value)) {
    throw new ManifestError(source, `${source.path || 'the document'}: expected a Kubernetes object (a mapping with apiVersion and kind)`);
  }
  if (defaults && (value.kind === undefined || value.kind === '')) {
    value = { ...(defaults.apiVersion ? { apiVersion: defaults.apiVersion } : {}), ...value, kind: defaults.kind };
  }
  const object = value as Record<string, unknown>;
  if (typeof object.kind !== 'string' || object.kind === '') {
    throw new ManifestError(source, `${source.path ? `${source.path}.kind` : 'kind'}: required (every object names its kind; only the items of a typed list such as PodList may leave it out)`);
  }
  if (object.kind.endsWith('List')) {
    if (!Array.isArray(object.items)) {
      throw new ManifestError(source, `${source.path ? `${source.path}.` : ''}items: ${object.kind} has no items list`);
    }
    const itemKind = object.kind === 'List' ? undefined : object.kind.slice(0, -'List'.length);
    const itemDefaults = itemKind ? { kind: itemKind, ...(typeof object.apiVersion === 'string' ? { apiVersion: object.apiVersion } : {}) } : undefined;
    object.items.forEach((item, i) => {
      const path = `${source.path}${source.path ? '.' : ''}items[${i}]`;
      collect(item, { ...source, path }, out, itemDefaults);
    });
    return;
  }
  out.push({ object: object as KubeObject, source });
}

export function loadManifests(paths: readonly string[]): ManifestObject[] {
  const out: ManifestObject[] = [];
  for (const file of expandPaths(paths)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ManifestError({ file, document: 1, path: '' }, `cannot read: ${(err as Error).message}`);
    }
    out.push(...parseManifests(text, file));
  }
  return out;
}
