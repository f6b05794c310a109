import { CoordinationV1Api, CoreV1Api, NetworkingV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { KubeObject, NetworkPolicy } from '../k8s/types.ts';

// The few API calls the reconciler and the leader election make, behind interfaces so that
// their logic can be unit-tested with an in-process fake. The end-to-end suite runs them
// against a real API server.

export interface BaselineApi {
  getPolicy(namespace: string, name: string): Promise<NetworkPolicy | undefined>;
  createPolicy(policy: NetworkPolicy): Promise<void>;
  replacePolicy(policy: NetworkPolicy): Promise<void>;
  createEvent(event: KubeObject & { metadata: { namespace: string } }): Promise<void>;
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

/** The HTTP status of a failed API call (404, 409, …), or undefined for other failures. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown; statusCode?: unknown })?.code ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

function toLease(l: V1Lease): Lease {
  const s = l.spec ?? {};
  return {
    ...(s.holderIdentity ? { holderIdentity: s.holderIdentity } : {}),
    ...(s.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: s.leaseDurationSeconds } : {}),
    ...(s.acquireTime ? { acquireTime: new Date(s.acquireTime as unknown as string) } : {}),
    ...(s.renewTime ? { renewTime: new Date(s.renewTime as unknown as string) } : {}),
    ...(s.leaseTransitions !== undefined ? { leaseTransitions: s.leaseTransitions } : {}),
    ...(l.metadata?.resourceVersion ? { resourceVersion: l.metadata.resourceVersion } : {}),
  };
}

/**
 * A Lease's times are MicroTime: the API server parses them with six fractional digits and
 * refuses the three that Date.toISOString (which the client's serializer calls) writes.
 */
class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  }
}

const micro = (d: Date | undefined): MicroTime | undefined => (d ? new MicroTime(d.getTime()) : undefined);

function fromLease(namespace: string, name: string, lease: Lease): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(lease.resourceVersion ? { resourceVersion: lease.resourceVersion } : {}) },
    spec: {
      holderIdentity: lease.holderIdentity ?? '',
      leaseDurationSeconds: lease.leaseDurationSeconds ?? 15,
      ...(lease.acquireTime ? { acquireTime: micro(lease.acquireTime) as never } : {}),
      ...(lease.renewTime ? { renewTime: micro(lease.renewTime) as never } : {}),
      leaseTransitions: lease.leaseTransitions ?? 0,
    },
  };
}

export function kubeApis(kc: KubeConfig): { baseline: BaselineApi; lease: LeaseApi } {
  const networking = kc.makeApiClient(NetworkingV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  return {
    baseline: {
      getPolicy: async (namespace, name) => {
        const p = await orUndefined(networking.readNamespacedNetworkPolicy({ namespace, name }));
        return p as unknown as NetworkPolicy | undefined;
      },
      createPolicy: async (policy) => {
        await networking.createNamespacedNetworkPolicy({ namespace: policy.metadata.namespace, body: policy as never });
      },
      replacePolicy: async (policy) => {
        await networking.replaceNamespacedNetworkPolicy({ namespace: policy.metadata.namespace, name: policy.metadata.name, body: policy as never });
      },
      createEvent: async (event) => {
        await core.createNamespacedEvent({ namespace: event.metadata.namespace, body: event as never });
      },
    },
    lease: {
      getLease: async (namespace, name) => {
        const l = await orUndefined(coordination.readNamespacedLease({ namespace, name }));
        return l ? toLease(l) : undefined;
      },
      createLease: async (namespace, name, lease) => toLease(await coordination.createNamespacedLease({ namespace, body: fromLease(namespace, name, lease) })),
      replaceLease: async (namespace, name, lease) => toLease(await coordination.replaceNamespacedLease({ namespace, name, body: fromLease(namespace, name, lease) })),
    },
  };
}
