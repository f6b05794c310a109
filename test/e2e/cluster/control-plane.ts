import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import forge from 'node-forge';
import { generateCA, generateServingCert, type KeyPair } from '../../../src/certs/generate.ts';

// A real control plane for the end-to-end suite: etcd and kube-apiserver built from Go modules
// (build.sh), on 127.0.0.1, with generated certificates, a service-account key pair, RBAC and
// an admin client certificate. There is no controller-manager or scheduler.

export interface ControlPlane {
  dir: string;
  server: string;
  kubeconfig: string;
  ca: KeyPair;
  versions: { kubeApiserver: string; etcd: string };
  stop(): Promise<void>;
  /** Stops kube-apiserver, leaves it down for downMs (default 0), starts it, waits until ready. */
  restartApiServer(options?: { downMs?: number }): Promise<void>;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A client certificate for `CN=<user>, O=<groups>` signed by the CA. */
function clientCert(ca: KeyPair, user: string, groups: string[]): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '0' + Date.now().toString(16);
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: user }, ...groups.map((g) => ({ name: 'organizationName', value: g }))]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

export function kubeconfigYaml(server: string, caPem: string, user: { token?: string; cert?: KeyPair }): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const auth = user.token
    ? `    token: ${user.token}`
    : `    client-certificate-data: ${b64(user.cert!.certPem)}\n    client-key-data: ${b64(user.cert!.keyPem)}`;
  return `apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(caPem)}
users:
- name: user
  user:
${auth}
contexts:
- name: e2e
  context: { cluster: e2e, user: user }
current-context: e2e
`;
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, child: ChildProcess, log: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}; see ${log}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms; see ${log}`);
}

export function buildBinaries(): string {
  return execFileSync('bash', [join(HERE, 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface ControlPlaneOptions {
  /**
   * Extra kube-apiserver flags, after the defaults (a flag given twice takes the last value),
   * kept across restartApiServer(). E.g. `--watch-cache=false`: watches are then served from
   * etcd, whose history keeps a resourceVersion valid across an API server restart.
   */
  apiServerArgs?: readonly string[];
}

/** Starts etcd and kube-apiserver from `bin` (the folder build.sh prints; built when not given). */
export async function startControlPlane(bin = buildBinaries(), options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const versions = {
    kubeApiserver: execFileSync(join(bin, 'kube-apiserver'), ['--version'], { encoding: 'utf8' }).trim(),
    etcd: execFileSync(join(bin, 'etcd'), ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim(),
  };
  const dir = mkdtempSync(join(tmpdir(), 'netfence-e2e-'));
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const ca = generateCA('e2e-cluster-ca');
  const serving = generateServingCert(ca, { dnsNames: ['localhost', 'kubernetes', 'kubernetes.default.svc'], ips: ['127.0.0.1'] });
  const admin = clientCert(ca, 'e2e-admin', ['system:masters']);
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const files: Record<string, string> = { 'ca.crt': ca.certPem, 'apiserver.crt': serving.certPem, 'apiserver.key': serving.keyPem, 'sa.pub': sa.publicKey, 'sa.key': sa.privateKey };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(pki, name), content, { mode: 0o600 });

  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const etcdLog = join(dir, 'etcd.log');
  const etcd = spawn(
    join(bin, 'etcd'),
    [
      '--name=e2e',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=e2e=http://127.0.0.1:${etcdPeer}`,
      '--log-level=warn',
    ],
    { stdio: ['ignore', openSync(etcdLog, 'a'), openSync(etcdLog, 'a')] },
  );
  children.push(etcd);
  const stop = async (): Promise<void> => {
    for (const c of children.reverse()) await stopChild(c);
    if (!process.env.NETFENCE_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil('etcd', async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok, 30_000, etcd, etcdLog);
    const apiLog = join(dir, 'kube-apiserver.log');
    const spawnApi = (): ChildProcess => spawn(
      join(bin, 'kube-apiserver'),
      [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--cert-dir=${join(dir, 'apiserver')}`,
        `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
        `--client-ca-file=${join(pki, 'ca.crt')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        '--service-cluster-ip-range=10.96.0.0/16',
        '--authorization-mode=RBAC',
        // No controller-manager creates default ServiceAccounts, so pods could not be admitted.
        '--disable-admission-plugins=ServiceAccount',
        // The endpoints of the kubernetes Service would need a non-loopback address.
        '--endpoint-reconciler-type=none',
        '--profiling=false',
        ...(options.apiServerArgs ?? []),
      ],
      { stdio: ['ignore', openSync(apiLog, 'a'), openSync(apiLog, 'a')] },
    );
    let api = spawnApi();
    children.push(api);
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, ca.certPem, { cert: admin }), { mode: 0o600 });
    const apiReady = (): Promise<void> => waitUntil(
      'kube-apiserver',
      async () => {
        const out = execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', '/readyz'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        return out.trim() === 'ok';
      },
      120_000,
      api,
      apiLog,
    );
    await apiReady();
    // Stops kube-apiserver alone (etcd keeps its data and resourceVersions) and starts it again.
    const restartApiServer = async ({ downMs = 0 } = {}): Promise<void> => {
      await stopChild(api);
      children.splice(children.indexOf(api), 1);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      api = spawnApi();
      children.push(api);
      await apiReady();
    };
    return { dir, server, kubeconfig, ca, versions, stop, restartApiServer };
  } catch (err) {
    await stop();
    throw err;
  }
}
