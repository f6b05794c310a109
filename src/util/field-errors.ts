/** One problem in user input, with the field path a person can find it by. */
export interface FieldError {
  path: string;
  message: string;
}

export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('\n');
}

/** Joins a field path the way Kubernetes prints them: `spec.ingress[0].from[1]`. */
export function fieldPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  // Keys that are not identifiers (label keys with dots or slashes) are bracketed.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === '' ? key : `${base}.${key}`;
}
