import { containerPortsOf, internLabels, internPorts } from '../k8s/objects.ts';
import { isObject, type KubeObject, type PodInfo } from '../k8s/types.ts';

// Workloads as endpoints: a Deployment (StatefulSet, DaemonSet, ReplicaSet, Job, CronJob)
// stands for the pods its template makes, with the template's labels and container ports.

/** Where each workload kind keeps its pod template (by kind: manifests from old API groups count too). */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export const WORKLOAD_KINDS: readonly string[] = Object.keys(TEMPLATE_PATHS);

export interface WorkloadInfo {
  /** Deployment, StatefulSet, …, or Pod for a bare pod. */
  kind: string;
  namespace: string;
  name: string;
  /** The pod the workload makes (a bare Pod: itself), named after the workload. */
  pod: PodInfo;
}

export function isWorkloadKind(kind: string | undefined): boolean {
  return kind !== undefined && kind in TEMPLATE_PATHS;
}

/** The pod a workload's template makes, or undefined when the object has no template. */
export function workloadInfo(object: KubeObject, fallbackNamespace = 'default'): WorkloadInfo | undefined {
  const path = TEMPLATE_PATHS[object.kind ?? ''];
  if (!path) return undefined;
  let template: unknown = object;
  for (const step of path) template = isObject(template) ? template[step] : undefined;
  if (!isObject(template)) return undefined;
  const meta = isObject(template.metadata) ? template.metadata : {};
  const labels: Record<string, string> = {};
  if (isObject(meta.labels)) for (const [k, v] of Object.entries(meta.labels)) if (typeof v === 'string') labels[k] = v;
  const namespace = object.metadata?.namespace || fallbackNamespace;
  const name = object.metadata?.name || object.metadata?.generateName || '';
  return { kind: object.kind!, namespace, name, pod: { namespace, name, labels, ports: containerPortsOf(template.spec), ips: [] } };
}

/** `production/deployment/api`: how a workload is named on the command line and in answers. */
export function workloadRef(w: WorkloadInfo): string {
  return `${w.namespace}/${w.kind.toLowerCase()}/${w.name}`;
}

/** Where the live view lists and watches each workload kind (the API groups served today). */
export const WORKLOAD_RESOURCES: ReadonlyArray<{ kind: string; resource: string; path: string }> = [
  { kind: 'Deployment', resource: 'deployments', path: '/apis/apps/v1/deployments' },
  { kind: 'StatefulSet', resource: 'statefulsets', path: '/apis/apps/v1/statefulsets' },
  { kind: 'DaemonSet', resource: 'daemonsets', path: '/apis/apps/v1/daemonsets' },
  { kind: 'ReplicaSet', resource: 'replicasets', path: '/apis/apps/v1/replicasets' },
  { kind: 'Job', resource: 'jobs', path: '/apis/batch/v1/jobs' },
  { kind: 'CronJob', resource: 'cronjobs', path: '/apis/batch/v1/cronjobs' },
];

const NO_IPS: readonly string[] = Object.freeze([]);

/**
 * A listed or watched workload reduced to what the audit reads: its kind, namespace and name,
 * the template's labels and container ports (shared copies, as for pods). List items carry no
 * kind, hence the argument; an object without a template (not valid in apps/v1 or batch/v1)
 * keeps none, so it is still judged, as a pod with no labels.
 */
export function liveWorkloadInfo(kind: string, object: KubeObject): WorkloadInfo {
  const namespace = object.metadata?.namespace ?? '';
  const name = object.metadata?.name ?? '';
  const w = workloadInfo({ ...object, kind }, namespace);
  const labels = internLabels(w ? { ...w.pod.labels } : {});
  const ports = internPorts(w ? [...w.pod.ports] : []);
  return { kind, namespace, name, pod: { namespace, name, labels, ports, ips: NO_IPS } };
}
