import { X509Certificate } from 'node:crypto';
import type { KeyPair, ServingNames } from './generate.ts';

// The self-managed certificate authority, as data, and the one pure function that decides its
// next state. The controller (controller.ts) reads the Secret, observes the webhook
// configurations and the replicas, calls planAuthority, and writes what it returns: one step
// at a time, so that every intermediate state is one that works.

/** What the Secret holds. */
export interface Authority {
  /** The CA that signs serving certificates now. */
  signer: KeyPair;
  /** During a CA rotation, the CA that will sign next: trusted already, signing not yet. */
  next?: KeyPair;
  /** The CA certificates the webhooks' caBundle must hold (PEM each); always includes the signer. */
  trust: string[];
  /** The serving certificate every replica serves. */
  serving: KeyPair;
}

export interface AuthorityPolicy {
  caValidityMs: number;
  servingValidityMs: number;
  names: ServingNames;
  /**
   * How long an injected caBundle must have been seen before a step relies on the API server
   * using it: the API server picks webhook configuration changes up through a watch, not at
   * once.
   */
  settleMs: number;
}

export interface Observed {
  /** The CA certificates present in the caBundle of every entry of every webhook configuration. */
  injected: readonly string[];
  /** When the leader first saw `injected` as it is now (ms since epoch). */
  injectedSinceMs: number;
  /** Whether every replica was seen serving a certificate signed by the current signer. */
  replicasOnSigner: boolean;
}

export interface Generator {
  ca(now: Date, validityMs: number): KeyPair;
  serving(ca: KeyPair, names: ServingNames, now: Date, validityMs: number): KeyPair;
}

export type PlanReason =
  | 'created'
  | 'replaced-unusable'
  | 'trust-repaired'
  | 'ca-rotation-started'
  | 'ca-rotation-signer-switched'
  | 'ca-rotation-finished'
  | 'trust-expired-dropped'
  | 'serving-renewed';

export interface Plan {
  authority: Authority;
  reason: PlanReason;
  detail: string;
}

/** A CA is rotated when less than this share of its lifetime is left; serving certificates likewise. */
export const RENEW_WHEN_LEFT = 1 / 3;

const x509 = (pem: string): X509Certificate => new X509Certificate(pem);
const notAfter = (pem: string): number => new Date(x509(pem).validTo).getTime();
export const fingerprintOf = (pem: string): string => x509(pem).fingerprint256;

/** Splits a PEM bundle into its certificates (anything else in it is ignored). */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}

/** Whether `certPem` was signed by the CA `caPem` (signature and issuer name). */
export function signedBy(certPem: string, caPem: string): boolean {
  try {
    const cert = x509(certPem);
    const ca = x509(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** Whether a caBundle (PEM certificates) verifies the certificate at `now`. */
export function bundleVerifies(trust: readonly string[], certPem: string, now: Date): boolean {
  try {
    const cert = x509(certPem);
    if (new Date(cert.validFrom) > now || new Date(cert.validTo) <= now) return false;
  } catch {
    return false;
  }
  return trust.some((ca) => signedBy(certPem, ca) && notAfter(ca) > now.getTime());
}

function sameNames(certPem: string, names: ServingNames): boolean {
  const san = x509(certPem).subjectAltName ?? '';
  const have = new Set(san.split(', ').map((s) => s.replace(/^DNS:/, 'dns:').replace(/^IP Address:/, 'ip:')));
  const want = [...names.dnsNames.map((n) => `dns:${n}`), ...names.ips.map((ip) => `ip:${normalizeIp(ip)}`)];
  return have.size === want.length && want.every((w) => have.has(w));
}

/** Node prints IPv6 SANs fully expanded without leading zeros (`0:0:0:0:0:0:0:1`). */
function normalizeIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail = ''] = ip.split('::') as [string, string?];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':');
}

const samePem = (a: string, b: string): boolean => fingerprintOf(a) === fingerprintOf(b);
const contains = (set: readonly string[], pem: string): boolean => set.some((c) => samePem(c, pem));

