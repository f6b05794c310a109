import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { certFiles, readServingCert } from '../certs/files.ts';
import { certificateExpiry } from '../certs/generate.ts';
import { watchFiles, type FileWatchOptions } from '../util/file-watch.ts';

export interface CertPair {
  cert: string;
  key: string;
}

/**
 * Where the serving certificate comes from: files in a cert dir (a Secret mounted by the
 * kubelet, cert-manager's or `netfence certs`'), or the Secret netfence manages itself, read
 * through the API (certs/secret-source.ts). read() throws when there is nothing usable.
 */
export interface CertSource {
  readonly description: string;
  read(): CertPair;
  watch(onChange: () => void, options?: FileWatchOptions): { close(): void };
}

export function fileCertSource(dir: string): CertSource {
  return {
    description: dir,
    read: () => readServingCert(dir),
    watch: (onChange, options) => {
      const files = certFiles(dir);
      return watchFiles([files.cert, files.key], onChange, options);
    },
  };
}

interface ServingCertificateEvents {
  change: [CertPair];
  reload: [{ result: 'success' } | { result: 'failure'; error: string }];
}

/**
 * The serving certificate, read from its source and re-read when the source changes (a
 * rotated Secret). A pair that does not load (a key that does not match its certificate, a
 * file caught half-written) is refused and the previous pair stays in use, so a rotation can
 * never take the webhook down.
 */
export class ServingCertificate extends EventEmitter<ServingCertificateEvents> {
  readonly source: CertSource;
  private pair: CertPair;
  private fingerprint: string;
  /** The pair last tried: a refused pair is not tried (and counted) again until it changes. */
  private lastAttempt: string;
  private watcher: { close(): void } | undefined;

  /** A cert dir, or another source. */
  constructor(source: string | CertSource) {
    super();
    this.source = typeof source === 'string' ? fileCertSource(source) : source;
    this.pair = this.source.read();
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
      next = this.source.read();
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
    this.watcher = this.source.watch(() => this.reload(), options);
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
