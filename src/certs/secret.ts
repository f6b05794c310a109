import { createSecureContext } from 'node:tls';
import { splitPem, type Authority } from './authority.ts';

// The Secret that holds the self-managed authority. Keys follow the kubernetes.io/tls
// convention (tls.crt, tls.key, ca.crt) so that anything reading such Secrets understands it;
// the CA keys sit beside them. Values are base64, as the API stores Secret data.

export const SECRET_KEYS = {
  trust: 'ca.crt',
  signerCert: 'ca-signer.crt',
  signerKey: 'ca-signer.key',
  nextCert: 'ca-next.crt',
  nextKey: 'ca-next.key',
  servingCert: 'tls.crt',
  servingKey: 'tls.key',
} as const;

export type SecretData = Record<string, string>;

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string => (s === undefined ? '' : Buffer.from(s, 'base64').toString('utf8'));

export function authorityToData(a: Authority): SecretData {
  return {
    [SECRET_KEYS.trust]: b64(a.trust.join('')),
    [SECRET_KEYS.signerCert]: b64(a.signer.certPem),
    [SECRET_KEYS.signerKey]: b64(a.signer.keyPem),
    ...(a.next ? { [SECRET_KEYS.nextCert]: b64(a.next.certPem), [SECRET_KEYS.nextKey]: b64(a.next.keyPem) } : {}),
    [SECRET_KEYS.servingCert]: b64(a.serving.certPem),
    [SECRET_KEYS.servingKey]: b64(a.serving.keyPem),
  };
}

/** Throws when a key/certificate pair does not load (missing, not PEM, or not matching). */
function pair(certPem: string, keyPem: string, what: string): { certPem: string; keyPem: string } {
  if (!certPem || !keyPem) throw new Error(`${what}: certificate or key missing`);
  try {
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  return { certPem, keyPem };
}

/** Reads the authority back; throws with what is wrong when the data cannot be used. */
export function authorityFromData(data: SecretData | undefined): Authority {
  const d = data ?? {};
  const get = (k: string): string => unb64(d[k]);
  const signer = pair(get(SECRET_KEYS.signerCert), get(SECRET_KEYS.signerKey), SECRET_KEYS.signerCert);
  const hasNext = d[SECRET_KEYS.nextCert] !== undefined || d[SECRET_KEYS.nextKey] !== undefined;
  const next = hasNext ? pair(get(SECRET_KEYS.nextCert), get(SECRET_KEYS.nextKey), SECRET_KEYS.nextCert) : undefined;
  const serving = pair(get(SECRET_KEYS.servingCert), get(SECRET_KEYS.servingKey), SECRET_KEYS.servingCert);
  return { signer, ...(next ? { next } : {}), trust: splitPem(get(SECRET_KEYS.trust)), serving };
}

/** What a replica serves and checks against: the serving pair and the trust, without CA keys. */
export function servingFromData(data: SecretData | undefined): { cert: string; key: string; trust: string[] } {
  const d = data ?? {};
  const p = pair(unb64(d[SECRET_KEYS.servingCert]), unb64(d[SECRET_KEYS.servingKey]), SECRET_KEYS.servingCert);
  return { cert: p.certPem, key: p.keyPem, trust: splitPem(unb64(d[SECRET_KEYS.trust])) };
}
