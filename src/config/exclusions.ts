import { NAMESPACE_NAME_LABEL, type LabelSelector } from '../k8s/types.ts';
import type { NetfenceConfig } from './types.ts';

/**
 * One source of truth for exclusions: the config's `excludedNamespaces` plus netfence's own
 * namespace. The webhooks' `namespaceSelector` is derived from it (and written by the leader
 * into netfence's webhook configurations), so the API server does not even call netfence for
 * these namespaces: with `failurePolicy: Fail`, that is what keeps them writable while
 * netfence is down. Decisions exclude the same list (admission/context.ts), for requests that
 * reach netfence anyway (a selector not yet updated, `netfence check`).
 */
export function excludedNamespaceNames(config: Pick<NetfenceConfig, 'excludedNamespaces'>, netfenceNamespace: string): string[] {
  return [...new Set([netfenceNamespace, ...config.excludedNamespaces])].sort();
}

/**
 * The webhooks' namespaceSelector: every namespace except the excluded ones, by the name
 * label the API server sets on every namespace (it cannot be forged: the API server
 * overwrites it with the name).
 */
export function webhookNamespaceSelector(config: Pick<NetfenceConfig, 'excludedNamespaces'>, netfenceNamespace: string): LabelSelector {
  return {
    matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: excludedNamespaceNames(config, netfenceNamespace) }],
  };
}
