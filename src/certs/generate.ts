import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface ServingNames {
  dnsNames: string[];
  ips: string[];
}

/** netfence's Service as deploy/ creates it, and the names the API server may dial it by. */
export function defaultServingNames(namespace = 'netfence-system', service = 'netfence'): ServingNames {
  return {
    dnsNames: [
      'localhost',
      service,
      `${service}.${namespace}`,
      `${service}.${namespace}.svc`,
      `${service}.${namespace}.svc.cluster.local`,
    ],
    ips: ['127.0.0.1', '::1'],
  };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** RSA 2048 from node:crypto (native: tens of milliseconds, where forge's own takes about a second). */
function newKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey: pem } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const privateKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e) };
}

function serial(): string {
  // Positive 16-byte serial: clear the top bit so DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function newCertificate(publicKey: forge.pki.PublicKey, validityDays: number, now: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  // Backdated by an hour so that a clock slightly behind ours still accepts it.
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + validityDays * DAY_MS);
  return cert;
}

export function generateCA(commonName = 'netfence-ca', validityDays = 3650, now = new Date()): KeyPair {
  const keys = newKeys();
  const cert = newCertificate(keys.publicKey, validityDays, now);
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'netfence' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

export function generateServingCert(ca: KeyPair, names: ServingNames, validityDays = 365, now = new Date()): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = newKeys();
  const cert = newCertificate(keys.publicKey, validityDays, now);
  cert.setSubject([{ name: 'commonName', value: names.dnsNames[1] ?? names.dnsNames[0] ?? 'netfence' }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...names.dnsNames.map((value) => ({ type: 2, value })),
    ...names.ips.map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** Adds names given on the command line to the defaults, sorting DNS names from IPs. */
export function mergeServingNames(base: ServingNames, dns: readonly string[], ips: readonly string[]): ServingNames {
  for (const ip of ips) {
    if (isIP(ip) === 0) throw new Error(`--ip ${ip}: not an IPv4 or IPv6 address`);
  }
  return {
    dnsNames: [...new Set([...base.dnsNames, ...dns])],
    ips: [...new Set([...base.ips, ...ips])],
  };
}

/** When the certificate stops being valid. */
export function certificateExpiry(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}
