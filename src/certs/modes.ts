import type { Logger } from 'pino';
import type { LabelSelector } from '../k8s/types.ts';
import type { Readiness } from '../server/readiness.ts';
import { ServingCertificate } from '../server/serving-cert.ts';
import { CertificateController } from './controller.ts';
import { ensureServingCert } from './files.ts';
import type { ServingNames } from './generate.ts';
import type { KubeClient } from '../kube/client.ts';
import { certsApi, type CertsApi } from './kube-api.ts';
import { InjectedTrust, SecretCertSource } from './secret-source.ts';

// How `serve` gets its serving certificate, in each mode:
// - self-managed (--cert-secret NAME, the default of the chart and of deploy/): the leader keeps
//   a CA and the serving certificate in that Secret and injects the caBundle; every replica
//   serves the Secret's certificate, read through the API.
// - files (--cert-dir): tls.crt/tls.key from a directory, e.g. a Secret written by
//   cert-manager and mounted by the kubelet; netfence never writes the caBundle then.
// In both, with a cluster, the leader arms the webhooks (failurePolicy) once a ready replica
// serves a certificate that their caBundle verifies, and readiness requires that trust.

export interface CertificateOptions {
  certDir: string;
  certSecret?: string;
  webhookConfiguration: string;
  service: string;
  failurePolicy: 'Fail' | 'Ignore';
  caValidityMs: number;
  servingValidityMs: number;
  namespace: string;
  names: ServingNames;
}

export interface CertificateSetup {
  certificate: ServingCertificate;
  /** With a cluster: starts the controller and adds the `certificateTrusted` readiness check. */
  startLive?: (leader: { isLeader(): boolean; on(e: 'started', f: () => void): unknown }, readiness: Readiness, namespaceSelector?: () => LabelSelector | undefined) => { stop(): Promise<void> };
}

export async function setUpCertificates(options: CertificateOptions, logger: Logger, client: KubeClient | undefined): Promise<CertificateSetup> {
  if (options.certSecret && !client) {
    throw new Error(`--cert-secret ${options.certSecret} needs a cluster (--kubeconfig, KUBECONFIG, or running in a pod); use --cert-dir without one`);
  }
  const api: CertsApi | undefined = client ? certsApi(client) : undefined;
  let certificate: ServingCertificate;
  if (options.certSecret && client && api) {
    certificate = new ServingCertificate(new SecretCertSource(client, logger, { namespace: options.namespace, name: options.certSecret, names: options.names }));
  } else {
    const { generated } = ensureServingCert(options.certDir, options.names);
    if (generated) {
      logger.info({ event: 'certificate.generated', dir: options.certDir }, `generated a CA and a serving certificate in ${options.certDir}; give ca.crt to the API server as caBundle`);
    }
    certificate = new ServingCertificate(options.certDir);
  }
  if (!api) return { certificate };
  const cluster = api;
  return {
    certificate,
    startLive: (leader, readiness, namespaceSelector) => {
      // The API server picks up webhook changes through a watch: give it a moment before a
      // rotation step relies on a new caBundle. Short lifetimes (tests) get short waits.
      const settleMs = Math.min(30_000, Math.max(1_000, options.caValidityMs / 20));
      const resyncMs = Math.min(10_000, Math.max(500, options.servingValidityMs / 20));
      let kick = (): void => {};
      const trust = new InjectedTrust(cluster, logger, { webhookConfiguration: options.webhookConfiguration, periodMs: Math.min(2_000, resyncMs), onChange: () => kick() });
      readiness.add('certificateTrusted', () => trust.trusts(certificate.current().cert));
      const localReady = (): boolean => Object.entries(readiness.report().checks).every(([name, ok]) => name === 'certificateTrusted' || ok);
      const controller = new CertificateController({
        api: cluster,
        leader,
        logger,
        namespace: options.namespace,
        ...(options.certSecret ? { secretName: options.certSecret, policy: { caValidityMs: options.caValidityMs, servingValidityMs: options.servingValidityMs, names: options.names, settleMs } } : {}),
        webhookConfiguration: options.webhookConfiguration,
        service: options.service,
        failurePolicy: options.failurePolicy,
        served: () => certificate.current().cert,
        localReady,
        ...(namespaceSelector ? { namespaceSelector } : {}),
        resyncMs,
      });
      kick = () => controller.kick();
      leader.on('started', () => controller.kick());
      // A new certificate served here may be what arming waits for; a new caBundle is re-read.
      certificate.on('change', () => {
        void trust.refresh();
        controller.kick();
      });
      trust.start();
      controller.start();
      return {
        stop: async () => {
          trust.stop();
          await controller.stop();
        },
      };
    },
  };
}

/** `90s`, `15m`, `2160h`, `30d`: a lifetime flag, in ms. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) throw new Error(`${flag} ${value}: not a duration (a number and a unit: ms, s, m, h or d, e.g. 2160h)`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  if (ms < 10_000) throw new Error(`${flag} ${value}: at least 10s`);
  return ms;
}
