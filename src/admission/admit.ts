import { performance } from 'node:perf_hooks';
import type { ClusterView } from '../cluster/view.ts';
import type { ConfigStore } from '../config/store.ts';
import { DECISION_EVENT, DECISION_SCHEMA, gvkString, type ClientIdentity, type DecisionLog, type DecisionRecord } from '../audit/decision-log.ts';
import type { Metrics } from '../audit/metrics.ts';
import { CompiledCache, PolicyIndex } from '../netpol/index.ts';
import {
  emptyVerdict,
  isExcludedNamespace,
  mergeVerdicts,
  requestNamespace,
  type AdmissionContext,
  type Decision,
  type Verdict,
} from './context.ts';
import type { Endpoint, HandlerTable } from './handlers.ts';
import { asBoundedString, BOUNDS, boundedExemptions, boundedGroups, boundedStrings, boundedViolations, cut } from './bounds.ts';
import { buildResponse, errorResponse } from './respond.ts';
import { decodeAdmissionReview, encodeAdmissionReview, type AdmissionResponse } from './review.ts';

export interface AdmissionDeps {
  config: ConfigStore;
  cluster: ClusterView;
  handlers: HandlerTable;
  decisionLog: DecisionLog;
  metrics: Metrics;
  netfenceNamespace: string;
  clock?: () => Date;
  /** What decisions compile (policies, selectors), shared with other readers of the same view. */
  compiled?: CompiledCache;
}

/**
 * The decision itself, pure: the verdict of every handler registered for the request's kind
 * and operation. The webhook and `netfence check` both call this.
 */
export function evaluate(ctx: AdmissionContext, handlers: HandlerTable, endpoint: Endpoint): Verdict {
  if (isExcludedNamespace(ctx, requestNamespace(ctx.request))) return emptyVerdict();
  const { group, kind } = ctx.request.kind;
  return mergeVerdicts(handlers.find(endpoint, group, kind, ctx.request.operation).map((h) => h(ctx)));
}

const UNAUTHENTICATED: ClientIdentity = Object.freeze({ authenticated: false });

export type AdmissionOutcome =
  | { statusCode: 200; body: Record<string, unknown> }
  | { statusCode: 400; body: { error: string } };

/**
 * The single entry from HTTP into decisions: decode, decide, encode, record. Decoding
 * failures are the caller's mistake (400); everything after decoding is answered as an
 * AdmissionReview, an internal error included (denied, code 500).
 */
export class Admission {
  private readonly deps: AdmissionDeps;
  private readonly clock: () => Date;
  private readonly index: PolicyIndex;

  constructor(deps: AdmissionDeps) {
    this.deps = deps;
    this.clock = deps.clock ?? (() => new Date());
    this.index = new PolicyIndex(deps.cluster, deps.compiled);
  }

  review(endpoint: Endpoint, body: unknown, client: ClientIdentity = UNAUTHENTICATED): AdmissionOutcome {
    const started = performance.now();
    const decoded = decodeAdmissionReview(body);
    if (!decoded.ok) {
      this.deps.metrics.badRequests.inc({ status: '400' });
      return { statusCode: 400, body: { error: `not an AdmissionReview: ${decoded.error}` } };
    }
    const { request } = decoded.review;
    const loaded = this.deps.config.current();
    const ctx: AdmissionContext = {
      request,
      config: loaded.config,
      cluster: this.deps.cluster,
      index: this.index,
      now: this.clock(),
      netfenceNamespace: this.deps.netfenceNamespace,
    };
    const namespace = requestNamespace(request);
    const excluded = isExcludedNamespace(ctx, namespace);

    let response: AdmissionResponse;
    let decision: Decision;
    let verdict: Verdict = emptyVerdict();
    let error: string | undefined;
    try {
      if (!excluded) verdict = evaluate(ctx, this.deps.handlers, endpoint);
      ({ response, decision } = buildResponse(request, verdict));
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      response = errorResponse(request, error);
      decision = 'deny';
      this.deps.metrics.decisionErrors.inc({ endpoint });
    }

    const durationMs = performance.now() - started;
    const kind = gvkString(request.kind);
    this.deps.metrics.countReview(endpoint, kind, request.operation, decision, durationMs / 1000);
    // The record is built only when it is written: allows are not logged unless configured,
    // but an allow with violations (audit mode, or a namespace not adopted) always is.
    if (decision !== 'allow' || verdict.violations.length > 0 || error !== undefined || loaded.config.decisionLog.logAllowed) {
      // Every field is typed and bounded (bounds.ts): what the request carried is never copied whole.
      const groups = boundedGroups(request.userInfo.groups);
      const violations = boundedViolations(verdict.violations);
      const exemptions = boundedExemptions(verdict.exemptions);
      const warnings = boundedStrings(verdict.warnings);
      const omitted = { violations: violations.omitted, exemptions: exemptions.omitted, warnings: warnings.omitted, groups: groups.omitted };
      const record: DecisionRecord = {
        event: DECISION_EVENT,
        schema: DECISION_SCHEMA,
        uid: asBoundedString(request.uid),
        decision,
        endpoint,
        operation: request.operation,
        kind: asBoundedString(kind),
        namespace: asBoundedString(namespace),
        name: asBoundedString(request.name || request.object?.metadata?.name || request.oldObject?.metadata?.name),
        user: asBoundedString(request.userInfo.username),
        groups: groups.items,
        client,
        dryRun: request.dryRun === true,
        violations: violations.items,
        exemptions: exemptions.items,
        warnings: warnings.items,
        ...(Object.values(omitted).some((n) => n > 0) ? { omitted } : {}),
        excluded,
        ...(error !== undefined ? { error: cut(error, BOUNDS.recordRunes) } : {}),
        configHash: loaded.hash,
        durationMs: Math.round(durationMs * 1000) / 1000,
      };
      this.deps.decisionLog.write(record, loaded.config.decisionLog.logAllowed);
    }
    return { statusCode: 200, body: encodeAdmissionReview(decoded.review.apiVersion, response) };
  }
}
