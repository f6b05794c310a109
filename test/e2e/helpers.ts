import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, inject } from 'vitest';
import { REPO } from '../helpers/cli.ts';
import { startControlPlane, type ControlPlane } from './cluster/control-plane.ts';

/** What a test file knows of its control plane. */
export interface ClusterInfo {
  dir: string;
  server: string;
  kubeconfig: string;
  caCert: string;
  caKey: string;
}

let current: ClusterInfo | undefined;

/** The control plane of this test file (see useControlPlane). */
export function cluster(): ClusterInfo {
  if (!current) throw new Error('no control plane: call useControlPlane() at the top of the test file');
  return current;
}

/**
 * Gives the calling test file a control plane of its own: started before its tests, stopped
 * after them, failures included. Files run in parallel, each against its own etcd and
 * kube-apiserver, so webhooks installed by one never judge another's requests.
 */
export function useControlPlane(): void {
  let plane: ControlPlane | undefined;
  beforeAll(async () => {
    plane = await startControlPlane(inject('e2eBin'));
    current = { dir: plane.dir, server: plane.server, kubeconfig: plane.kubeconfig, caCert: plane.ca.certPem, caKey: plane.ca.keyPem };
  }, 180_000);
  afterAll(async () => {
    await plane?.stop();
    plane = undefined;
    current = undefined;
  });
}

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

/** kubectl as the cluster admin (or with another kubeconfig). */
export function kubectl(args: string[], options: { input?: string; kubeconfig?: string } = {}): Result {
  const r = spawnSync('kubectl', ['--kubeconfig', options.kubeconfig ?? cluster().kubeconfig, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function kubectlOk(args: string[], options: { input?: string } = {}): string {
  const r = kubectl(args, options);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export async function eventually<T>(what: string, probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch {
      // retried until the deadline
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not true within ${timeoutMs} ms (last: ${JSON.stringify(last)?.slice(0, 500)})`);
}

/**
 * A netfence replica run as a local process, with the given kubeconfig (the deploy/
 * ServiceAccount's). Its log goes to a file in its work directory, read back for assertions and
 * left there for a post-mortem.
 */
export class Replica {
  readonly name: string;
  readonly port: number;
  readonly certDir: string;
  readonly logFile: string;
  child: ChildProcess | undefined;

  constructor(name: string, port: number, certDir: string, workDir: string) {
    this.name = name;
    this.port = port;
    this.certDir = certDir;
    this.logFile = join(workDir, `${name}.log`);
  }

  async start(kubeconfig: string, configFile: string): Promise<void> {
    const out = openSync(this.logFile, 'a');
    this.child = spawn(
      process.execPath,
      [join(REPO, 'src/cli/main.ts'), 'serve', '--kubeconfig', kubeconfig, '--config', configFile, '--cert-dir', this.certDir, '--port', String(this.port), '--health-port', '0', '--host', '127.0.0.1'],
      { cwd: REPO, stdio: ['ignore', out, out], env: { ...process.env, POD_NAMESPACE: 'netfence-system', POD_NAME: this.name, NETFENCE_LOG_LEVEL: 'debug' } },
    );
    await eventually(`${this.name} started`, () => this.logs().some((l) => l.event === 'server.started'), (x) => x, 30_000);
  }

  logs(): Array<Record<string, unknown>> {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    const ca = readFileSync(join(this.certDir, 'ca.crt'));
    const { Agent, request } = await import('undici');
    const dispatcher = new Agent({ connect: { ca } });
    try {
      const res = await request(`https://127.0.0.1:${this.port}${path}`, { dispatcher });
      return { status: res.statusCode, text: await res.body.text() };
    } finally {
      await dispatcher.close();
    }
  }

  /** The fingerprint of the certificate a new connection gets. */
  fingerprint(): Promise<string> {
    const ca = readFileSync(join(this.certDir, 'ca.crt'));
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: this.port, ca, servername: 'localhost' }, () => {
        resolve(s.getPeerX509Certificate()?.fingerprint256 ?? '');
        s.destroy();
      });
      s.on('error', reject);
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill(signal);
    return exited;
  }
}
