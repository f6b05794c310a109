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

/**
 * Shares equal values among cached objects: the pods of one ReplicaSet carry the same labels
 * and ports, so 50,000 pods hold a few thousand distinct label maps. Entries are held weakly
 * and dropped once no cached object uses them, so churn (new pod-template-hash values) does not
 * grow the table.
 */
class Interner<T extends object> {
  private readonly byKey = new Map<string, WeakRef<T>>();
  private readonly registry = new FinalizationRegistry<string>((key) => {
    if (this.byKey.get(key)?.deref() === undefined) this.byKey.delete(key);
  });

  intern(key: string, value: T): T {
    const existing = this.byKey.get(key)?.deref();
    if (existing) return existing;
    this.byKey.set(key, new WeakRef(value));
    this.registry.register(value, key);
    return value;
  }
}

const labelMaps = new Interner<Readonly<Record<string, string>>>();
const portLists = new Interner<readonly ContainerPort[]>();
const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const EMPTY_PORTS: readonly ContainerPort[] = Object.freeze([]);
const EMPTY_IPS: readonly string[] = Object.freeze([]);

/** The one shared, frozen copy of a label map equal to this one. */
export function internLabels(labels: Record<string, string>): Readonly<Record<string, string>> {
  const keys = Object.keys(labels);
  if (keys.length === 0) return EMPTY_LABELS;
  let key = '';
  for (const k of keys.sort()) key += `${k}\u0000${labels[k]}\u0001`;
  return labelMaps.intern(key, Object.freeze(labels));
}

export function internPorts(ports: ContainerPort[]): readonly ContainerPort[] {
  if (ports.length === 0) return EMPTY_PORTS;
  let key = '';
  for (const p of ports) key += `${p.containerPort}/${p.protocol}/${p.name ?? ''},`;
  return portLists.intern(key, Object.freeze(ports.map((p) => Object.freeze(p))));
}

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
    labels: internLabels(stringMap(obj.metadata?.labels)),
    ports: internPorts(containerPortsOf(obj.spec)),
    ips: ips.size === 0 ? EMPTY_IPS : [...ips],
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
