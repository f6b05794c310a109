import type { AdmissionContext, Verdict } from './context.ts';
import type { Operation } from './review.ts';

export type Handler = (ctx: AdmissionContext) => Verdict;

/** The two webhooks netfence serves. */
export type Endpoint = 'validate' | 'mutate';

interface Registration {
  operations: ReadonlySet<Operation>;
  handler: Handler;
}

/**
 * Handlers by endpoint, API group and kind. Lookup is by exact group/kind; kinds nobody
 * registered get no handler, and the request is allowed: netfence has no opinion on them.
 */
export class HandlerTable {
  private readonly byKey = new Map<string, Registration[]>();

  register(endpoint: Endpoint, group: string, kind: string, operations: readonly Operation[], handler: Handler): this {
    const key = `${endpoint}:${group}/${kind}`;
    const list = this.byKey.get(key) ?? [];
    list.push({ operations: new Set(operations), handler });
    this.byKey.set(key, list);
    return this;
  }

  find(endpoint: Endpoint, group: string, kind: string, operation: Operation): Handler[] {
    const list = this.byKey.get(`${endpoint}:${group}/${kind}`);
    if (!list) return [];
    return list.filter((r) => r.operations.has(operation)).map((r) => r.handler);
  }
}
