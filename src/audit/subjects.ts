import type { AdmissionRequest } from '../admission/review.ts';
import type { WorkloadInfo } from '../cluster/view.ts';
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
  return `${namespace}|${kindKey}|${name}`;
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

export function workloadSubject(w: WorkloadInfo): AuditSubject {
  const apiVersion = w.object.apiVersion ?? 'apps/v1';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  const kind = w.object.kind ?? '';
  return {
    kindKey: `${group}/${kind}`,
    apiVersion,
    kind,
    namespace: w.namespace,
    name: w.name,
    ...(w.object.metadata?.uid ? { uid: w.object.metadata.uid } : {}),
    object: w.object,
  };
}

/** The AdmissionRequest the API server would send for creating the subject. */
export function createRequest(s: AuditSubject): AdmissionRequest {
  const [group, version] = s.apiVersion.includes('/') ? (s.apiVersion.split('/') as [string, string]) : ['', s.apiVersion];
  const clusterScoped = s.kind === 'Namespace';
  const metadata = { ...s.object.metadata, name: s.name, ...(clusterScoped ? {} : { namespace: s.namespace }) };
  return {
    uid: `audit-${s.namespace}-${s.kindKey}-${s.name}`,
    kind: { group, version, kind: s.kind },
    operation: 'CREATE',
    ...(clusterScoped ? {} : { namespace: s.namespace }),
    name: s.name,
    userInfo: { username: 'system:serviceaccount:netfence-system:netfence-audit' },
    dryRun: true,
    object: { ...s.object, metadata },
    oldObject: null,
  };
}
