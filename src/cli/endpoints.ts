import type { StaticClusterView } from '../cluster/static.ts';
import { WORKLOAD_KINDS, workloadRef, type WorkloadInfo } from '../cluster/workloads.ts';
import { parseIP } from '../netpol/cidr.ts';
import type { Endpoint } from '../netpol/reach.ts';
import { UsageError } from './usage.ts';

/** kubectl's names for the kinds, lower case: `deployment`, `deploy`, `deployments`. */
const KIND_ALIASES: Readonly<Record<string, string>> = {
  pod: 'Pod', pods: 'Pod', po: 'Pod',
  deploy: 'Deployment', sts: 'StatefulSet', ds: 'DaemonSet', rs: 'ReplicaSet', cj: 'CronJob',
  ...Object.fromEntries(WORKLOAD_KINDS.flatMap((k) => [[k.toLowerCase(), k], [`${k.toLowerCase()}s`, k]])),
};

/** A pod or workload of the view, with the name answers use for it. */
export interface NamedEndpoint {
  endpoint: Endpoint;
  /** `shop/api` for a Pod, `shop/deployment/api` for a workload, the address for an address. */
  name: string;
  /** The workload or pod it stands for (undefined for an address). */
  workload?: WorkloadInfo;
}

/**
 * Pods and workloads of a namespace, as workloads (a Pod stands for itself). For listings
 * (bare), pods a controller made are left out: their workload stands for them.
 */
export function endpointsOf(view: StaticClusterView, namespace: string, bare = false): WorkloadInfo[] {
  const pods = view.pods(namespace).filter((pod) => !bare || !view.isControlled(pod));
  return [...pods.map((pod) => ({ kind: 'Pod', namespace, name: pod.name, pod })), ...view.workloads(namespace)];
}

export function endpointName(w: WorkloadInfo): string {
  return w.kind === 'Pod' ? `${w.namespace}/${w.name}` : workloadRef(w);
}

function named(view: StaticClusterView, w: WorkloadInfo): NamedEndpoint {
  return { endpoint: { kind: 'pod', pod: w.pod, namespace: view.namespace(w.namespace)! }, name: endpointName(w), workload: w };
}

/**
 * `NAMESPACE/NAME` (a Pod of that name, else the one workload of that name), `NAMESPACE/KIND/NAME`
 * (exactly that object), or an IPv4/IPv6 address outside the cluster.
 */
export function parseEndpoint(flag: string, text: string, view: StaticClusterView): NamedEndpoint {
  const ip = parseIP(text);
  if (ip) return { endpoint: { kind: 'address', family: ip.family, value: ip.value, text }, name: text };
  const parts = text.split('/');
  if ((parts.length !== 2 && parts.length !== 3) || parts.some((p) => p === '')) {
    throw new UsageError(`${flag} ${text}: expected NAMESPACE/NAME, NAMESPACE/KIND/NAME (production/deployment/api) or an IPv4/IPv6 address`);
  }
  const namespace = parts[0]!;
  const name = parts[parts.length - 1]!;
  const all = endpointsOf(view, namespace);
  let candidates: WorkloadInfo[];
  if (parts.length === 3) {
    const kind = KIND_ALIASES[parts[1]!.toLowerCase()];
    if (!kind) throw new UsageError(`${flag} ${text}: ${parts[1]} is not a kind of pod or workload (use pod, ${WORKLOAD_KINDS.map((k) => k.toLowerCase()).join(', ')})`);
    candidates = all.filter((w) => w.kind === kind && w.name === name);
  } else {
    const pod = all.find((w) => w.kind === 'Pod' && w.name === name);
    candidates = pod ? [pod] : all.filter((w) => w.name === name);
  }
  if (candidates.length === 1) return named(view, candidates[0]!);
  if (candidates.length > 1) {
    throw new UsageError(`${flag} ${text}: several workloads are named ${name}: ${candidates.map(endpointName).join(', ')}; name one as NAMESPACE/KIND/NAME`);
  }
  const known = all.map(endpointName).sort();
  const hint = known.length ? `in ${namespace}: ${known.join(', ')}` : `there are no pods or workloads in namespace ${namespace}`;
  throw new UsageError(`${flag} ${text}: no such pod or workload (${hint})`);
}