/**
 * The next state of the authority, or undefined when it is as it should be. One step per call:
 *
 * 1. No Secret, or one that cannot be used: a new CA and serving certificate.
 * 2. The signer has less than a third of its life left: a new CA is generated and added to the
 *    trust (the caBundle), but does not sign yet.
 * 3. Once the caBundle in every webhook holds the new CA, and has for `settleMs`: the new CA
 *    signs, and a new serving certificate is issued. Old and new CA are both trusted, so the
 *    API server accepts replicas serving either certificate while they reload.
 * 4. Once every replica serves a certificate of the new CA: the old CA leaves the trust.
 *    Expired CAs leave it at any time.
 * 5. A serving certificate not signed by the signer, for other names, or with less than a
 *    third of its life left: a new one, never outliving its CA.
 */
export function planAuthority(current: Authority | undefined, unusable: string | undefined, now: Date, policy: AuthorityPolicy, observed: Observed, gen: Generator): Plan | undefined {
  const t = now.getTime();
  const issue = (ca: KeyPair): KeyPair => gen.serving(ca, policy.names, now, Math.min(policy.servingValidityMs, notAfter(ca.certPem) - t));
  if (!current) {
    const signer = gen.ca(now, policy.caValidityMs);
    const authority = { signer, trust: [signer.certPem], serving: issue(signer) };
    return unusable
      ? { authority, reason: 'replaced-unusable', detail: `the Secret could not be used (${unusable}); a new CA and serving certificate were generated` }
      : { authority, reason: 'created', detail: 'a new CA and serving certificate were generated' };
  }
  const { signer, next } = current;
  if (!contains(current.trust, signer.certPem) || (next && !contains(current.trust, next.certPem))) {
    const trust = current.trust.filter((c) => notAfter(c) > t);
    for (const ca of [signer, next]) if (ca && !contains(trust, ca.certPem)) trust.push(ca.certPem);
    return { authority: { ...current, trust }, reason: 'trust-repaired', detail: 'the signing CA was missing from the trust bundle' };
  }
  const expired = current.trust.filter((c) => notAfter(c) <= t);
  if (expired.length > 0) {
    return { authority: { ...current, trust: current.trust.filter((c) => notAfter(c) > t) }, reason: 'trust-expired-dropped', detail: `${expired.length} expired CA certificate(s) left the trust bundle` };
  }
  const injectedAll = current.trust.every((c) => contains(observed.injected, c));
  const settled = injectedAll && t - observed.injectedSinceMs >= policy.settleMs;
  if (!next && notAfter(signer.certPem) - t < policy.caValidityMs * RENEW_WHEN_LEFT) {
    const fresh = gen.ca(now, policy.caValidityMs);
    return { authority: { ...current, next: fresh, trust: [...current.trust, fresh.certPem] }, reason: 'ca-rotation-started', detail: `the CA expires at ${new Date(notAfter(signer.certPem)).toISOString()}; a new CA is trusted and will sign once every webhook trusts it` };
  }
  if (next) {
    if (!settled) return undefined;
    return { authority: { signer: next, trust: current.trust, serving: issue(next) }, reason: 'ca-rotation-signer-switched', detail: 'every webhook trusts the new CA; it signs from now on, and the old CA stays trusted until every replica serves the new certificate' };
  }
  if (current.trust.length > 1 && observed.replicasOnSigner && settled && signedBy(current.serving.certPem, signer.certPem)) {
    return { authority: { ...current, trust: [signer.certPem] }, reason: 'ca-rotation-finished', detail: 'every replica serves a certificate of the new CA; the old CA leaves the caBundle' };
  }
  const serving = current.serving.certPem;
  const why = !signedBy(serving, signer.certPem)
    ? 'it was not signed by the current CA'
    : !sameNames(serving, policy.names)
      ? 'its names differ from the ones netfence is reached by'
      : notAfter(serving) - t < policy.servingValidityMs * RENEW_WHEN_LEFT && notAfter(serving) < notAfter(signer.certPem) - 1000
        ? `it expires at ${new Date(notAfter(serving)).toISOString()}`
        : undefined;
  if (why) return { authority: { ...current, serving: issue(signer) }, reason: 'serving-renewed', detail: `a new serving certificate was issued: ${why}` };
  return undefined;
}
