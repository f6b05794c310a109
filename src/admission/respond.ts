import { asBoundedString, BOUNDS, boundedWarnings, capList, cut } from './bounds.ts';
import { diff } from './patch.ts';
import { decisionOf, violationCount, type Decision, type Verdict, type Violation } from './context.ts';
import type { AdmissionRequest, AdmissionResponse } from './review.ts';

/** `NetworkPolicy production/open-data`, `Namespace team-a`, `Pod default/(generated web-)`; every part bounded. */
export function describeObject(request: AdmissionRequest): string {
  const meta = request.object?.metadata ?? request.oldObject?.metadata;
  const text = (v: unknown): string => asBoundedString(v);
  const name = text(request.name) || text(meta?.name) || (meta?.generateName ? `${text(meta.generateName)}*` : '(unnamed)');
  const ns = text(request.namespace) || text(meta?.namespace);
  const kind = text(request.kind.kind);
  return `${kind} ${ns && kind !== 'Namespace' ? `${ns}/` : ''}${name}`;
}

function formatViolation(v: Violation): string {
  return `[${v.rule}] ${v.path ? `${cut(v.path, BOUNDS.violationRunes)}: ` : ''}${cut(v.message, BOUNDS.violationRunes)}`;
}

/** The denial: the first `BOUNDS.messageViolations` enforced violations, and how many more there are. */
export function denialMessage(request: AdmissionRequest, violations: readonly Violation[]): string {
  const enforced = violations.filter((v) => v.mode === 'enforce');
  const total = violationCount(enforced);
  const { items } = capList(enforced, BOUNDS.messageViolations);
  const omitted = total - items.length;
  const lines = items.map((v) => `- ${formatViolation(v)}`);
  if (omitted > 0) lines.push(`- …and ${omitted} more violation${omitted === 1 ? '' : 's'}; see the decision log (uid ${cut(request.uid, BOUNDS.identityRunes)})`);
  return `netfence denied ${describeObject(request)} (${total} violation${total === 1 ? '' : 's'}):\n${lines.join('\n')}`;
}

/** Turns a verdict into the AdmissionResponse: pure, so the CLI can show the same answer. */
export function buildResponse(request: AdmissionRequest, verdict: Verdict): { response: AdmissionResponse; decision: Decision } {
  const decision = decisionOf(verdict);
  const response: AdmissionResponse = { uid: request.uid, allowed: decision !== 'deny' };
  if (decision === 'deny') {
    response.status = { code: 403, reason: 'Forbidden', message: denialMessage(request, verdict.violations) };
  }
  const warned = verdict.violations.filter((v) => v.mode === 'warn');
  const warnings = boundedWarnings<Violation | string>(
    [...warned, ...verdict.warnings],
    (w) => `netfence: ${typeof w === 'string' ? w : formatViolation(w)}`,
    violationCount(warned) - warned.length,
  );
  if (warnings.length > 0) response.warnings = warnings;
  if (decision !== 'deny' && verdict.mutated && request.object) {
    const ops = diff(request.object, verdict.mutated);
    // No patch at all when nothing changes: reinvocation of the webhook is then a no-op.
    if (ops.length > 0) {
      response.patchType = 'JSONPatch';
      response.patch = Buffer.from(JSON.stringify(ops)).toString('base64');
    }
  }
  const ruleIds = [...new Set(verdict.violations.map((v) => v.rule))];
  response.auditAnnotations = { decision, ...(ruleIds.length ? { violations: ruleIds.join(',') } : {}) };
  return { response, decision };
}

/** Fail closed: an internal error denies, with code 500 so that it is not read as a policy denial. */
export function errorResponse(request: AdmissionRequest, message: string): AdmissionResponse {
  return {
    uid: request.uid,
    allowed: false,
    status: {
      code: 500,
      reason: 'InternalError',
      message: `netfence could not decide on this request (${cut(message, BOUNDS.recordRunes)}); it was denied to stay safe. Retry; if it persists, check the netfence logs.`,
    },
  };
}
