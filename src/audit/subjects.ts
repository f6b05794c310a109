import type { AdmissionRequest } from '../admission/review.ts';
import type { WorkloadInfo } from '../cluster/workloads.ts';
import { POD_TEMPLATE_PATHS } from '../rules/subjects.ts';
import type { KubeObject, NamespaceInfo, NetworkPolicy, PodInfo } from '../k8s/types.ts';

// The audit judges an existing object by building the CREATE request admission would have
// seen for it, so that audit and admission run the same code and can never disagree.

/** What the audit judges: one stored object, named as Kubernetes names it. */
export interface AuditSubject {
  /** `Namespace`, `Pod`, `NetworkPolicy`, or `group/Kind` for workloads (`apps/Deployment`). */
  kindKey: string;
  apiVersion: string;
  kind: string;
  /** The object's namespace; a Namespace's own name. */
  namespace: string;
  name: string;
  uid?: string;
  object: KubeObject;
}

/** One key per object: namespace first, so that a namespace's objects sort together. */
export function subjectKey(namespace: string, kindKey: string, name: string): string {
  // join makes one flat string; a template literal makes a rope, kept beside its flattened
  // copy once hashed as a Map key (2.4 MB at 85,000 objects).
  return [namespace, kindKey, name].join('|');
}

export function parseKey(key: string): { namespace: string; kindKey: string; name: string } {
  const [namespace = '', kindKey = '', name = ''] = key.split('|');
  return { namespace, kindKey, name };
}

export function namespaceSubject(ns: NamespaceInfo): AuditSubject {
  return {
    kindKey: 'Namespace',
    apiVersion: 'v1',
    kind: 'Namespace',
    namespace: ns.name,
    name: ns.name,
    object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels: { ...ns.labels }, annotations: { ...ns.annotations } } },
  };
}

export function podSubject(pod: PodInfo): AuditSubject {
  // Admission reads a pod's labels and its containers' ports: the rebuilt object carries both.
  const ports = pod.ports.map((p) => ({ containerPort: p.containerPort, protocol: p.protocol, ...(p.name ? { name: p.name } : {}) }));
  return {
    kindKey: 'Pod',
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: pod.namespace,
    name: pod.name,
    object: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod.name, namespace: pod.namespace, labels: { ...pod.labels } },
      spec: { containers: [{ name: 'main', ports }] },
    },
  };
}

export function policySubject(policy: NetworkPolicy): AuditSubject {
  return {
    kindKey: 'NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    namespace: policy.metadata.namespace,
    name: policy.metadata.name,
    ...(policy.metadata.uid ? { uid: policy.metadata.uid } : {}),
    object: policy,
  };
}

/** The API group each workload kind is served from today. */
const WORKLOAD_GROUP: Readonly<Record<string, string>> = { Deployment: 'apps', StatefulSet: 'apps', DaemonSet: 'apps', ReplicaSet: 'apps', Job: 'batch', CronJob: 'batch' };

export function workloadSubject(w: WorkloadInfo): AuditSubject {
  const group = WORKLOAD_GROUP[w.kind] ?? 'apps';
  const kindKey = `${group}/${w.kind}`;
  // The pod template rebuilt where admission reads it (spec.template, or a CronJob's
  // spec.jobTemplate.spec.template), with the template's labels and container ports.
  const ports = w.pod.ports.map((p) => ({ containerPort: p.containerPort, protocol: p.protocol, ...(p.name ? { name: p.name } : {}) }));
  let node: Record<string, unknown> = { metadata: { labels: { ...w.pod.labels } }, spec: { containers: [{ name: 'main', ports }] } };
  const path = POD_TEMPLATE_PATHS[kindKey] ?? ['spec', 'template'];
  for (let i = path.length - 1; i >= 0; i--) node = { [path[i]!]: node };
  return {
    kindKey,
    apiVersion: `${group}/v1`,
    kind: w.kind,
    namespace: w.namespace,
    name: w.name,
    object: { apiVersion: `${group}/v1`, kind: w.kind, metadata: { name: w.name, namespace: w.namespace }, ...node },
  };
}

/**
 * The AdmissionRequest the API server would send for creating the subject. A Namespace is the
 * exception: it is judged as an UPDATE that changes nothing, so that its enforcement scope is
 * that of its stored labels (a CREATE would count it as a new, adopted namespace).
 */
export function createRequest(s: AuditSubject): AdmissionRequest {
  const [group, version] = s.apiVersion.includes('/') ? (s.apiVersion.split('/') as [string, string]) : ['', s.apiVersion];
  const clusterScoped = s.kind === 'Namespace';
  const metadata = { ...s.object.metadata, name: s.name, ...(clusterScoped ? {} : { namespace: s.namespace }) };
  return {
    uid: `audit-${s.namespace}-${s.kindKey}-${s.name}`,
    kind: { group, version, kind: s.kind },
    operation: clusterScoped ? 'UPDATE' : 'CREATE',
    ...(clusterScoped ? {} : { namespace: s.namespace }),
    name: s.name,
    userInfo: { username: 'system:serviceaccount:netfence-system:netfence-audit' },
    dryRun: true,
    object: { ...s.object, metadata },
    oldObject: clusterScoped ? { ...s.object, metadata } : null,
  };
}
