import { mutateNamespace } from '../baseline/mutate.ts';
import { judgeNamespace, judgeNetworkPolicy, judgePod } from '../rules/evaluate.ts';
import { POD_TEMPLATE_PATHS } from '../rules/subjects.ts';
import { HandlerTable } from './handlers.ts';

/** The handlers netfence serves with: what each webhook judges, by kind and operation. */
export function defaultHandlers(): HandlerTable {
  const table = new HandlerTable()
    .register('mutate', '', 'Namespace', ['CREATE'], mutateNamespace)
    .register('validate', 'networking.k8s.io', 'NetworkPolicy', ['CREATE', 'UPDATE', 'DELETE'], judgeNetworkPolicy)
    .register('validate', '', 'Pod', ['CREATE'], judgePod)
    .register('validate', '', 'Namespace', ['CREATE', 'UPDATE'], judgeNamespace);
  for (const key of Object.keys(POD_TEMPLATE_PATHS)) {
    const [group, kind] = key.split('/') as [string, string];
    table.register('validate', group, kind, ['CREATE', 'UPDATE'], judgePod);
  }
  return table;
}
