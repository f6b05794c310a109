import type { CompiledSelector, Requirement } from './selector.ts';

// Exact subsumption of label selectors. Labels are independent per key, so the set of label
// maps a selector selects is a product over keys of "allowed states" of each key, a state
// being "absent" or "present with value v". Each requirement allows a finite or a co-finite
// set of states, and both kinds are closed under intersection. A ⊇ B then holds exactly when
// B selects nothing, or every key A constrains allows, under A, every state B allows.

const ABSENT = '\u0000absent';

/** A set of states of one key: the listed ones (finite) or all but the listed ones (co-finite). */
interface StateSet {
  cofinite: boolean;
  states: ReadonlySet<string>;
}

const ALL: StateSet = { cofinite: true, states: new Set() };

function allowedBy(req: Requirement): StateSet {
  switch (req.operator) {
    case 'In':
      return { cofinite: false, states: req.values };
    case 'NotIn':
      return { cofinite: true, states: req.values };
    case 'Exists':
      return { cofinite: true, states: new Set([ABSENT]) };
    case 'DoesNotExist':
      return { cofinite: false, states: new Set([ABSENT]) };
  }
}

function intersect(a: StateSet, b: StateSet): StateSet {
  // "Every state" is the identity: most keys carry one requirement, so no set is built for them.
  if (a === ALL) return b;
  if (b === ALL) return a;
  if (!a.cofinite && !b.cofinite) return { cofinite: false, states: new Set([...a.states].filter((s) => b.states.has(s))) };
  if (a.cofinite && b.cofinite) return { cofinite: true, states: new Set([...a.states, ...b.states]) };
  const [fin, cof] = a.cofinite ? [b, a] : [a, b];
  return { cofinite: false, states: new Set([...fin.states].filter((s) => !cof.states.has(s))) };
}

function isEmpty(s: StateSet): boolean {
  return !s.cofinite && s.states.size === 0;
}

function subset(a: StateSet, b: StateSet): boolean {
  if (!a.cofinite && !b.cofinite) return [...a.states].every((s) => b.states.has(s));
  if (!a.cofinite && b.cofinite) return [...a.states].every((s) => !b.states.has(s));
  if (a.cofinite && !b.cofinite) return false;
  return [...b.states].every((s) => a.states.has(s));
}

/** States allowed per key, computed once per compiled selector (subsumption asks several times). */
const perKeyCache = new WeakMap<CompiledSelector, Map<string, StateSet>>();

function perKey(selector: CompiledSelector): Map<string, StateSet> {
  let out = perKeyCache.get(selector);
  if (!out) {
    out = new Map<string, StateSet>();
    for (const req of selector.requirements) out.set(req.key, intersect(out.get(req.key) ?? ALL, allowedBy(req)));
    perKeyCache.set(selector, out);
  }
  return out;
}

/** True when the selector selects no label set at all (e.g. `a In [x]` and `a NotIn [x]`). */
export function selectsNothing(selector: CompiledSelector): boolean {
  for (const s of perKey(selector).values()) if (isEmpty(s)) return true;
  return false;
}

/** True when `a` selects every label set that `b` selects. */
export function subsumes(a: CompiledSelector, b: CompiledSelector): boolean {
  if (a.empty) return true;
  const bKeys = perKey(b);
  for (const s of bKeys.values()) if (isEmpty(s)) return true;
  for (const [key, allowedByA] of perKey(a)) {
    if (!subset(bKeys.get(key) ?? ALL, allowedByA)) return false;
  }
  return true;
}

/** True when some label set is selected by both. */
export function overlaps(a: CompiledSelector, b: CompiledSelector): boolean {
  const ak = perKey(a);
  const bk = perKey(b);
  for (const [key, s] of ak) if (isEmpty(intersect(s, bk.get(key) ?? ALL))) return false;
  for (const [key, s] of bk) if (!ak.has(key) && isEmpty(s)) return false;
  return true;
}
