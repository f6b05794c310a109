import type { ExemptionUse, Violation } from './context.ts';

// Everything netfence writes back (denial messages, warnings) or logs (decision records) has a
// size fixed here, whatever the request carried: a 3 MiB object with 80,000 violations gives
// a denial of ten lines and a log line of bounded size. Pure functions, no state.

export const BOUNDS = {
  /** Violations named in a denial message; the rest are counted. */
  messageViolations: 10,
  /** Characters of one violation's message, in a denial or a warning. */
  violationRunes: 1024,
  /**
   * All warnings together, in runes: the API server passes warnings on as HTTP headers and,
   * past 4,096 runes in all, cuts every warning to 256 (k8s.io/apiserver WithWarningRecorder).
   */
  warningTotalRunes: 4096,
  /** Characters of an identity or name field of the decision record (uid, user, a group, namespace, name, kind). */
  identityRunes: 256,
  /** Groups kept in the decision record. */
  groups: 64,
  /** Violations, exemptions and warnings kept in the decision record. */
  recordItems: 100,
  /** Characters of a message, path or error in the decision record. */
  recordRunes: 1024,
} as const;

/** Number of code points (runes, as Go counts them) of `s`. */
export function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The UTF-16 index just after the first `runes` code points of `s`. */
function indexAfterRunes(s: string, runes: number): number {
  let i = 0;
  for (let n = 0; n < runes && i < s.length; n++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff ? 2 : 1;
  }
  return i;
}

/**
 * `s` in at most `max` runes: unchanged when it fits, else its start and a marker saying how
 * much was cut (`…[+1234 characters]`), the marker included in the `max`.
 */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s; // runes never outnumber UTF-16 units
  const total = runeCount(s);
  if (total <= max) return s;
  // The marker's own length depends on the number it carries: size it for the largest.
  const markerRunes = `…[+${total} characters]`.length;
  const keep = Math.max(0, max - markerRunes);
  return `${s.slice(0, indexAfterRunes(s, keep))}…[+${total - keep} characters]`;
}

/** Control characters (Unicode Cc: C0, DEL, C1) make the API server drop a warning: each becomes a space. */
export function withoutControlCharacters(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/** What a value that should have been a string is, in a few words, never its content. */
function describeNonString(value: unknown): string {
  if (Array.isArray(value)) return `(not a string: a list of ${value.length})`;
  if (value === null) return '(not a string: null)';
  return `(not a string: ${typeof value})`;
}

/**
 * A field that must be a string, as the decision record keeps it: a string is cut to `max`
 * runes; a missing one is ''; a number or boolean is written as text; an object or a list is
 * replaced by a short marker, never copied.
 */
export function asBoundedString(value: unknown, max: number = BOUNDS.identityRunes): string {
  if (typeof value === 'string') return cut(value, max);
  if (value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeNonString(value);
}

/** A list kept to its first `max` items, with the number left out. */
export function capList<T>(list: readonly T[], max: number): { items: T[]; omitted: number } {
  return list.length <= max ? { items: [...list], omitted: 0 } : { items: list.slice(0, max), omitted: list.length - max };
}

/**
 * `userInfo.groups` as the decision record keeps it: a list of at most `BOUNDS.groups`
 * strings, each bounded; anything that is not a list becomes one marker.
 */
export function boundedGroups(value: unknown): { items: string[]; omitted: number } {
  if (value === undefined || value === null) return { items: [], omitted: 0 };
  if (!Array.isArray(value)) return { items: [describeNonString(value).replace('a string', 'a list of strings')], omitted: 0 };
  const { items, omitted } = capList(value as unknown[], BOUNDS.groups);
  return { items: items.map((g) => asBoundedString(g)), omitted };
}

/**
 * Violations as the decision record keeps them: at most `recordItems`, each field bounded;
 * `omitted` counts those left out, the ones only ever counted (`more`) included.
 */
export function boundedViolations(list: readonly Violation[]): { items: Violation[]; omitted: number } {
  const { items } = capList(list, BOUNDS.recordItems);
  let total = 0;
  for (const v of list) total += 1 + (v.more ?? 0);
  return {
    items: items.map((v) => ({
      rule: cut(v.rule, BOUNDS.identityRunes),
      mode: v.mode,
      path: cut(v.path, BOUNDS.recordRunes),
      message: cut(v.message, BOUNDS.recordRunes),
      // Why an enforce or warn rule was recorded in audit mode (a namespace not adopted).
      ...(v.downgraded ? { downgraded: v.downgraded } : {}),
    })),
    omitted: total - items.length,
  };
}

/** Exemptions as the decision record keeps them (they come from the config, but are capped all the same). */
export function boundedExemptions(list: readonly ExemptionUse[]): { items: ExemptionUse[]; omitted: number } {
  return capList(list, BOUNDS.recordItems);
}

/** Plain strings (warnings, errors) as the decision record keeps them. */
export function boundedStrings(list: readonly string[]): { items: string[]; omitted: number } {
  const { items, omitted } = capList(list, BOUNDS.recordItems);
  return { items: items.map((s) => cut(s, BOUNDS.recordRunes)), omitted };
}

/**
 * The warnings of a response, as the API server will pass them on: duplicates dropped, no
 * control characters, each cut to `violationRunes`, and all of them together within
 * `warningTotalRunes` runes; those that do not fit are counted in a last warning
 * ("…and 12 more warnings; see the decision log"), itself within the total, with `counted`
 * warnings that were only ever counted (FindingList) added to it. Items are
 * formatted only while they fit, so 80,000 findings cost 80,000 counts, not 80,000 strings.
 */
export function boundedWarnings<T>(items: readonly T[], format: (item: T) => string, counted = 0, prefix = 'netfence: '): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let used = 0;
  const summary = (n: number): string => `${prefix}…and ${n} more warning${n === 1 ? '' : 's'}; see the decision log`;
  // Room kept for the summary line, sized for the largest count it could carry.
  const reserve = runeCount(summary(items.length + counted));
  for (let i = 0; i < items.length; i++) {
    const w = cut(withoutControlCharacters(format(items[i]!)), BOUNDS.violationRunes);
    if (seen.has(w)) continue;
    const runes = runeCount(w);
    const last = i === items.length - 1 && counted === 0;
    if (used + runes + (last ? 0 : reserve) > BOUNDS.warningTotalRunes) {
      out.push(summary(items.length - i + counted));
      return out;
    }
    seen.add(w);
    out.push(w);
    used += runes;
  }
  if (counted > 0) out.push(summary(counted));
  return out;
}
