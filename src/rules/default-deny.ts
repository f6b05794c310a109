import type { NamespaceInfo, PolicyType } from '../k8s/types.ts';
import { admitsAllNamespaces, admitsAllPorts, admitsAnywhere } from '../netpol/analysis.ts';
import { rulesOf, type CompiledPolicy } from '../netpol/policy.ts';

export interface DefaultDenyStatus {
  defaultDeny: boolean;
  /** Why not, in words, when it is not. */
  reason?: string;
}

/**
 * A namespace is default-deny in a direction when a policy with an empty podSelector affects
 * that direction, and no policy with an empty podSelector has a rule in that direction that
 * admits `anywhere` and `allNamespaces` on every port.
 */
export function defaultDenyStatus(policies: readonly CompiledPolicy[], direction: PolicyType): DefaultDenyStatus {
  const whole = policies.filter((p) => p.podSelector.empty && p.affects[direction]);
  if (whole.length === 0) {
    return { defaultDeny: false, reason: `no NetworkPolicy with an empty podSelector ({}) affects ${direction}` };
  }
  for (const p of whole) {
    for (const rule of rulesOf(p, direction)) {
      if (admitsAnywhere(rule) && admitsAllNamespaces(rule) && admitsAllPorts(rule)) {
        return { defaultDeny: false, reason: `NetworkPolicy ${p.name} selects every pod and its rule ${rule.path} admits everything on every port` };
      }
    }
  }
  return { defaultDeny: true };
}

/** Whether the namespace carries every configured baseline label with its configured value. */
export function hasBaselineLabels(namespace: NamespaceInfo, labels: Readonly<Record<string, string>>): boolean {
  const entries = Object.entries(labels);
  return entries.length > 0 && entries.every(([k, v]) => namespace.labels[k] === v);
}
