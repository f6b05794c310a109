import { closeSync, existsSync, fchmodSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { generateCA, generateServingCert, type KeyPair, type ServingNames } from './generate.ts';

export const CA_CERT = 'ca.crt';
export const CA_KEY = 'ca.key';
export const TLS_CERT = 'tls.crt';
export const TLS_KEY = 'tls.key';

export interface CertFiles {
  cert: string;
  key: string;
  ca: string;
}

export function certFiles(dir: string): CertFiles {
  return { cert: join(dir, TLS_CERT), key: join(dir, TLS_KEY), ca: join(dir, CA_CERT) };
}

/**
 * Writes a file with exactly `mode`. The mode given to open applies only when the file is
 * created (and is narrowed by the umask), so an existing file, say a world-readable tls.key,
 * is truncated and set to the mode before the new content is written: a private key is never
 * readable by others, not even for a moment.
 */
function write(path: string, content: string, mode: number): void {
  const fd = openSync(path, 'w', mode);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** Writes a new CA and a serving certificate signed by it (`netfence certs`). */
export function writeCertBundle(dir: string, names: ServingNames, includeCAKey = true): { ca: KeyPair; serving: KeyPair } {
  mkdirSync(dir, { recursive: true });
  const ca = generateCA();
  const serving = generateServingCert(ca, names);
  write(join(dir, CA_CERT), ca.certPem, 0o644);
  if (includeCAKey) write(join(dir, CA_KEY), ca.keyPem, 0o600);
  write(join(dir, TLS_CERT), serving.certPem, 0o644);
  write(join(dir, TLS_KEY), serving.keyPem, 0o600);
  return { ca, serving };
}

/**
 * Makes sure the cert dir holds a serving certificate: uses tls.crt/tls.key when both are
 * there, generates a throwaway CA and certificate when neither is. One without the other is
 * an error rather than something to overwrite: it is someone's half-copied Secret.
 */
export function ensureServingCert(dir: string, names: ServingNames): { generated: boolean } {
  const files = certFiles(dir);
  const hasCert = existsSync(files.cert);
  const hasKey = existsSync(files.key);
  if (hasCert && hasKey) return { generated: false };
  if (hasCert !== hasKey) {
    const missing = hasCert ? files.key : files.cert;
    throw new Error(`${missing} is missing while its pair is present; provide both files, or remove both to have netfence generate them`);
  }
  try {
    // serve persists no CA key: nobody should sign with a key left behind in a cert dir.
    writeCertBundle(dir, names, false);
  } catch (err) {
    throw new Error(`cannot write certificates into ${dir} (${(err as Error).message}); mount a Secret with tls.crt and tls.key there, or point --cert-dir at a writable directory`);
  }
  return { generated: true };
}

export function readServingCert(dir: string): { cert: string; key: string } {
  const files = certFiles(dir);
  return { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
}
