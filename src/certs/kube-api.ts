import { RequestContext, HttpMethod, type KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';
import type { WebhookConfiguration } from './webhooks.ts';

// The API calls of the certificate controller and of a replica following the Secret, behind an
// interface so that their logic is unit-tested with an in-process fake; the end-to-end suite
// runs them against a real API server. Objects travel as plain JSON: a typed client would drop
// fields of the webhook configurations that its models do not know, and a write would then
// erase them.

export interface Secret {
  apiVersion?: 'v1';
  kind?: 'Secret';
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string>; [field: string]: unknown };
  type?: string;
  data?: Record<string, string>;
}

export type WebhookKind = 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration';

export interface Endpoint {
  address: string;
  port: number;
}

export interface CertsApi {
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  /** 409 when it exists already. */
  createSecret(secret: Secret): Promise<Secret>;
  /** Carries metadata.resourceVersion: 409 when someone wrote in between. */
  replaceSecret(secret: Secret): Promise<Secret>;
  getWebhookConfiguration(kind: WebhookKind, name: string): Promise<WebhookConfiguration | undefined>;
  /** Carries metadata.resourceVersion: 409 when someone wrote in between. */
  replaceWebhookConfiguration(config: WebhookConfiguration): Promise<WebhookConfiguration>;
  /** The addresses of the Service's endpoints (ready or not, terminating ones left out). */
  serviceEndpoints(namespace: string, service: string): Promise<Endpoint[]>;
}

export class ApiError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

const webhookPath = (kind: WebhookKind): string =>
  `/apis/admissionregistration.k8s.io/v1/${kind === 'ValidatingWebhookConfiguration' ? 'validatingwebhookconfigurations' : 'mutatingwebhookconfigurations'}`;

interface EndpointSliceList {
  items: Array<{
    addressType?: string;
    ports?: Array<{ name?: string; port?: number }>;
    endpoints?: Array<{ addresses?: string[]; conditions?: { terminating?: boolean } }>;
  }>;
}

export function certsApi(kc: KubeConfig): CertsApi {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  async function call<T>(method: HttpMethod, path: string, body?: unknown): Promise<T | undefined> {
    const ctx = new RequestContext(`${server}${path}`, method);
    await kc.applySecurityAuthentication(ctx);
    const headers = { ...ctx.getHeaders(), accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) };
    const res = await fetch(`${server}${path}`, {
      method,
      headers,
      dispatcher: ctx.getDispatcher(),
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status === 404 && method === HttpMethod.GET) return undefined;
    if (res.status >= 300) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not a Status object: keep the body
      }
      throw new ApiError(res.status, `${method} ${path}: ${res.status} ${message.slice(0, 500)}`);
    }
    return JSON.parse(text) as T;
  }
  const must = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('empty answer from the API server');
    return v;
  };
  return {
    getSecret: (ns, name) => call<Secret>(HttpMethod.GET, `/api/v1/namespaces/${ns}/secrets/${name}`),
    createSecret: async (s) => must(await call<Secret>(HttpMethod.POST, `/api/v1/namespaces/${s.metadata.namespace}/secrets`, { apiVersion: 'v1', kind: 'Secret', ...s })),
    replaceSecret: async (s) => must(await call<Secret>(HttpMethod.PUT, `/api/v1/namespaces/${s.metadata.namespace}/secrets/${s.metadata.name}`, { apiVersion: 'v1', kind: 'Secret', ...s })),
    getWebhookConfiguration: (kind, name) => call<WebhookConfiguration>(HttpMethod.GET, `${webhookPath(kind)}/${name}`),
    replaceWebhookConfiguration: async (c) => must(await call<WebhookConfiguration>(HttpMethod.PUT, `${webhookPath(c.kind)}/${c.metadata.name}`, c)),
    serviceEndpoints: async (ns, service) => {
      const list = must(await call<EndpointSliceList>(HttpMethod.GET, `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}`));
      const out: Endpoint[] = [];
      for (const slice of list.items) {
        if (slice.addressType === 'FQDN') continue;
        const port = slice.ports?.[0]?.port;
        if (!port) continue;
        for (const e of slice.endpoints ?? []) {
          if (e.conditions?.terminating) continue;
          for (const address of e.addresses ?? []) out.push({ address, port });
        }
      }
      return out;
    },
  };
}

export const statusCode = (err: unknown): number | undefined => (err instanceof ApiError ? err.code : undefined);
