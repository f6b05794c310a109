import type { AdmissionContext } from '../admission/context.ts';
import { containerPortsOf } from '../k8s/objects.ts';
import { isObject, type KubeObject, type NetworkPolicy, type PodInfo } from '../k8s/types.ts';
import { compilePolicy, type CompiledPolicy } from '../netpol/policy.ts';

// What the rules judge, taken out of an AdmissionRequest once: a NetworkPolicy change, a pod
// (a Pod or a workload's pod template), or a Namespace.

export interface PolicySubject {
  kind: 'NetworkPolicy';
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  namespace: string;
  name: string;
  /** The policy as it will be stored (CREATE, UPDATE). */
  policy?: CompiledPolicy;
  /** The policy as it was (UPDATE, DELETE). */
  old?: CompiledPolicy;
}

export interface PodSubject {
  kind: 'Pod';
  namespace: string;
  pod: PodInfo;
  /** Where the pod's labels are in the judged object: `metadata` or `spec.template.metadata`. */
  metadataPath: string;
}

/** Where each workload kind keeps its pod template. */
export const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  'apps/Deployment': ['spec', 'template'],
  'apps/StatefulSet': ['spec', 'template'],
  'apps/DaemonSet': ['spec', 'template'],
  'apps/ReplicaSet': ['spec', 'template'],
  'batch/Job': ['spec', 'template'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template'],
};

function asPolicy(obj: KubeObject | null | undefined, namespace: string): NetworkPolicy | undefined {
  if (!obj || !isObject(obj.spec)) return undefined;
  return { ...obj, metadata: { ...obj.metadata, name: obj.metadata?.name ?? '', namespace } } as NetworkPolicy;
}

export function policySubject(ctx: AdmissionContext): PolicySubject | undefined {
  const { request } = ctx;
  if (request.operation === 'CONNECT') return undefined;
  const namespace = request.namespace || request.object?.metadata?.namespace || request.oldObject?.metadata?.namespace || 'default';
  const policy = asPolicy(request.object, namespace);
  const old = asPolicy(request.oldObject, namespace);
  return {
    kind: 'NetworkPolicy',
    operation: request.operation,
    namespace,
    name: request.name || policy?.metadata.name || old?.metadata.name || '',
    // Compiled directly, not through the index's cache: a request's object is never seen again.
    // Its selectors are shared with the cached policies' when equal (and so is what is known of them).
    ...(policy && request.operation !== 'DELETE' ? { policy: compilePolicy(policy, ctx.index.compileSelector) } : {}),
    ...(old ? { old: compilePolicy(old, ctx.index.compileSelector) } : {}),
  };
}

/** A Pod, or the pod template of a workload, as the pod it will create. */
export function podSubject(ctx: AdmissionContext): PodSubject | undefined {
  const { request } = ctx;
  const obj = request.object;
  if (!obj) return undefined;
  const namespace = request.namespace || obj.metadata?.namespace || 'default';
  const key = `${request.kind.group}/${request.kind.kind}`;
  let metadata: unknown = obj.metadata;
  let spec: unknown = obj.spec;
  let metadataPath = 'metadata';
  const templatePath = POD_TEMPLATE_PATHS[key];
  if (templatePath) {
    let template: unknown = obj;
    for (const step of templatePath) template = isObject(template) ? template[step] : undefined;
    if (!isObject(template)) return undefined;
    metadata = template.metadata;
    spec = template.spec;
    metadataPath = `${templatePath.join('.')}.metadata`;
  }
  const labels: Record<string, string> = {};
  if (isObject(metadata) && isObject(metadata.labels)) {
    for (const [k, v] of Object.entries(metadata.labels)) if (typeof v === 'string') labels[k] = v;
  }
  const name = request.name || obj.metadata?.name || (obj.metadata?.generateName ? `${obj.metadata.generateName}*` : '(unnamed)');
  return { kind: 'Pod', namespace, metadataPath, pod: { namespace, name, labels, ports: containerPortsOf(spec), ips: [] } };
}
