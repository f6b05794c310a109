import { labelKeyError, labelValueError } from '../k8s/names.ts';
import { isObject, type LabelSelector } from '../k8s/types.ts';
import { fieldPath, type FieldError } from '../util/field-errors.ts';

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
const OPERATORS = new Set<Operator>(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** One requirement of a selector, with matchLabels entries turned into `In [value]`. */
export interface Requirement {
  key: string;
  operator: Operator;
  values: ReadonlySet<string>;
}

type Labels = Readonly<Record<string, string>>;

/**
 * A label selector compiled once: requirements sorted by key, values in sets. Matching is a
 * loop over the requirements, with no allocation, because it runs for every pod × policy.
 */
export class CompiledSelector {
  readonly requirements: readonly Requirement[];
  /** `{}` selects everything. */
  readonly empty: boolean;
  private relations: Map<unknown, 'whole' | 'within' | 'none'> | undefined;

  /**
   * How this selector, as a policy's podSelector, relates to each tier selector asked about
   * (netpol/analysis.ts): it depends on the two selectors only, so it lives here, shared by
   * every policy whose podSelector is this one.
   */
  get tierRelations(): Map<unknown, 'whole' | 'within' | 'none'> {
    return (this.relations ??= new Map());
  }

  constructor(selector: LabelSelector | undefined) {
    const reqs: Requirement[] = [];
    for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
      reqs.push({ key, operator: 'In', values: new Set([value]) });
    }
    for (const expr of selector?.matchExpressions ?? []) {
      reqs.push({ key: expr.key, operator: expr.operator, values: new Set(expr.values ?? []) });
    }
    reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.requirements = reqs;
    this.empty = reqs.length === 0;
  }

  matches(labels: Labels): boolean {
    for (const req of this.requirements) {
      const has = Object.hasOwn(labels, req.key);
      switch (req.operator) {
        case 'In':
          if (!has || !req.values.has(labels[req.key]!)) return false;
          break;
        case 'NotIn':
          // NotIn matches objects that lack the key, as in apimachinery.
          if (has && req.values.has(labels[req.key]!)) return false;
          break;
        case 'Exists':
          if (!has) return false;
          break;
        case 'DoesNotExist':
          if (has) return false;
          break;
      }
    }
    return true;
  }
}

/**
 * Equal label selectors compiled once and shared while anything holds them: `{}` and
 * `{tier: data}` are the podSelector of thousands of policies in a large cluster. An entry goes
 * when its selector is collected, so the table is bounded by the selectors in use.
 */
export class SelectorInterner {
  private readonly table = new Map<string, WeakRef<CompiledSelector>>();
  private readonly registry = new FinalizationRegistry<string>((key) => {
    if (this.table.get(key)?.deref() === undefined) this.table.delete(key);
  });

  readonly compile = (selector: LabelSelector | undefined): CompiledSelector => {
    const key = selectorKey(selector);
    const hit = this.table.get(key)?.deref();
    if (hit) return hit;
    const compiled = new CompiledSelector(selector);
    this.table.set(key, new WeakRef(compiled));
    this.registry.register(compiled, key);
    return compiled;
  };

  /** Entries in the table (tests). */
  get size(): number {
    return this.table.size;
  }
}

/** Equal for selectors that select the same by construction (matchLabels in any order). */
function selectorKey(selector: LabelSelector | undefined): string {
  const labels = Object.entries(selector?.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([labels, selector?.matchExpressions ?? []]);
}

export function compileSelector(selector: LabelSelector | undefined): CompiledSelector {
  return new CompiledSelector(selector);
}

/** Validates a LabelSelector the way the API server does (ValidateLabelSelector). */
export function validateLabelSelector(value: unknown, path: string, errors: FieldError[]): void {
  if (value === undefined || value === null) return;
  if (!isObject(value)) {
    errors.push({ path, message: 'must be a label selector (an object with matchLabels and/or matchExpressions)' });
    return;
  }
  for (const key of Object.keys(value)) {
    if (key !== 'matchLabels' && key !== 'matchExpressions') {
      errors.push({ path: fieldPath(path, key), message: 'unknown field; a label selector has only matchLabels and matchExpressions' });
    }
  }
  const { matchLabels, matchExpressions } = value;
  if (matchLabels !== undefined && matchLabels !== null) {
    const mlPath = fieldPath(path, 'matchLabels');
    if (!isObject(matchLabels)) {
      errors.push({ path: mlPath, message: 'must be a map of label keys to values' });
    } else {
      for (const [k, v] of Object.entries(matchLabels)) {
        const keyError = labelKeyError(k);
        if (keyError) errors.push({ path: mlPath, message: `invalid label key ${JSON.stringify(k)}: ${keyError}` });
        if (typeof v !== 'string') {
          errors.push({ path: fieldPath(mlPath, k), message: 'label values must be strings (quote numbers and booleans)' });
        } else {
          const valueError = labelValueError(v);
          if (valueError) errors.push({ path: fieldPath(mlPath, k), message: `invalid label value ${JSON.stringify(v)}: ${valueError}` });
        }
      }
    }
  }
  if (matchExpressions !== undefined && matchExpressions !== null) {
    const mePath = fieldPath(path, 'matchExpressions');
    if (!Array.isArray(matchExpressions)) {
      errors.push({ path: mePath, message: 'must be a list of {key, operator, values}' });
      return;
    }
    matchExpressions.forEach((expr, i) => validateRequirement(expr, fieldPath(mePath, i), errors));
  }
}

function validateRequirement(expr: unknown, path: string, errors: FieldError[]): void {
  if (!isObject(expr)) {
    errors.push({ path, message: 'must be an object with key, operator and values' });
    return;
  }
  const { key, operator, values } = expr;
  if (typeof key !== 'string') {
    errors.push({ path: fieldPath(path, 'key'), message: 'required: a label key' });
  } else {
    const keyError = labelKeyError(key);
    if (keyError) errors.push({ path: fieldPath(path, 'key'), message: `invalid label key ${JSON.stringify(key)}: ${keyError}` });
  }
  if (typeof operator !== 'string' || !OPERATORS.has(operator as Operator)) {
    errors.push({
      path: fieldPath(path, 'operator'),
      message: `${JSON.stringify(operator)} is not a valid selector operator; use In, NotIn, Exists or DoesNotExist`,
    });
    return;
  }
  const valuesPath = fieldPath(path, 'values');
  if (values !== undefined && values !== null && !Array.isArray(values)) {
    errors.push({ path: valuesPath, message: 'must be a list of strings' });
    return;
  }
  const list = (values ?? []) as unknown[];
  if ((operator === 'In' || operator === 'NotIn') && list.length === 0) {
    errors.push({ path: valuesPath, message: `must be specified when operator is ${operator}` });
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && list.length > 0) {
    errors.push({ path: valuesPath, message: `may not be specified when operator is ${operator}` });
  }
  list.forEach((v, i) => {
    if (typeof v !== 'string') {
      errors.push({ path: fieldPath(valuesPath, i), message: 'must be a string' });
      return;
    }
    const valueError = labelValueError(v);
    if (valueError) errors.push({ path: fieldPath(valuesPath, i), message: `invalid label value ${JSON.stringify(v)}: ${valueError}` });
  });
}
