import type { KubeClient } from '../kube/client.ts';
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
  /** The addresses (IPs, or names for FQDN slices) of the Service's endpoints, ready or not, terminating ones left out. */
  serviceEndpoints(namespace: string, service: string): Promise<Endpoint[]>;
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

export function certsApi(client: KubeClient): CertsApi {
  const must = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what}: not found`);
    return v;
  };
  return {
    getSecret: (ns, name) => client.get<Secret>(`/api/v1/namespaces/${ns}/secrets/${name}`),
    createSecret: (s) => client.create<Secret>(`/api/v1/namespaces/${s.metadata.namespace}/secrets`, { apiVersion: 'v1', kind: 'Secret', ...s }),
    replaceSecret: (s) => client.replace<Secret>(`/api/v1/namespaces/${s.metadata.namespace}/secrets/${s.metadata.name}`, { apiVersion: 'v1', kind: 'Secret', ...s }),
    getWebhookConfiguration: (kind, name) => client.get<WebhookConfiguration>(`${webhookPath(kind)}/${name}`),
    replaceWebhookConfiguration: (c) => client.replace<WebhookConfiguration>(`${webhookPath(c.kind)}/${c.metadata.name}`, c),
    serviceEndpoints: async (ns, service) => {
      const list = must(await client.get<EndpointSliceList>(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, { labelSelector: `kubernetes.io/service-name=${service}` }), 'EndpointSlices');
      const out: Endpoint[] = [];
      for (const slice of list.items) {
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

export { statusOf as statusCode } from '../kube/client.ts';
