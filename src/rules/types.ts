import type { AdmissionContext, ExemptionUse, Violation } from '../admission/context.ts';
import type { Exemption, Rule } from '../config/types.ts';

/** What a rule found: where in the judged object, and what to tell its owner. */
export interface Finding {
  path: string;
  message: string;
}

/**
 * Turns what each rule found into violations, honouring exemptions: a live exemption for the
 * namespace and rule drops the violation and is recorded as applied; an expired one is
 * recorded as expired and the violation stands.
 */
export function judge(
  ctx: Pick<AdmissionContext, 'config' | 'now'>,
  namespace: string | undefined,
  findings: ReadonlyArray<{ rule: Rule; findings: readonly Finding[] }>,
): { violations: Violation[]; exemptions: ExemptionUse[] } {
  const violations: Violation[] = [];
  const exemptions: ExemptionUse[] = [];
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
    for (const f of list) violations.push({ rule: rule.id, mode: rule.mode, path: f.path, message: f.message });
  }
  return { violations, exemptions };
}

function findExemption(exemptions: readonly Exemption[], namespace: string, rule: string): Exemption | undefined {
  return exemptions.find((e) => e.namespaces.includes(namespace) && e.rules.includes(rule));
}
