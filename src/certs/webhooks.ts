import { isDeepStrictEqual } from 'node:util';
import type { LabelSelector } from '../k8s/types.ts';
import { fingerprintOf, splitPem } from './authority.ts';

// netfence's own Validating- and MutatingWebhookConfigurations, as the injector sees them:
// pure functions from what is stored to what should be stored. Only the fields netfence owns
// are touched (every entry's caBundle, failurePolicy once armed, namespaceSelector when the
// config supplies one); everything else, rules and timeouts included, stays as installed.

export interface WebhookEntry {
  name: string;
  clientConfig: { caBundle?: string; service?: unknown; url?: string };
  failurePolicy?: 'Fail' | 'Ignore';
  namespaceSelector?: LabelSelector;
  [field: string]: unknown;
}

export interface WebhookConfiguration {
  apiVersion: string;
  kind: 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration';
  metadata: { name: string; resourceVersion?: string; [field: string]: unknown };
  webhooks?: WebhookEntry[];
}

export interface WebhookSettings {
  /** base64 of the PEM CA bundle; undefined leaves caBundle alone (cert-manager owns it). */
  caBundle?: string;
  /** Which namespaces the webhooks see (from the config); undefined leaves it alone. */
  namespaceSelector?: LabelSelector;
  /** Set once the webhooks are safe to fail closed; undefined leaves it alone. */
  failurePolicy?: 'Fail' | 'Ignore';
}

/** The configuration as it should be: every entry gets the settings given. Does not mutate `current`. */
export function desiredWebhookConfiguration(current: WebhookConfiguration, settings: WebhookSettings): { object: WebhookConfiguration; changed: boolean } {
  const webhooks = (current.webhooks ?? []).map((w) => ({
    ...w,
    clientConfig: settings.caBundle !== undefined ? { ...w.clientConfig, caBundle: settings.caBundle } : w.clientConfig,
    ...(settings.failurePolicy !== undefined ? { failurePolicy: settings.failurePolicy } : {}),
    ...(settings.namespaceSelector !== undefined ? { namespaceSelector: settings.namespaceSelector } : {}),
  }));
  const object = { ...current, webhooks };
  return { object, changed: !isDeepStrictEqual(object.webhooks, current.webhooks ?? []) };
}

export const encodeBundle = (trust: readonly string[]): string => Buffer.from(trust.join(''), 'utf8').toString('base64');

function entryTrust(w: WebhookEntry): string[] {
  const b = w.clientConfig?.caBundle;
  return b ? splitPem(Buffer.from(b, 'base64').toString('utf8')) : [];
}

/**
 * The CA certificates trusted by every entry of every configuration: what the API server will
 * accept, whichever webhook it calls. No configuration or no entry trusts nothing.
 */
export function injectedTrust(configs: ReadonlyArray<WebhookConfiguration | undefined>): string[] {
  const entries = configs.flatMap((c) => c?.webhooks ?? []);
  if (entries.length === 0 || configs.some((c) => !c)) return [];
  const [first, ...rest] = entries.map(entryTrust);
  const common = (first ?? []).filter((pem) => rest.every((set) => set.some((c) => safeFp(c) === safeFp(pem))));
  return common;
}

/** Whether every entry of every configuration fails closed. */
export function armed(configs: ReadonlyArray<WebhookConfiguration | undefined>): boolean {
  const entries = configs.flatMap((c) => c?.webhooks ?? []);
  return entries.length > 0 && entries.every((w) => (w.failurePolicy ?? 'Fail') === 'Fail');
}

function safeFp(pem: string): string {
  try {
    return fingerprintOf(pem);
  } catch {
    return `invalid:${pem}`;
  }
}
