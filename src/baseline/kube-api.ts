import { KubeApiError, statusOf, type KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../k8s/types.ts';
import type { EventApi } from './events.ts';

export { statusOf };

// The API calls the reconciler and the leader election make, behind interfaces so that their
// logic can be unit-tested with in-process fakes. The end-to-end suite runs them against a
// real API server. Everything goes through the one KubeClient (one connection pool, one
// client-side rate limit).

/** A kind as the API server serves it, found by discovery. */
export interface ResolvedKind {
  group: string;
  version: string;
  kind: string;
  /** The plural resource name in URLs: networkpolicies, peerauthentications. */
  resource: string;
}

/** `/api/v1` or `/apis/GROUP/VERSION`. */
export const groupVersionPath = (group: string, version: string): string => (group === '' ? `/api/${version}` : `/apis/${group}/${version}`);

/** The collection in one namespace, or across all namespaces when namespace is undefined. */
export function collectionPath(k: ResolvedKind, namespace?: string): string {
  const base = groupVersionPath(k.group, k.version);
  return namespace === undefined ? `${base}/${k.resource}` : `${base}/namespaces/${namespace}/${k.resource}`;
}

export type NamespacedObject = KubeObject & { metadata: { name: string; namespace: string } };

/** The writes of the reconciler. Reads come from its caches, never from here. */
export interface BaselineApi {
  create(kind: ResolvedKind, object: NamespacedObject): Promise<KubeObject>;
  /** A JSON merge patch; with metadata.resourceVersion in it, a 409 when the object changed since. */
  patch(kind: ResolvedKind, namespace: string, name: string, patch: Record<string, unknown>): Promise<KubeObject>;
}

export interface Lease {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions?: number;
  resourceVersion?: string;
}

export interface LeaseApi {
  getLease(namespace: string, name: string): Promise<Lease | undefined>;
  createLease(namespace: string, name: string, lease: Lease): Promise<Lease>;
  replaceLease(namespace: string, name: string, lease: Lease): Promise<Lease>;
}

interface LeaseObject {
  metadata?: { resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

function toLease(l: LeaseObject): Lease {
  const s = l.spec ?? {};
  return {
    ...(s.holderIdentity ? { holderIdentity: s.holderIdentity } : {}),
    ...(s.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: s.leaseDurationSeconds } : {}),
    ...(s.acquireTime ? { acquireTime: new Date(s.acquireTime) } : {}),
    ...(s.renewTime ? { renewTime: new Date(s.renewTime) } : {}),
    ...(s.leaseTransitions !== undefined ? { leaseTransitions: s.leaseTransitions } : {}),
    ...(l.metadata?.resourceVersion ? { resourceVersion: l.metadata.resourceVersion } : {}),
  };
}

/**
 * A Lease's times are MicroTime: the API server parses them with six fractional digits and
 * refuses the three that Date.toISOString writes.
 */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function fromLease(namespace: string, name: string, lease: Lease): LeaseObject & KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(lease.resourceVersion ? { resourceVersion: lease.resourceVersion } : {}) },
    spec: {
      holderIdentity: lease.holderIdentity ?? '',
      leaseDurationSeconds: lease.leaseDurationSeconds ?? 15,
      ...(lease.acquireTime ? { acquireTime: microTime(lease.acquireTime) } : {}),
      ...(lease.renewTime ? { renewTime: microTime(lease.renewTime) } : {}),
      leaseTransitions: lease.leaseTransitions ?? 0,
    },
  };
}

export function kubeApis(client: KubeClient): { baseline: BaselineApi; events: EventApi; lease: LeaseApi } {
  const leases = (namespace: string): string => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  return {
    baseline: {
      create: (kind, object) => client.create<KubeObject>(collectionPath(kind, object.metadata.namespace), object),
      patch: (kind, namespace, name, patch) => client.patch<KubeObject>(`${collectionPath(kind, namespace)}/${name}`, patch, 'merge'),
    },
    events: {
      createEvent: async (event) => {
        const created = await client.create<KubeObject>(`/api/v1/namespaces/${event.metadata.namespace}/events`, event);
        return created.metadata?.name ?? '';
      },
      patchEvent: async (namespace, name, patch) => {
        await client.patch(`/api/v1/namespaces/${namespace}/events/${name}`, patch, 'merge');
      },
    },
    lease: {
      getLease: async (namespace, name) => {
        const l = await client.get<LeaseObject>(`${leases(namespace)}/${name}`);
        return l ? toLease(l) : undefined;
      },
      createLease: async (namespace, name, lease) => toLease(await client.create<LeaseObject>(leases(namespace), fromLease(namespace, name, lease))),
      replaceLease: async (namespace, name, lease) => toLease(await client.replace<LeaseObject>(`${leases(namespace)}/${name}`, fromLease(namespace, name, lease))),
    },
  };
}

/** What discovery and an access review need of the client. */
export type DiscoveryClient = Pick<KubeClient, 'get' | 'create'>;

/** The verbs the reconciler uses on a baseline kind: its informer lists and watches, it creates and patches. */
export const BASELINE_VERBS = ['list', 'watch', 'create', 'patch'] as const;

interface APIResourceList {
  resources?: Array<{ name: string; kind: string; namespaced: boolean; verbs?: string[] }>;
}

/**
 * Finds how the API server serves `apiVersion`/`kind`, and checks that netfence may list,
 * watch, create and patch it (SelfSubjectAccessReview, which every authenticated user may
 * create). Throws a KubeApiError with status 0 when the API server could not be asked; returns
 * a problem, in words an operator can act on, when the answer is no.
 */
export async function resolveKind(client: DiscoveryClient, apiVersion: string, kind: string): Promise<ResolvedKind | { problem: string }> {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const list = await client.get<APIResourceList>(groupVersionPath(group, version));
  if (!list) {
    return { problem: `the API server does not serve ${apiVersion} (is the CustomResourceDefinition for ${kind} installed, and does it serve version ${version}?)` };
  }
  const entry = (list.resources ?? []).find((r) => r.kind === kind && !r.name.includes('/'));
  if (!entry) {
    const served = [...new Set((list.resources ?? []).filter((r) => !r.name.includes('/')).map((r) => r.kind))].sort();
    return { problem: `${apiVersion} has no kind ${kind} (it serves: ${served.join(', ') || 'nothing'})` };
  }
  if (!entry.namespaced) return { problem: `${kind} is cluster-scoped; baseline objects are kept in each namespace, so they must be of a namespaced kind` };
  const resolved: ResolvedKind = { group, version, kind, resource: entry.name };
  const denied: string[] = [];
  for (const verb of BASELINE_VERBS) {
    const review = await client.create<{ status?: { allowed?: boolean } }>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { group, version, resource: entry.name, verb } },
    });
    if (!review.status?.allowed) denied.push(verb);
  }
  if (denied.length > 0) {
    return {
      problem:
        `netfence may not ${denied.join(', ')} ${entry.name}${group ? `.${group}` : ''} in all namespaces; add to its ClusterRole ` +
        `{apiGroups: ["${group}"], resources: ["${entry.name}"], verbs: [${BASELINE_VERBS.join(', ')}]} (README, "Baseline objects of any kind")`,
    };
  }
  return resolved;
}

/** Whether a failure means the API server could not be asked (retry), rather than an answer. */
export function isUnreachable(err: unknown): boolean {
  return err instanceof KubeApiError ? err.status === 0 || err.status >= 500 || err.status === 429 : statusOf(err) === undefined;
}
