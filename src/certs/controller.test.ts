import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { bundleVerifies, fingerprintOf, splitPem, type AuthorityPolicy } from './authority.ts';
import { CertificateController, defaultGenerator } from './controller.ts';
import { InjectedTrust } from './secret-source.ts';
import { defaultServingNames } from './generate.ts';
import { type CertsApi, type Endpoint, type Secret, type WebhookKind } from './kube-api.ts';
import { authorityFromData } from './secret.ts';
import { KubeApiError } from '../kube/client.ts';

class ApiError extends KubeApiError {
  constructor(status: number, message: string) {
    super(status, 'Conflict', message);
  }
}
import { injectedTrust, type WebhookConfiguration } from './webhooks.ts';

// An in-process API with resourceVersion semantics: a write carrying a stale version is a 409,
// as the API server answers. The end-to-end suite runs the same controller for real.
class FakeApi implements CertsApi {
  rv = 1;
  secret: Secret | undefined;
  configs = new Map<WebhookKind, WebhookConfiguration>();
  endpoints: Endpoint[] = [];
  writes = { secret: 0, conflicts: 0, webhooks: 0 };
  /** Runs between a read and the next write, to interleave another writer. */
  beforeWrite: (() => Promise<void>) | undefined;

  constructor() {
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'] as const) {
      this.configs.set(kind, {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind,
        metadata: { name: 'netfence', resourceVersion: String(this.rv++) },
        webhooks: [
          { name: `a.${kind}`, clientConfig: { url: 'https://127.0.0.1:1/validate' }, failurePolicy: 'Ignore', timeoutSeconds: 5 },
          { name: `b.${kind}`, clientConfig: { url: 'https://127.0.0.1:1/validate' }, failurePolicy: 'Ignore', matchConditions: [{ name: 'x', expression: 'true' }] },
        ],
      });
    }
  }
  async getSecret() {
    return this.secret && structuredClone(this.secret);
  }
  async createSecret(s: Secret) {
    const hook = this.beforeWrite;
    this.beforeWrite = undefined;
    await hook?.();
    if (this.secret) {
      this.writes.conflicts++;
      throw new ApiError(409, 'already exists');
    }
    this.writes.secret++;
    this.secret = { ...structuredClone(s), metadata: { ...s.metadata, resourceVersion: String(this.rv++) } };
    return structuredClone(this.secret);
  }
  async replaceSecret(s: Secret) {
    if (s.metadata.resourceVersion !== this.secret?.metadata.resourceVersion) {
      this.writes.conflicts++;
      throw new ApiError(409, 'the object has been modified');
    }
    this.writes.secret++;
    this.secret = { ...structuredClone(s), metadata: { ...s.metadata, resourceVersion: String(this.rv++) } };
    return structuredClone(this.secret);
  }
  async getWebhookConfiguration(kind: WebhookKind) {
    return structuredClone(this.configs.get(kind));
  }
  async replaceWebhookConfiguration(c: WebhookConfiguration) {
    if (c.metadata.resourceVersion !== this.configs.get(c.kind)?.metadata.resourceVersion) throw new ApiError(409, 'conflict');
    this.writes.webhooks++;
    this.configs.set(c.kind, { ...structuredClone(c), metadata: { ...c.metadata, resourceVersion: String(this.rv++) } });
    return structuredClone(c);
  }
  async serviceEndpoints() {
    return this.endpoints;
  }
}

const DAY = 86_400_000;
const policy: AuthorityPolicy = { caValidityMs: 90 * DAY, servingValidityMs: 9 * DAY, names: defaultServingNames(), settleMs: 10_000 };
const logger = createLogger({ level: 'silent' });

function controller(api: FakeApi, over: Partial<ConstructorParameters<typeof CertificateController>[0]> = {}) {
  let served = '';
  const c = new CertificateController({
    api,
    leader: { isLeader: () => true },
    logger,
    namespace: 'netfence-system',
    secretName: 'netfence-certs',
    webhookConfiguration: 'netfence',
    service: 'netfence',
    failurePolicy: 'Fail',
    policy,
    served: () => served,
    localReady: () => true,
    probe: async () => authorityFromData(api.secret!.data).serving.certPem,
    ...over,
  });
  return { c, serve: (pem: string) => (served = pem) };
}

