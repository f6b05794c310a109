import { HandlerTable } from './handlers.ts';

/** The handlers netfence serves with. Rule and baseline handlers register here. */
export function defaultHandlers(): HandlerTable {
  return new HandlerTable();
}
