import { emptyVerdict, type AdmissionContext, type Verdict } from '../admission/context.ts';
import type { Rule } from '../config/types.ts';
import { forbidPeerClassOnPod, forbidPeerClassOnPolicy, asPeerClassRule } from './peer-classes.ts';
import { requireDefaultDenyOnNamespace, requireDefaultDenyOnPod, requireDefaultDenyOnPolicy } from './require-default-deny.ts';
import { requirePorts } from './require-ports.ts';
import { restrictIngressSources } from './restrict-ingress-sources.ts';
import { podSubject, policySubject } from './subjects.ts';
import { judge, type Finding } from './types.ts';

// One entry per kind of subject: which rule types judge it and how. Each rule type is a pure
// function in a module of its own; this file only routes.

export const LEGACY_ISOLATION_ANNOTATION = 'net.beta.kubernetes.io/network-policy';

function verdictOf(ctx: AdmissionContext, namespace: string | undefined, results: Array<{ rule: Rule; findings: Finding[] }>, warnings: string[] = []): Verdict {
  const { violations, exemptions } = judge(ctx, namespace, results);
  return { ...emptyVerdict(), violations, exemptions, warnings };
}

/** NetworkPolicy CREATE, UPDATE, DELETE. */
export function judgeNetworkPolicy(ctx: AdmissionContext): Verdict {
  const subject = policySubject(ctx);
  if (!subject) return emptyVerdict();
  const results = ctx.config.rules.map((rule) => {
    switch (rule.type) {
      case 'requireDefaultDeny':
        return { rule, findings: requireDefaultDenyOnPolicy(rule, subject, ctx) };
      case 'forbidIngressFrom':
      case 'forbidEgressTo':
        return { rule, findings: subject.policy ? forbidPeerClassOnPolicy(asPeerClassRule(rule), subject, ctx) : [] };
      case 'restrictIngressSources':
        return { rule, findings: restrictIngressSources(rule, subject, ctx) };
      case 'requirePorts':
        return { rule, findings: requirePorts(rule, subject, ctx) };
    }
  });
  return verdictOf(ctx, subject.namespace, results);
}

/** Pod CREATE, and workload CREATE/UPDATE through their pod templates. */
export function judgePod(ctx: AdmissionContext): Verdict {
  const subject = podSubject(ctx);
  if (!subject) return emptyVerdict();
  const results = ctx.config.rules.map((rule) => {
    switch (rule.type) {
      case 'requireDefaultDeny':
        return { rule, findings: requireDefaultDenyOnPod(rule, subject, ctx) };
      case 'forbidIngressFrom':
      case 'forbidEgressTo':
        return { rule, findings: forbidPeerClassOnPod(asPeerClassRule(rule), subject, ctx) };
      default:
        return { rule, findings: [] };
    }
  });
  return verdictOf(ctx, subject.namespace, results);
}

/** Namespace CREATE/UPDATE: baseline labels, and the legacy isolation annotation. */
export function judgeNamespace(ctx: AdmissionContext): Verdict {
  const name = ctx.request.name || ctx.request.object?.metadata?.name || '';
  const results = ctx.config.rules
    .filter((rule) => rule.type === 'requireDefaultDeny')
    .map((rule) => ({ rule, findings: requireDefaultDenyOnNamespace(ctx) }));
  const warnings: string[] = [];
  const annotations = ctx.request.object?.metadata?.annotations ?? {};
  if (Object.hasOwn(annotations, LEGACY_ISOLATION_ANNOTATION)) {
    warnings.push(
      `metadata.annotations["${LEGACY_ISOLATION_ANNOTATION}"] has no effect on networking.k8s.io/v1 NetworkPolicies (it was the isolation switch of the beta API); isolate with a NetworkPolicy instead`,
    );
  }
  return verdictOf(ctx, name, results, warnings);
}