const configs = (api: FakeApi) => [...api.configs.values()];

describe('CertificateController', () => {
  it('creates the Secret, injects the caBundle into every entry, and arms the webhooks only once this replica serves a trusted certificate', async () => {
    const api = new FakeApi();
    const { c, serve } = controller(api);
    await c.reconcile();
    const a = authorityFromData(api.secret!.data);
    expect(api.secret!.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('netfence');
    expect(injectedTrust(configs(api)).map(fingerprintOf)).toEqual([fingerprintOf(a.signer.certPem)]);
    // Still serving a placeholder: the webhooks stay Ignore.
    expect(configs(api).flatMap((k) => k.webhooks!.map((w) => w.failurePolicy))).toEqual(['Ignore', 'Ignore', 'Ignore', 'Ignore']);
    serve(a.serving.certPem);
    await c.reconcile();
    expect(configs(api).flatMap((k) => k.webhooks!.map((w) => w.failurePolicy))).toEqual(['Fail', 'Fail', 'Fail', 'Fail']);
    // Fields netfence does not own are kept as installed.
    const v = api.configs.get('ValidatingWebhookConfiguration')!.webhooks!;
    expect(v[0]!.timeoutSeconds).toBe(5);
    expect(v[1]!.matchConditions).toEqual([{ name: 'x', expression: 'true' }]);
    expect(v[0]!.clientConfig.url).toBe('https://127.0.0.1:1/validate');
    // A second pass changes nothing.
    const writes = { ...api.writes };
    await c.reconcile();
    expect(api.writes).toEqual(writes);
  });

  it('does nothing when not the leader', async () => {
    const api = new FakeApi();
    const { c } = controller(api, { leader: { isLeader: () => false }, resyncMs: 10 });
    c.start();
    await new Promise((r) => setTimeout(r, 100));
    await c.stop();
    expect(api.secret).toBeUndefined();
    expect(api.writes.webhooks).toBe(0);
  });

  it('two replicas racing: one Secret, one CA, the conflict re-read and resolved', async () => {
    const api = new FakeApi();
    const one = controller(api);
    const two = controller(api);
    // `two` reads (no Secret), then `one` writes first, then `two` tries to create.
    api.beforeWrite = () => one.c.reconcile();
    await two.c.reconcile();
    expect(api.writes.conflicts).toBe(1);
    expect(api.writes.secret).toBe(1);
    const ca = authorityFromData(api.secret!.data).signer.certPem;
    await Promise.all([one.c.reconcile(), two.c.reconcile()]);
    expect(fingerprintOf(authorityFromData(api.secret!.data).signer.certPem)).toBe(fingerprintOf(ca));
    expect(injectedTrust(configs(api)).map(fingerprintOf)).toEqual([fingerprintOf(ca)]);
  });

  it('rotates the CA through the overlap steps, the old CA trusted until every endpoint serves the new certificate', async () => {
    const api = new FakeApi();
    let now = new Date('2026-01-01T00:00:00Z');
    const { c, serve } = controller(api, { clock: () => now });
    await c.reconcile();
    const first = authorityFromData(api.secret!.data);
    serve(first.serving.certPem);
    api.endpoints = [{ address: '10.0.0.1', port: 8443 }];
    // 61 days on, the CA has less than a third of its 90 days left (the serving certificate
    // is renewed along the way, by the same CA).
    now = new Date(now.getTime() + 61 * DAY);
    await c.reconcile();
    const mid = authorityFromData(api.secret!.data);
    // Trusted, not signing yet.
    expect(fingerprintOf(mid.signer.certPem)).toBe(fingerprintOf(first.signer.certPem));
    expect(mid.trust.map(fingerprintOf)).toEqual([first.signer.certPem, mid.next!.certPem].map(fingerprintOf));
    expect(injectedTrust(configs(api))).toHaveLength(2);
    // The API server is given settleMs to pick the new caBundle up; the endpoint then serves
    // what the Secret holds (the fake probe), so the old CA goes.
    now = new Date(now.getTime() + 11_000);
    await c.reconcile();
    const end = authorityFromData(api.secret!.data);
    expect(fingerprintOf(end.signer.certPem)).toBe(fingerprintOf(mid.next!.certPem));
    expect(end.trust.map(fingerprintOf)).toEqual([fingerprintOf(mid.next!.certPem)]);
    expect(injectedTrust(configs(api)).map(fingerprintOf)).toEqual([fingerprintOf(mid.next!.certPem)]);
  });

  it('keeps the old CA while an endpoint still serves the old certificate', async () => {
    const api = new FakeApi();
    let now = new Date('2026-01-01T00:00:00Z');
    let old = '';
    const { c } = controller(api, { clock: () => now, probe: async () => old });
    await c.reconcile();
    const first = authorityFromData(api.secret!.data);
    old = first.serving.certPem;
    api.endpoints = [{ address: '10.0.0.1', port: 8443 }];
    now = new Date(now.getTime() + 61 * DAY);
    await c.reconcile();
    now = new Date(now.getTime() + 11_000);
    await c.reconcile();
    now = new Date(now.getTime() + 11_000);
    await c.reconcile();
    const a = authorityFromData(api.secret!.data);
    expect(fingerprintOf(a.signer.certPem)).not.toBe(fingerprintOf(first.signer.certPem));
    expect(a.trust.map(fingerprintOf)).toEqual([first.signer.certPem, a.signer.certPem].map(fingerprintOf));
    expect(splitPem(Buffer.from(api.configs.get('MutatingWebhookConfiguration')!.webhooks![0]!.clientConfig.caBundle!, 'base64').toString())).toHaveLength(2);
    expect(bundleVerifies(a.trust, a.serving.certPem, now)).toBe(true);
  });

  it('external mode (cert-manager) never writes the caBundle; it arms once the injected caBundle trusts the served certificate', async () => {
    const api = new FakeApi();
    const external = defaultGenerator.ca(new Date(), 30 * DAY);
    const serving = defaultGenerator.serving(external, defaultServingNames(), new Date(), 10 * DAY);
    const { c, serve } = controller(api, { secretName: undefined, policy: undefined });
    serve(serving.certPem);
    await c.reconcile();
    expect(api.secret).toBeUndefined();
    expect(api.writes.webhooks).toBe(0);
    for (const k of api.configs.values()) for (const w of k.webhooks!) w.clientConfig.caBundle = Buffer.from(external.certPem).toString('base64');
    const before = JSON.stringify([...api.configs.values()].map((k) => k.webhooks!.map((w) => w.clientConfig)));
    await c.reconcile();
    expect(JSON.stringify([...api.configs.values()].map((k) => k.webhooks!.map((w) => w.clientConfig)))).toBe(before);
    expect(configs(api).flatMap((k) => k.webhooks!.map((w) => w.failurePolicy))).toEqual(['Fail', 'Fail', 'Fail', 'Fail']);
  });
});

describe('InjectedTrust (the certificateTrusted readiness check)', () => {
  it('not ready before a read; ready when no configuration is installed; else only when the caBundle verifies the certificate', async () => {
    const api = new FakeApi();
    const trust = new InjectedTrust(api, logger, { webhookConfiguration: 'netfence' });
    const ca = defaultGenerator.ca(new Date(), 30 * DAY);
    const serving = defaultGenerator.serving(ca, defaultServingNames(), new Date(), 10 * DAY);
    expect(trust.trusts(serving.certPem)).toBe(false);
    await trust.refresh();
    expect(trust.trusts(serving.certPem)).toBe(false);
    for (const k of api.configs.values()) for (const w of k.webhooks!) w.clientConfig.caBundle = Buffer.from(ca.certPem).toString('base64');
    await trust.refresh();
    expect(trust.trusts(serving.certPem)).toBe(true);
    const other = defaultGenerator.serving(defaultGenerator.ca(new Date(), 30 * DAY), defaultServingNames(), new Date(), 10 * DAY);
    expect(trust.trusts(other.certPem)).toBe(false);
    api.configs.clear();
    await trust.refresh();
    expect(trust.trusts(other.certPem)).toBe(true);
  });
});
