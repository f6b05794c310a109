import type { ClusterView } from '../cluster/view.ts';
import type { Mode, NetfenceConfig } from '../config/types.ts';
import type { KubeObject } from '../k8s/types.ts';
import type { PolicyIndex } from '../netpol/index.ts';
import type { AdmissionRequest } from './review.ts';

/**
 * Everything one decision may read, made once per request: a value, not a service. Decisions
 * are pure functions of it, so the CLI, the webhook and the tests all get the same answer.
 */
export interface AdmissionContext {
  readonly request: AdmissionRequest;
  readonly config: NetfenceConfig;
  readonly cluster: ClusterView;
  /** The cluster's policies compiled for evaluation; shared across requests, built once per view. */
  readonly index: PolicyIndex;
  /** The clock, passed in: exemptions expire against it. */
  readonly now: Date;
  /** netfence's own namespace, always excluded so that it can always be repaired. */
  readonly netfenceNamespace: string;
}

/** One broken rule, as denials, warnings and decision records report it. */
export interface Violation {
  rule: string;
  mode: Mode;
  /** Field path in the object, e.g. `spec.ingress[0].from[1].namespaceSelector`. */
  path: string;
  message: string;
  /** Further violations of the same rule on this object, counted but not described. */
  more?: number;
  /**
   * Present when the rule's configured mode was lowered to audit: the namespace is not
   * adopted (src/rules/scope.ts). `mode` is then `audit`; `from` is the configured mode.
   */
  downgraded?: { from: Mode; reason: 'namespace-not-adopted' };
}

/** How many violations a list stands for, the counted ones included. */
export function violationCount(list: readonly Violation[]): number {
  let n = 0;
  for (const v of list) n += 1 + (v.more ?? 0);
  return n;
}

/** An exemption that matched a violation: applied, or ignored because it expired. */
export interface ExemptionUse {
  id: string;
  rule: string;
  namespace: string;
  status: 'applied' | 'expired';
  reason: string;
  expires?: string;
}

export interface Verdict {
  violations: Violation[];
  exemptions: ExemptionUse[];
  /** Warnings that are not rule violations (a deprecated annotation, say). */
  warnings: string[];
  /** For mutating handlers: the object as it should be stored. */
  mutated?: KubeObject;
}

export function emptyVerdict(): Verdict {
  return { violations: [], exemptions: [], warnings: [] };
}

export function mergeVerdicts(verdicts: readonly Verdict[]): Verdict {
  const out = emptyVerdict();
  for (const v of verdicts) {
    out.violations.push(...v.violations);
    out.exemptions.push(...v.exemptions);
    out.warnings.push(...v.warnings);
    if (v.mutated) out.mutated = v.mutated;
  }
  return out;
}

export type Decision = 'allow' | 'warn' | 'deny';

export function decisionOf(verdict: Verdict): Decision {
  if (verdict.violations.some((v) => v.mode === 'enforce')) return 'deny';
  if (verdict.violations.some((v) => v.mode === 'warn') || verdict.warnings.length > 0) return 'warn';
  return 'allow';
}

/** The namespace a request is about: its own for namespaced objects, its name for a Namespace. */
export function requestNamespace(request: AdmissionRequest): string | undefined {
  if (request.kind.group === '' && request.kind.kind === 'Namespace') {
    return request.name || request.object?.metadata?.name || request.oldObject?.metadata?.name;
  }
  return request.namespace || request.object?.metadata?.namespace || undefined;
}

export function isExcludedNamespace(ctx: Pick<AdmissionContext, 'config' | 'netfenceNamespace'>, namespace: string | undefined): boolean {
  if (namespace === undefined) return false;
  return namespace === ctx.netfenceNamespace || ctx.config.excludedNamespaces.includes(namespace);
}
