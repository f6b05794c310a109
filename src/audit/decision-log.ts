import type { Logger } from 'pino';
import type { Decision, ExemptionUse, Violation } from '../admission/context.ts';
import type { AdmissionRequest } from '../admission/review.ts';

/**
 * The decision record: a public API for auditors. Keys and their meaning are fixed by
 * docs/decision-log.md; change meanings only with a new `schema` number. The object
 * body is never logged: it may hold secrets (env values, annotations) and it is large.
 */
export const DECISION_EVENT = 'admission.decision';
export const DECISION_SCHEMA = 1;

/**
 * How the client that posted the review was authenticated: `authenticated` only when it
 * presented a certificate verified against `serve --client-ca`, with the certificate's subject.
 * Without it, `user` and `groups` are whatever the client claimed.
 */
export interface ClientIdentity {
  authenticated: boolean;
  subject?: string;
}

export interface DecisionRecord {
  event: typeof DECISION_EVENT;
  schema: typeof DECISION_SCHEMA;
  // `time` is written by the logger (ISO 8601), as the first key after `level`.
  uid: string;
  decision: Decision;
  /** The webhook that decided: validate or mutate. */
  endpoint: string;
  operation: string;
  /** group/version/kind, with `core` for the empty group: `core/v1/Pod`. */
  kind: string;
  namespace: string;
  name: string;
  user: string;
  groups: string[];
  /** Who posted the review: only an authenticated client can be the API server. */
  client: ClientIdentity;
  dryRun: boolean;
  violations: Violation[];
  exemptions: ExemptionUse[];
  /** Warnings that are not rule violations. */
  warnings: string[];
  /** Items left out of the capped lists above (bounds.ts); present only when something was. */
  omitted?: { violations: number; exemptions: number; warnings: number; groups: number };
  /** True when the request was allowed without evaluation (excluded namespace). */
  excluded: boolean;
  /** Set when the decision failed with an internal error and was denied (fail closed). */
  error?: string;
  configHash: string;
  durationMs: number;
}

export function gvkString(kind: AdmissionRequest['kind']): string {
  return `${kind.group || 'core'}/${kind.version}/${kind.kind}`;
}

export class DecisionLog {
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  /**
   * Denials, warnings and allows with violations (audit mode) are always written; other
   * allows only when the config asks for them.
   */
  write(record: DecisionRecord, logAllowed: boolean): void {
    if (record.decision === 'allow' && !logAllowed && record.error === undefined && record.violations.length === 0) return;
    this.logger.info(record, 'admission decision');
  }
}
