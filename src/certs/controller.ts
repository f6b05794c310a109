import { connect } from 'node:tls';
import type { Logger } from 'pino';
import type { LabelSelector } from '../k8s/types.ts';
import { bundleVerifies, fingerprintOf, planAuthority, signedBy, type Authority, type AuthorityPolicy, type Generator } from './authority.ts';
import { generateCA, generateServingCert } from './generate.ts';
import { statusCode, type CertsApi, type Endpoint, type Secret, type WebhookKind } from './kube-api.ts';
import { authorityFromData, authorityToData } from './secret.ts';
import { desiredWebhookConfiguration, encodeBundle, injectedTrust, type WebhookConfiguration } from './webhooks.ts';

// The certificate controller. Every replica runs it; only the leader acts. It keeps the
// authority in the Secret (self-managed mode), injects the trust into netfence's own webhook
// configurations, and arms them (failurePolicy) once a ready replica serves a certificate they
// trust. In external mode (cert-manager) the caBundle is never written: it only arms.

const DAY_MS = 86_400_000;

export interface CertificateControllerOptions {
  api: CertsApi;
  leader: { isLeader(): boolean };
  logger: Logger;
  namespace: string;
  /** Self-managed: the Secret netfence keeps the authority in. Undefined: external mode. */
  secretName?: string;
  /** The name of both webhook configurations (Validating and Mutating). */
  webhookConfiguration: string;
  /** The Service in front of the replicas, whose endpoints are probed during a CA rotation. */
  service: string;
  /** What the webhooks become once armed. */
  failurePolicy: 'Fail' | 'Ignore';
  /** Self-managed only. */
  policy?: AuthorityPolicy;
  /** The certificate this replica serves now. */
  served: () => string;
  /** Whether this replica is ready apart from certificate trust (config, caches). */
  localReady: () => boolean;
  /** The namespaces the webhooks see, when the config decides it (undefined: as installed). */
  namespaceSelector?: () => LabelSelector | undefined;
  resyncMs?: number;
  generator?: Generator;
  /** The certificate served at an endpoint (PEM), for the CA-rotation check. */
  probe?: (endpoint: Endpoint) => Promise<string>;
  clock?: () => Date;
}

const KINDS: WebhookKind[] = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'];
const MAX_CONFLICT_RETRIES = 5;

export const defaultGenerator: Generator = {
  ca: (now, validityMs) => generateCA('netfence-ca', validityMs / DAY_MS, now),
  serving: (ca, names, now, validityMs) => generateServingCert(ca, names, validityMs / DAY_MS, now),
};

/** Opens a TLS connection and returns the certificate presented (not verified: it is what is being checked). */
export function probeServedCertificate(endpoint: Endpoint, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: endpoint.address, port: endpoint.port, rejectUnauthorized: false, servername: 'netfence', timeout: timeoutMs }, () => {
      const raw = socket.getPeerX509Certificate()?.toString() ?? '';
      socket.destroy();
      resolve(raw);
    });
    socket.on('timeout', () => socket.destroy(new Error(`no TLS handshake with ${endpoint.address}:${endpoint.port} within ${timeoutMs} ms`)));
    socket.on('error', reject);
  });
}

export class CertificateController {
  private readonly o: Required<Omit<CertificateControllerOptions, 'secretName' | 'policy' | 'namespaceSelector'>> & Pick<CertificateControllerOptions, 'secretName' | 'policy' | 'namespaceSelector'>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** The injected trust as last seen, and since when: a step relying on it waits for the API server to catch up. */
  private seen: { key: string; since: number } | undefined;

