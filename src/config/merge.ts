import { isObject } from '../k8s/types.ts';
import type { FieldError } from '../util/field-errors.ts';
import { defaultConfig } from './default.ts';

/**
 * How a config file relates to the built-in config. A file that writes only `rules:` must not
 * silently lose the baseline: every section it leaves out takes the built-in value, and
 * `baseline` does so key by key (`baseline: {labels: …}` keeps the built-in policies). A
 * section written out, even empty (`rules: []`, `baseline: {policies: []}`), is exactly what
 * it says. `base: empty` starts from nothing instead: sections left out are empty.
 *
 * Exemptions are never inherited: they weaken rules, and the built-in one is an example
 * written for the built-in rules.
 */
export const BASE_FIELD = 'base';
export const BASES = ['builtIn', 'empty'] as const;
export type Base = (typeof BASES)[number];

/** Top-level sections taken whole from the built-in config when left out. */
const WHOLE_SECTIONS = ['excludedNamespaces', 'tiers', 'rules', 'decisionLog'] as const;

export interface Merged {
  /** The document to validate, with the `base` field removed. */
  raw: unknown;
  /** Paths of the sections that came from the built-in config (`rules`, `baseline.policies`). */
  inherited: string[];
  errors: FieldError[];
}

export function withDefaults(raw: unknown): Merged {
  if (!isObject(raw)) return { raw, inherited: [], errors: [] };
  const { [BASE_FIELD]: base = 'builtIn', ...rest } = raw;
  if (!BASES.includes(base as Base)) {
    return { raw: rest, inherited: [], errors: [{ path: BASE_FIELD, message: `must be one of ${BASES.join(', ')}, got ${JSON.stringify(base)} (builtIn: sections left out take the built-in values; empty: they are empty)` }] };
  }
  if (base === 'empty') return { raw: rest, inherited: [], errors: [] };
  const defaults = defaultConfig() as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest };
  const inherited: string[] = [];
  for (const section of WHOLE_SECTIONS) {
    if (!Object.hasOwn(rest, section)) {
      out[section] = defaults[section];
      inherited.push(section);
    }
  }
  const builtInBaseline = defaults.baseline as Record<string, unknown>;
  if (!Object.hasOwn(rest, 'baseline')) {
    out.baseline = builtInBaseline;
    inherited.push('baseline');
  } else if (isObject(rest.baseline)) {
    // Key by key, over whatever keys the built-in baseline has: a key added there later
    // (more baseline objects) is inherited the same way without a change here.
    const baseline: Record<string, unknown> = { ...rest.baseline };
    for (const [key, value] of Object.entries(builtInBaseline)) {
      if (!Object.hasOwn(baseline, key)) {
        baseline[key] = value;
        inherited.push(`baseline.${key}`);
      }
    }
    out.baseline = baseline;
  }
  return { raw: out, inherited, errors: [] };
}

/**
 * Says so on an error found in a section the file did not write: the fix is in what the file
 * wrote (a tier renamed under a built-in rule, say), or in writing that section out.
 */
export function explainInherited(errors: readonly FieldError[], inherited: readonly string[]): FieldError[] {
  return errors.map((e) => {
    const section = inherited.find((s) => e.path === s || e.path.startsWith(`${s}.`) || e.path.startsWith(`${s}[`));
    if (!section) return e;
    return { ...e, message: `${e.message} (${section} is the built-in default, because the config leaves it out: write ${section} in the config, or set base: empty)` };
  });
}
