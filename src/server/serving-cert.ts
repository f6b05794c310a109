import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { certFiles, readServingCert } from '../certs/files.ts';
import { certificateExpiry } from '../certs/generate.ts';
import { watchFiles, type FileWatch, type FileWatchOptions } from '../util/file-watch.ts';

export interface CertPair {
  cert: string;
  key: string;
}

interface ServingCertificateEvents {
  change: [CertPair];
  reload: [{ result: 'success' } | { result: 'failure'; error: string }];
}

/**
 * The serving certificate, read from a cert dir and re-read when the files change (a Secret
 * rotated by cert-manager). A pair that does not load (a key that does not match its
 * certificate, a file caught half-written) is refused and the previous pair stays in use, so a
 * rotation can never take the webhook down.
 */
export class ServingCertificate extends EventEmitter<ServingCertificateEvents> {
  readonly dir: string;
  private pair: CertPair;
  private fingerprint: string;
  /** The pair last tried: a refused pair is not tried (and counted) again until it changes. */
  private lastAttempt: string;
  private watcher: FileWatch | undefined;

  constructor(dir: string) {
    super();
    this.dir = dir;
    this.pair = readServingCert(dir);
    check(this.pair);
    this.fingerprint = fingerprintOf(this.pair);
    this.lastAttempt = this.fingerprint;
  }

  current(): CertPair {
    return this.pair;
  }

  expiry(): Date {
    return certificateExpiry(this.pair.cert);
  }

  reload(): void {
    let next: CertPair;
    try {
      next = readServingCert(this.dir);
      const attempt = fingerprintOf(next);
      if (attempt === this.lastAttempt) return;
      this.lastAttempt = attempt;
      check(next);
    } catch (err) {
      this.emit('reload', { result: 'failure', error: (err as Error).message });
      return;
    }
    this.pair = next;
    this.fingerprint = fingerprintOf(next);
    this.emit('reload', { result: 'success' });
    this.emit('change', next);
  }

  watch(options?: FileWatchOptions): void {
    if (this.watcher) return;
    const files = certFiles(this.dir);
    this.watcher = watchFiles([files.cert, files.key], () => this.reload(), options);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

function check(pair: CertPair): void {
  // Throws when the key does not match the certificate or either is not PEM.
  createSecureContext({ cert: pair.cert, key: pair.key });
  certificateExpiry(pair.cert);
}

function fingerprintOf(pair: CertPair): string {
  return createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('hex');
}
