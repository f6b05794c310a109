import type { AdmissionContext, Verdict } from './context.ts';
import type { Operation } from './review.ts';

export type Handler = (ctx: AdmissionContext) => Verdict;

/** The two webhooks netfence serves. */
export type Endpoint = 'validate' | 'mutate';

/**
 * Handlers by endpoint, API group and kind. Lookup is by exact group/kind; kinds nobody
 * registered get no handler, and the request is allowed: netfence has no opinion on them.
 */
export class HandlerTable {
  /** Handlers by endpoint, group, kind and operation: one lookup per request. */
  private readonly byKey = new Map<string, Handler[]>();

  register(endpoint: Endpoint, group: string, kind: string, operations: readonly Operation[], handler: Handler): this {
    for (const operation of operations) {
      const key = `${endpoint}:${group}/${kind}:${operation}`;
      const list = this.byKey.get(key) ?? [];
      list.push(handler);
      this.byKey.set(key, list);
    }
    return this;
  }

  find(endpoint: Endpoint, group: string, kind: string, operation: Operation): readonly Handler[] {
    return this.byKey.get(`${endpoint}:${group}/${kind}:${operation}`) ?? NONE;
  }
}

const NONE: readonly Handler[] = Object.freeze([]);
