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
  private readonly groupKinds = new Map<string, { group: string; kind: string }>();

  register(endpoint: Endpoint, group: string, kind: string, operations: readonly Operation[], handler: Handler): this {
    this.groupKinds.set(`${group}/${kind}`, { group, kind });
    for (const operation of operations) {
      const key = `${endpoint}:${group}/${kind}:${operation}`;
      const list = this.byKey.get(key) ?? [];
      list.push(handler);
      this.byKey.set(key, list);
    }
    return this;
  }

  /** The API group and kind of every registered handler: the kinds netfence judges. */
  kinds(): Array<{ group: string; kind: string }> {
    return [...this.groupKinds.values()];
  }

  find(endpoint: Endpoint, group: string, kind: string, operation: Operation): readonly Handler[] {
    return this.byKey.get(`${endpoint}:${group}/${kind}:${operation}`) ?? NONE;
  }
}

const NONE: readonly Handler[] = Object.freeze([]);
