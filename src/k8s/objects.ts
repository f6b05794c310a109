import {
  isObject,
  NAMESPACE_NAME_LABEL,
  type ContainerPort,
  type KubeObject,
  type NamespaceInfo,
  type NetworkPolicy,
  type PodInfo,
  type Protocol,
} from './types.ts';

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * The namespace as decisions see it. The API server always sets the name label; objects
 * from manifests or from old API servers may lack it, so it is added here once.
 */
export function namespaceInfo(obj: KubeObject): NamespaceInfo {
  const name = obj.metadata?.name ?? '';
  const status = isObject(obj.status) ? obj.status : {};
  const terminating = Boolean(obj.metadata?.deletionTimestamp) || status.phase === 'Terminating';
  return {
    name,
    labels: { ...stringMap(obj.metadata?.labels), [NAMESPACE_NAME_LABEL]: name },
    annotations: stringMap(obj.metadata?.annotations),
    ...(terminating ? { terminating } : {}),
  };
}

/** A namespace that is referenced but not known: it carries only its name label. */
export function bareNamespace(name: string): NamespaceInfo {
  return { name, labels: { [NAMESPACE_NAME_LABEL]: name }, annotations: {} };
}

const PROTOCOLS = new Set<Protocol>(['TCP', 'UDP', 'SCTP']);

export function containerPortsOf(podSpec: unknown): ContainerPort[] {
  const ports: ContainerPort[] = [];
  if (!isObject(podSpec)) return ports;
  for (const list of [podSpec.containers, podSpec.initContainers]) {
    if (!Array.isArray(list)) continue;
    for (const container of list) {
      if (!isObject(container) || !Array.isArray(container.ports)) continue;
      for (const p of container.ports) {
        if (!isObject(p) || typeof p.containerPort !== 'number') continue;
        const protocol = PROTOCOLS.has(p.protocol as Protocol) ? (p.protocol as Protocol) : 'TCP';
        ports.push({
          containerPort: p.containerPort,
          protocol,
          ...(typeof p.name === 'string' && p.name !== '' ? { name: p.name } : {}),
        });
      }
    }
  }
  return ports;
}

/** Only what decisions read of a Pod: labels, container ports and IPs. */
export function podInfo(obj: KubeObject, fallbackNamespace = 'default'): PodInfo {
  const status = isObject(obj.status) ? obj.status : {};
  const ips = new Set<string>();
  if (typeof status.podIP === 'string' && status.podIP !== '') ips.add(status.podIP);
  if (Array.isArray(status.podIPs)) {
    for (const entry of status.podIPs) if (isObject(entry) && typeof entry.ip === 'string') ips.add(entry.ip);
  }
  return {
    namespace: obj.metadata?.namespace ?? fallbackNamespace,
    name: obj.metadata?.name ?? obj.metadata?.generateName ?? '',
    labels: stringMap(obj.metadata?.labels),
    ports: containerPortsOf(obj.spec),
    ips: [...ips],
  };
}

/** Annotations a cache never needs: kubectl's copy of the whole object is the big one. */
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

/**
 * A NetworkPolicy as the live cache keeps it: the spec exactly as the API server sent it (from,
 * to, except, endPort: decisions read all of it), and of the metadata what the reconciler
 * compares and writes with (resourceVersion for optimistic concurrency, labels, annotations,
 * uid). managedFields and kubectl's last-applied copy are dropped.
 */
export function networkPolicyInfo(obj: KubeObject): NetworkPolicy {
  const m = obj.metadata ?? {};
  const annotations = stringMap(m.annotations);
  for (const key of DROPPED_ANNOTATIONS) delete annotations[key];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: m.name ?? '',
      namespace: m.namespace ?? '',
      ...(m.uid ? { uid: m.uid } : {}),
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
      ...(isObject(m.labels) ? { labels: stringMap(m.labels) } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: (isObject(obj.spec) ? obj.spec : { podSelector: {} }) as unknown as NetworkPolicy['spec'],
  };
}
