import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ManifestObject } from '../cluster/manifests.ts';
import { isWorkloadKind } from '../cluster/workloads.ts';
import { KubeApiError, KubeClient } from '../kube/client.ts';
import { loadTransport } from '../kube/config.ts';
import { isObject, type KubeObject } from '../k8s/types.ts';

// Live mode of check, reach and exposure: one read of the cluster (LIST, paginated, plain JSON,
// never a write), turned into the same objects as manifests. Only what decisions and answers
// read is kept of each object, so that a large cluster does not fill the memory.

/** A cluster that could not be read: bad input for the CLI (exit 2), with what to do. */
export class ClusterReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterReadError';
  }
}

const COLLECTIONS: ReadonlyArray<[kind: string, apiVersion: string, path: string]> = [
  ['Namespace', 'v1', '/api/v1/namespaces'],
  ['Pod', 'v1', '/api/v1/pods'],
  ['NetworkPolicy', 'networking.k8s.io/v1', '/apis/networking.k8s.io/v1/networkpolicies'],
  ['Deployment', 'apps/v1', '/apis/apps/v1/deployments'],
  ['StatefulSet', 'apps/v1', '/apis/apps/v1/statefulsets'],
  ['DaemonSet', 'apps/v1', '/apis/apps/v1/daemonsets'],
  ['ReplicaSet', 'apps/v1', '/apis/apps/v1/replicasets'],
  ['Job', 'batch/v1', '/apis/batch/v1/jobs'],
  ['CronJob', 'batch/v1', '/apis/batch/v1/cronjobs'],
];

function controlled(meta: Record<string, unknown>): boolean {
  return Array.isArray(meta.ownerReferences) && meta.ownerReferences.some((o) => isObject(o) && o.controller === true);
}

/** The part of a listed object that netfence reads; undefined for objects that are not endpoints of their own. */
export function slim(kind: string, apiVersion: string, item: Record<string, unknown>): KubeObject | undefined {
  const meta = isObject(item.metadata) ? item.metadata : {};
  const metadata = {
    name: meta.name as string,
    ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
    ...(isObject(meta.labels) ? { labels: meta.labels as Record<string, string> } : {}),
    ...(isObject(meta.annotations) && kind === 'Namespace' ? { annotations: meta.annotations as Record<string, string> } : {}),
    ...(meta.deletionTimestamp ? { deletionTimestamp: meta.deletionTimestamp } : {}),
    ...(controlled(meta) ? { ownerReferences: meta.ownerReferences } : {}),
  };
  const spec = isObject(item.spec) ? item.spec : {};
  switch (kind) {
    case 'Namespace':
      return { apiVersion, kind, metadata, ...(isObject(item.status) ? { status: { phase: item.status.phase } } : {}) };
    case 'NetworkPolicy':
      return { apiVersion, kind, metadata, spec };
    case 'Pod': {
      const status = isObject(item.status) ? item.status : {};
      const containers = (list: unknown) => (Array.isArray(list) ? list.map((c) => (isObject(c) ? { name: c.name, ports: c.ports } : {})) : []);
      return { apiVersion, kind, metadata, spec: { containers: containers(spec.containers), initContainers: containers(spec.initContainers) }, status: { podIP: status.podIP, podIPs: status.podIPs } };
    }
    default:
      // A ReplicaSet of a Deployment, a Job of a CronJob: the owner stands for them.
      if (!isWorkloadKind(kind) || controlled(meta)) return undefined;
      if (kind === 'CronJob') {
        const template = isObject(spec.jobTemplate) && isObject(spec.jobTemplate.spec) ? spec.jobTemplate.spec.template : undefined;
        return { apiVersion, kind, metadata, spec: { jobTemplate: { spec: { template } } } };
      }
      return { apiVersion, kind, metadata, spec: { template: spec.template } };
  }
}

/**
 * The kubeconfig to use: the given file; for --live (''), the first file of KUBECONFIG, else
 * ~/.kube/config, else the in-cluster configuration.
 */
function chooseKubeconfig(file: string, env: NodeJS.ProcessEnv): string | undefined {
  if (file !== '') return file;
  const fromEnv = env.KUBECONFIG?.split(':').find((f) => f !== '');
  if (fromEnv) return fromEnv;
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? home : undefined;
}

/** Reads Namespaces, Pods, workloads and NetworkPolicies (read-only, paginated). */
export async function readCluster(file: string, env: NodeJS.ProcessEnv = process.env): Promise<{ objects: ManifestObject[]; origin: string }> {
  const chosen = chooseKubeconfig(file, env);
  if (chosen !== undefined && !existsSync(chosen)) throw new ClusterReadError(`--kubeconfig ${chosen}: no such file`);
  let client: KubeClient;
  try {
    client = new KubeClient(await loadTransport(chosen, env), { requestTimeoutMs: 30_000 });
  } catch (err) {
    throw new ClusterReadError(`${chosen ? `kubeconfig ${chosen}` : 'in-cluster configuration'}: ${(err as Error).message}`);
  }
  const origin = `cluster ${client.server.replace(/\/$/, '')}`;
  const objects: ManifestObject[] = [];
  try {
    for (const [kind, apiVersion, path] of COLLECTIONS) {
      let n = 0;
      await client.listPages(path, { limit: 500 }, ({ items }) => {
        for (const item of items) {
          const object = slim(kind, apiVersion, item);
          n++;
          if (object) objects.push({ object, source: { file: `${origin} ${path}`, document: n, path: '' } });
        }
      });
    }
  } catch (err) {
    const e = err as Error;
    const why = err instanceof KubeApiError && err.status === 403 ? ' (netfence needs list on namespaces, pods, networkpolicies and the workload kinds)' : '';
    throw new ClusterReadError(`reading ${origin}: ${e.message}${why}`);
  } finally {
    client.close();
  }
  return { objects, origin };
}
