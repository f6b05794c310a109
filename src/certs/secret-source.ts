import type { Logger } from 'pino';
import { Reflector } from '../cluster/reflector.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../k8s/types.ts';
import type { CertPair, CertSource } from '../server/serving-cert.ts';
import { bundleVerifies } from './authority.ts';
import { generateCA, generateServingCert, type ServingNames } from './generate.ts';
import type { CertsApi, WebhookKind } from './kube-api.ts';
import { servingFromData } from './secret.ts';
import { injectedTrust, type WebhookConfiguration } from './webhooks.ts';

// What a replica does with the self-managed certificates: serve the one in the Secret (watched
// through the API, so a renewal reaches every replica within a second, with no restart and no
// kubelet sync delay), and report ready only when the caBundle the API server uses verifies it.

/**
 * The serving certificate of the Secret. Until the Secret exists (the leader creates it right
 * after start) the replica serves a throwaway certificate that nothing trusts, and is not ready.
 */
export class SecretCertSource implements CertSource {
  readonly description: string;
  private pair: CertPair;
  private fromSecret = false;
  private listener: (() => void) | undefined;
  private readonly reflector: Reflector;
  private readonly logger: Logger;

  constructor(client: KubeClient, logger: Logger, options: { namespace: string; name: string; names: ServingNames }) {
    const { namespace, name } = options;
    this.description = `Secret ${namespace}/${name}`;
    this.logger = logger;
    const placeholderCA = generateCA('netfence-placeholder-ca', 1);
    const placeholder = generateServingCert(placeholderCA, options.names, 1);
    this.pair = { cert: placeholder.certPem, key: placeholder.keyPem };
    // A list and watch of this one Secret (the field selector on its name is what lets RBAC
    // grant them by resourceNames).
    let version: string | undefined;
    this.reflector = new Reflector(client, logger, {
      resource: 'secret',
      path: `/api/v1/namespaces/${namespace}/secrets?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`,
      store: {
        versionOf: (ns, n) => (ns === namespace && n === name ? version : undefined),
        upsert: (object: KubeObject) => {
          if (object.metadata?.name !== name) return;
          version = object.metadata?.resourceVersion;
          this.take(object);
        },
        remove: () => {
          version = undefined;
          // Keep serving what we have: the leader recreates the Secret, and dropping a good
          // certificate would only fail requests.
          this.logger.warn({ event: 'certificate.secret_deleted', secret: this.description }, 'the certificate Secret was deleted; serving the last certificate until it is recreated');
        },
        keys: () => (version !== undefined ? [[namespace, name] as const] : []),
      },
    });
  }

  private take(item: unknown): void {
    try {
      const { cert, key } = servingFromData((item as { data?: Record<string, string> }).data);
      this.pair = { cert, key };
      this.fromSecret = true;
    } catch (err) {
      this.logger.error({ event: 'certificate.secret_unusable', secret: this.description, err: (err as Error).message }, 'the certificate Secret holds no usable serving certificate; keeping the current one');
      return;
    }
    this.listener?.();
  }

  /** True once a certificate from the Secret is loaded. */
  loaded(): boolean {
    return this.fromSecret;
  }

  read(): CertPair {
    return this.pair;
  }

  watch(onChange: () => void): { close(): void } {
    this.listener = onChange;
    this.reflector.start();
    return {
      close: () => {
        this.listener = undefined;
        this.reflector.stop();
      },
    };
  }
}

/**
 * The trust the API server uses for netfence: the caBundle common to every entry of netfence's
 * webhook configurations, re-read periodically. It feeds the `certificateTrusted` readiness
 * check: a replica serving a certificate the caBundle does not verify must get no traffic.
 */
export class InjectedTrust {
  private trust: string[] = [];
  private configs: Array<WebhookConfiguration | undefined> = [];
  /** Whether the configurations have been read at least once. */
  private read = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly api: CertsApi;
  private readonly name: string;
  private readonly periodMs: number;
  private readonly logger: Logger;

  private readonly onChange: (() => void) | undefined;
  private key = '';

  /** onChange: the configurations changed (someone re-applied the manifests: the leader re-arms them). */
  constructor(api: CertsApi, logger: Logger, options: { webhookConfiguration: string; periodMs?: number; onChange?: () => void }) {
    this.api = api;
    this.onChange = options.onChange;
    this.logger = logger;
    this.name = options.webhookConfiguration;
    this.periodMs = options.periodMs ?? 5_000;
  }

  start(): void {
    if (this.timer) return;
    const tick = async (): Promise<void> => {
      await this.refresh();
      this.timer = setTimeout(() => void tick(), this.periodMs);
      this.timer.unref();
    };
    void tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      const kinds: WebhookKind[] = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'];
      this.configs = await Promise.all(kinds.map((k) => this.api.getWebhookConfiguration(k, this.name)));
      this.trust = injectedTrust(this.configs);
      this.read = true;
      const key = this.configs.map((c) => c?.metadata.resourceVersion ?? '-').join('/');
      if (key !== this.key) {
        const first = this.key === '';
        this.key = key;
        if (!first) this.onChange?.();
      }
    } catch (err) {
      // Keep the last answer: readiness must not flap because one read failed.
      this.logger.debug({ event: 'certificate.trust_read_failed', err: (err as Error).message }, 'could not read the webhook configurations');
    }
  }

  current(): string[] {
    return this.trust;
  }

  verifies(certPem: string, now = new Date()): boolean {
    return bundleVerifies(this.trust, certPem, now);
  }

  /**
   * The readiness check: the configurations were read, and either none is installed (nothing
   * calls netfence through a caBundle: a run against a cluster without the webhooks) or their
   * caBundle verifies the certificate. A read that keeps failing (RBAC) keeps it not ready.
   */
  trusts(certPem: string, now = new Date()): boolean {
    if (!this.read) return false;
    return this.configs.every((c) => !c) || this.verifies(certPem, now);
  }
}