  constructor(options: CertificateControllerOptions) {
    this.o = { resyncMs: 10_000, generator: defaultGenerator, probe: (e) => probeServedCertificate(e), clock: () => new Date(), ...options };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Runs one pass now (the leader's, or nothing when not leader). */
  kick(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.running) return this.schedule(100);
      this.running = this.pass().finally(() => {
        this.running = undefined;
        this.schedule(this.o.resyncMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    if (!this.o.leader.isLeader()) {
      this.seen = undefined;
      return;
    }
    try {
      await this.reconcile();
    } catch (err) {
      this.o.logger.warn({ event: 'certificates.reconcile_failed', err: (err as Error).message }, 'certificate reconcile failed; retrying');
    }
  }

  /** One reconcile: as many authority steps as can be taken now, then the webhooks. Exposed for tests. */
  async reconcile(): Promise<void> {
    let trust: string[] | undefined;
    if (this.o.secretName && this.o.policy) {
      for (let step = 0; step < 8; step++) {
        const outcome = await this.authorityStep();
        trust = outcome.trust;
        await this.injectAndArm(trust);
        if (!outcome.wrote) break;
      }
    } else {
      await this.injectAndArm(undefined);
    }
  }

  private async readAuthority(): Promise<{ secret: Secret | undefined; authority: Authority | undefined; unusable: string | undefined }> {
    const secret = await this.o.api.getSecret(this.o.namespace, this.o.secretName!);
    if (!secret) return { secret, authority: undefined, unusable: undefined };
    try {
      return { secret, authority: authorityFromData(secret.data), unusable: undefined };
    } catch (err) {
      return { secret, authority: undefined, unusable: (err as Error).message };
    }
  }

  private async readWebhooks(): Promise<Array<WebhookConfiguration | undefined>> {
    return Promise.all(KINDS.map((k) => this.o.api.getWebhookConfiguration(k, this.o.webhookConfiguration)));
  }

  private observeInjected(trust: string[]): { injected: string[]; since: number } {
    const key = trust.map(fingerprintOf).sort().join(',');
    const now = this.o.clock().getTime();
    if (this.seen?.key !== key) this.seen = { key, since: now };
    return { injected: trust, since: this.seen.since };
  }

  private async replicasOnSigner(signerPem: string): Promise<boolean> {
    try {
      const endpoints = await this.o.api.serviceEndpoints(this.o.namespace, this.o.service);
      if (endpoints.length === 0) return false;
      const served = await Promise.all(endpoints.map((e) => this.o.probe(e)));
      return served.every((pem) => pem !== '' && signedBy(pem, signerPem));
    } catch (err) {
      this.o.logger.debug({ event: 'certificates.probe_failed', err: (err as Error).message }, 'could not check what the replicas serve');
      return false;
    }
  }

  /** Reads, plans and writes one step. A conflict re-reads and plans again. */
  private async authorityStep(): Promise<{ trust: string[]; wrote: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const { secret, authority, unusable } = await this.readAuthority();
      const { injected, since } = this.observeInjected(injectedTrust(await this.readWebhooks()));
      const needsProbe = authority !== undefined && !authority.next && authority.trust.length > 1;
      const replicasOnSigner = needsProbe ? await this.replicasOnSigner(authority.signer.certPem) : false;
      const plan = planAuthority(authority, unusable, this.o.clock(), this.o.policy!, { injected, injectedSinceMs: since, replicasOnSigner }, this.o.generator);
      if (!plan) return { trust: authority!.trust, wrote: false };
      const body: Secret = {
        metadata: { name: this.o.secretName!, namespace: this.o.namespace, labels: { 'app.kubernetes.io/name': 'netfence', 'app.kubernetes.io/managed-by': 'netfence' }, ...(secret?.metadata.resourceVersion ? { resourceVersion: secret.metadata.resourceVersion } : {}) },
        type: 'Opaque',
        data: authorityToData(plan.authority),
      };
      try {
        if (secret) await this.o.api.replaceSecret(body);
        else await this.o.api.createSecret(body);
      } catch (err) {
        if (statusCode(err) === 409 && attempt < MAX_CONFLICT_RETRIES) {
          this.o.logger.info({ event: 'certificates.conflict', secret: this.o.secretName, attempt }, 'the Secret changed while being written; reading it again');
          continue;
        }
        throw err;
      }
      this.o.logger.info({ event: `certificates.${plan.reason}`, secret: `${this.o.namespace}/${this.o.secretName}`, trusted: plan.authority.trust.length }, plan.detail);
      return { trust: plan.authority.trust, wrote: true };
    }
  }

  /** Injects the trust (self-managed) and arms the webhooks once a ready replica is trusted. */
  private async injectAndArm(trust: string[] | undefined): Promise<void> {
    const selector = this.o.namespaceSelector?.();
    for (const kind of KINDS) {
      for (let attempt = 0; ; attempt++) {
        const current = await this.o.api.getWebhookConfiguration(kind, this.o.webhookConfiguration);
        if (!current) {
          this.o.logger.debug({ event: 'certificates.webhook_missing', kind, name: this.o.webhookConfiguration }, 'webhook configuration not installed');
          break;
        }
        // Arm only when the trust the API server will use verifies what this replica serves,
        // and this replica is ready: failing closed before that would block the cluster.
        const willTrust = trust ?? injectedTrust([current]);
        const safe = willTrust.length > 0 && bundleVerifies(willTrust, this.o.served(), this.o.clock()) && this.o.localReady();
        const failurePolicy = this.o.failurePolicy === 'Ignore' || safe ? this.o.failurePolicy : undefined;
        const { object, changed } = desiredWebhookConfiguration(current, {
          ...(trust ? { caBundle: encodeBundle(trust) } : {}),
          ...(selector ? { namespaceSelector: selector } : {}),
          ...(failurePolicy ? { failurePolicy } : {}),
        });
        if (!changed) break;
        try {
          await this.o.api.replaceWebhookConfiguration(object);
          this.o.logger.info({ event: 'certificates.webhook_updated', kind, name: this.o.webhookConfiguration, injected: trust?.length, failurePolicy: failurePolicy ?? 'unchanged' }, `updated ${kind} ${this.o.webhookConfiguration}`);
          break;
        } catch (err) {
          if (statusCode(err) === 409 && attempt < MAX_CONFLICT_RETRIES) continue;
          throw err;
        }
      }
    }
  }
}
