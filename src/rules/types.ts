import type { AdmissionContext, ExemptionUse, Violation } from '../admission/context.ts';
import type { Exemption, Rule } from '../config/types.ts';
import { effectiveMode, NOT_ADOPTED, scopeOf } from './scope.ts';

/** What a rule found: where in the judged object, and what to tell its owner. */
export interface Finding {
  path: string;
  message: string;
  /** Further findings of the same rule, counted but not described (see FindingList). */
  more?: number;
}

/** Findings a rule describes in full for one object; past them, findings are only counted. */
export const FINDINGS_DESCRIBED = 100;

/**
 * The findings of one rule on one object. A 3 MiB policy can break a rule 100,000 times: the
 * first FINDINGS_DESCRIBED get a message (built only then), the rest are counted on the last
 * one, so the work past them is the check alone.
 */
export class FindingList {
  private readonly items: Finding[] = [];
  private more = 0;

  add(path: string, message: () => string): void {
    if (this.items.length < FINDINGS_DESCRIBED) this.items.push({ path, message: message() });
    else this.more++;
  }

  list(): Finding[] {
    if (this.more > 0) this.items[this.items.length - 1] = { ...this.items[this.items.length - 1]!, more: this.more };
    return this.items;
  }
}

/**
 * Turns what each rule found into violations, honouring exemptions: a live exemption for the
 * namespace and rule drops the violation and is recorded as applied; an expired one is
 * recorded as expired and the violation stands. In a namespace that is not adopted every
 * violation is recorded in audit mode, marked as downgraded (the enforcement scope, one
 * place: scope.ts).
 */
export function judge(
  ctx: Pick<AdmissionContext, 'config' | 'now' | 'request' | 'cluster'>,
  namespace: string | undefined,
  findings: ReadonlyArray<{ rule: Rule; findings: readonly Finding[] }>,
): { violations: Violation[]; exemptions: ExemptionUse[] } {
  const violations: Violation[] = [];
  const exemptions: ExemptionUse[] = [];
  let scope: ReturnType<typeof scopeOf> | undefined;
  for (const { rule, findings: list } of findings) {
    if (list.length === 0) continue;
    const exemption = namespace === undefined ? undefined : findExemption(ctx.config.exemptions, namespace, rule.id);
    if (exemption) {
      const expired = exemption.expires !== undefined && Date.parse(exemption.expires) <= ctx.now.getTime();
      exemptions.push({
        id: exemption.id,
        rule: rule.id,
        namespace: namespace!,
        status: expired ? 'expired' : 'applied',
        reason: exemption.reason,
        ...(exemption.expires ? { expires: exemption.expires } : {}),
      });
      if (!expired) continue;
    }
    scope ??= scopeOf(ctx, namespace);
    const mode = effectiveMode(rule.mode, scope);
    const downgraded = mode === rule.mode ? undefined : { from: rule.mode, reason: NOT_ADOPTED };
    for (const f of list) {
      violations.push({ rule: rule.id, mode, path: f.path, message: f.message, ...(f.more ? { more: f.more } : {}), ...(downgraded ? { downgraded } : {}) });
    }
  }
  return { violations, exemptions };
}

function findExemption(exemptions: readonly Exemption[], namespace: string, rule: string): Exemption | undefined {
  return exemptions.find((e) => e.namespaces.includes(namespace) && e.rules.includes(rule));
}
