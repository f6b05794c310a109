import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, transportFrom, type KubeTransport } from './client.ts';

// Where netfence finds the API server and its credentials, without @kubernetes/client-node:
// importing that library costs ~85 MB of RSS, more than the whole cache of a 500-namespace
// cluster. Handled here: in-cluster (ServiceAccount token file, re-read as the kubelet rotates
// it), and kubeconfig files with a token, token file, client certificate and key, basic auth,
// CA. Anything else (exec plugins, auth providers) is handed to client-node, loaded only then.

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The kubelet rotates projected tokens well before expiry; re-reading each minute is plenty. */
const TOKEN_FILE_TTL_MS = 60_000;

interface NamedCluster {
  name: string;
  cluster: { server?: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean; 'tls-server-name'?: string; 'proxy-url'?: string };
}
interface NamedUser {
  name: string;
  user?: {
    token?: string;
    tokenFile?: string;
    'client-certificate'?: string;
    'client-certificate-data'?: string;
    'client-key'?: string;
    'client-key-data'?: string;
    username?: string;
    password?: string;
    exec?: unknown;
    'auth-provider'?: unknown;
    as?: string;
  };
}
interface KubeconfigFile {
  'current-context'?: string;
  clusters?: NamedCluster[];
  users?: NamedUser[];
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
}

function badConfig(where: string, message: string): KubeApiError {
  return new KubeApiError(0, 'BadConfig', `${where}: ${message}`);
}

/** A token read from a file, re-read every minute (rotated ServiceAccount tokens). */
function tokenFileHeader(file: string): () => Promise<Record<string, string>> {
  let cached: { value: string; at: number } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.at > TOKEN_FILE_TTL_MS) cached = { value: readFileSync(file, 'utf8').trim(), at: Date.now() };
    return { Authorization: `Bearer ${cached.value}` };
  };
}

/** The in-cluster transport: the Service's address from the environment, the ServiceAccount's token and CA. */
export function inClusterTransport(env: NodeJS.ProcessEnv = process.env, dir = SA_DIR): KubeTransport {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw badConfig('in-cluster config', 'KUBERNETES_SERVICE_HOST is not set; pass --kubeconfig when running outside a cluster');
  const headers = tokenFileHeader(join(dir, 'token'));
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    tls: { ca: readFileSync(join(dir, 'ca.crt')) },
    headers,
  };
}

/**
 * The transport of a kubeconfig file's current context, or undefined when its user needs an
 * exec plugin or auth provider (the caller then falls back to client-node).
 */
export function kubeconfigTransport(file: string): KubeTransport | undefined {
  let doc: KubeconfigFile;
  try {
    doc = parse(readFileSync(file, 'utf8')) as KubeconfigFile;
  } catch (err) {
    throw badConfig(file, `cannot read the kubeconfig: ${(err as Error).message}`);
  }
  const base = dirname(resolve(file));
  const path = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const contextName = doc['current-context'];
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw badConfig(file, `current-context ${JSON.stringify(contextName)} is not among its contexts`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw badConfig(file, `cluster ${JSON.stringify(context.cluster)} (of context ${contextName}) has no server`);
  const user = doc.users?.find((u) => u.name === context.user)?.user ?? {};
  if (user.exec || user['auth-provider'] || cluster['proxy-url']) return undefined;
  const server = new URL(cluster.server);
  if (server.protocol === 'http:' && !cluster['insecure-skip-tls-verify']) throw badConfig(file, `server ${cluster.server}: plain HTTP needs insecure-skip-tls-verify`);
  const bytes = (data: string | undefined, file: string | undefined): Buffer | undefined =>
    data ? Buffer.from(data, 'base64') : file ? readFileSync(path(file)) : undefined;
  const tls: KubeTransport['tls'] = {};
  const ca = bytes(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (ca) tls.ca = ca;
  const cert = bytes(user['client-certificate-data'], user['client-certificate']);
  const key = bytes(user['client-key-data'], user['client-key']);
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (cluster['insecure-skip-tls-verify']) tls.rejectUnauthorized = false;
  if (cluster['tls-server-name']) tls.servername = cluster['tls-server-name'];
  const extra: Record<string, string> = user.as ? { 'Impersonate-User': user.as } : {};
  let headers: () => Promise<Record<string, string>>;
  if (user.token) {
    const fixed = { ...extra, Authorization: `Bearer ${user.token}` };
    headers = async () => fixed;
  } else if (user.tokenFile) {
    const read = tokenFileHeader(path(user.tokenFile));
    headers = async () => ({ ...extra, ...(await read()) });
  } else if (user.username !== undefined) {
    const fixed = { ...extra, Authorization: `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}` };
    headers = async () => fixed;
  } else {
    headers = async () => extra;
  }
  return { server, tls, headers };
}

/**
 * netfence's transport: --kubeconfig, else KUBECONFIG (its first file) or ~/.kube/config when
 * KUBECONFIG is set, else in-cluster; client-node only for what this file does not handle.
 */
export async function loadTransport(file?: string, env: NodeJS.ProcessEnv = process.env): Promise<KubeTransport> {
  const chosen = file ?? (env.KUBECONFIG ? env.KUBECONFIG.split(':').find((f) => f !== '') ?? join(homedir(), '.kube', 'config') : undefined);
  if (!chosen) return inClusterTransport(env);
  const transport = kubeconfigTransport(chosen);
  if (transport) return transport;
  return transportFrom(await loadKubeConfig(chosen));
}

/**
 * client-node's KubeConfig, loaded on demand (for exec plugins and auth providers, and for
 * code that still calls client-node): --kubeconfig, else KUBECONFIG or ~/.kube/config, else
 * in-cluster.
 */
export async function loadKubeConfig(file?: string, env: NodeJS.ProcessEnv = process.env): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else if (env.KUBECONFIG) kc.loadFromDefault();
  else kc.loadFromCluster();
  return kc;
}
