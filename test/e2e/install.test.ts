import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { connect } from 'node:tls';
import { isDeepStrictEqual } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { signedBy, splitPem } from '../../src/certs/authority.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { REPO } from '../helpers/cli.ts';
import { freePort, kubeconfigYaml } from './cluster/control-plane.ts';
import { cluster, eventually, kubectl, kubectlOk, useControlPlane } from './helpers.ts';

// Installing netfence as a platform engineer would: from the Helm chart with its defaults and
// from the plain manifests, with no manual step, then certificate renewal and CA rotation under
// load, an upgrade, and an uninstall. netfence runs as local processes with the ServiceAccount's
// token (no kubelet); the API server reaches them on loopback (no kube-proxy): the chart's
// webhookURL value, and for the plain manifests a patch of the clientConfig, stand in for the
// Service. EndpointSlices for the Service are written here, as the endpoints controller would.

const work = mkdtempSync(join(tmpdir(), 'netfence-e2e-install-'));
const NS = 'netfence-system';
const SECRET = 'netfence-certs';
// Short lifetimes: the CA is rotated when 40 s of its 120 are left, the serving certificate
// renewed every ~14 s (a third of 20 s left).
const LIFETIMES = ['--ca-validity', '120s', '--serving-validity', '20s'];
const KINDS = ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration'] as const;

let helmBin = '';
const helmEnv = { ...process.env, HELM_CACHE_HOME: join(work, 'helm/cache'), HELM_CONFIG_HOME: join(work, 'helm/config'), HELM_DATA_HOME: join(work, 'helm/data') };
function helm(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(helmBin, [...args, '--kubeconfig', cluster().kubeconfig], { cwd: REPO, encoding: 'utf8', env: helmEnv, timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
function helmOk(args: string[]): string {
  const r = helm(args);
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** helm without blocking the event loop: traffic generated in this process goes on meanwhile. */
function helmAsync(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(helmBin, [...args, '--kubeconfig', cluster().kubeconfig], { cwd: REPO, encoding: 'utf8', env: helmEnv, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`helm ${args.join(' ')} failed: ${stderr}`)) : resolve(stdout),
    );
  });
}

/** The failurePolicy of every entry, read without blocking the event loop. */
function policiesAsync(): Promise<string[]> {
  return Promise.all(
    KINDS.map(
      (k) =>
        new Promise<string[]>((resolve) => {
          execFile('kubectl', ['--kubeconfig', cluster().kubeconfig, 'get', k, 'netfence', '-o', 'jsonpath={.webhooks[*].failurePolicy}'], { encoding: 'utf8' }, (err, out) => resolve(err ? ['(unreadable)'] : out.split(' ')));
        }),
    ),
  ).then((r) => r.flat());
}

type Obj = Record<string, any>;
const docs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj).filter((o) => o && o.kind);
const keyOf = (o: Obj): string => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const json = <T = Obj>(text: string): T => JSON.parse(text) as T;

/** Objects of the two renders that differ, are missing from one, or are extra in it. */
function differences(chart: Obj[], plain: Obj[]): string[] {
  const a = new Map(chart.map((o) => [keyOf(o), o]));
  const b = new Map(plain.map((o) => [keyOf(o), o]));
  const out: string[] = [];
  for (const [k, o] of a) if (!b.has(k)) out.push(`only in the chart: ${k}`);
  else if (!isDeepStrictEqual(o, b.get(k))) out.push(`differs: ${k}\n--- chart\n${stringify(o)}--- deploy/\n${stringify(b.get(k))}`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`only in deploy/: ${k}`);
  return out;
}

/** A kustomize overlay of deploy/ with the cert-manager component, in a temporary folder. */
function certManagerOverlay(): string {
  const dir = join(work, 'overlay');
  mkdirSync(dir, { recursive: true });
  const base = relative(dir, join(REPO, 'deploy'));
  writeFileSync(join(dir, 'kustomization.yaml'), `resources: [${base}]\ncomponents: [${base}/cert-manager]\n`);
  return dir;
}

const webhooks = (): Obj[] => KINDS.map((k) => kubectl(['get', k, 'netfence', '-o', 'json'])).filter((r) => r.status === 0).map((r) => json(r.stdout));
const entries = (): Obj[] => webhooks().flatMap((c) => c.webhooks ?? []);
const secretTrust = (): string[] => {
  const s = json(kubectlOk(['get', 'secret', SECRET, '-n', NS, '-o', 'json']));
  return splitPem(Buffer.from(s.data['ca.crt'], 'base64').toString());
};
const fp = (pem: string): string => new X509Certificate(pem).fingerprint256;

/** A netfence replica as a local process, in self-managed certificate mode. */
class Replica {
  readonly name: string;
  readonly port: number;
  readonly logFile: string;
  child: ChildProcess | undefined;
  constructor(name: string, port: number) {
    this.name = name;
    this.port = port;
    this.logFile = join(work, `${name}.log`);
  }
  start(kubeconfig: string, configFile: string): void {
    const out = openSync(this.logFile, 'a');
    this.child = spawn(
      process.execPath,
      [join(REPO, 'src/cli/main.ts'), 'serve', '--kubeconfig', kubeconfig, '--config', configFile, '--cert-secret', SECRET, ...LIFETIMES, '--port', String(this.port), '--health-port', '0', '--host', '127.0.0.1'],
      { cwd: REPO, stdio: ['ignore', out, out], env: { ...process.env, POD_NAMESPACE: NS, POD_NAME: this.name, NETFENCE_LOG_LEVEL: 'debug' } },
    );
  }
  logs(): Obj[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8').split('\n').flatMap((l) => {
      try {
        return [JSON.parse(l) as Obj];
      } catch {
        return [];
      }
    });
  }
  /** The certificate a new connection is served (PEM), not verified: that is what is checked. */
  served(): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: this.port, rejectUnauthorized: false, servername: 'localhost' }, () => {
        resolve(s.getPeerX509Certificate()?.toString() ?? '');
        s.destroy();
      });
      s.on('error', reject);
    });
  }
  async ready(): Promise<boolean> {
    const { Agent, request } = await import('undici');
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      return (await request(`https://127.0.0.1:${this.port}/readyz`, { dispatcher })).statusCode === 200;
    } finally {
      await dispatcher.close();
    }
  }
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    return exited;
  }
}

let replicas: Replica[] = [];
let saKubeconfig = '';
let configFile = '';

/** The token of the installed ServiceAccount, and the config of the installed ConfigMap. */
function credentials(): void {
  configFile = join(work, 'config.yaml');
  writeFileSync(configFile, kubectlOk(['get', 'configmap', 'netfence-config', '-n', NS, '-o', 'jsonpath={.data.config\\.yaml}']));
  const token = kubectlOk(['create', 'token', 'netfence', '-n', NS, '--duration=2h']).trim();
  saKubeconfig = join(work, 'netfence.kubeconfig');
  writeFileSync(saKubeconfig, kubeconfigYaml(cluster().server, cluster().caCert, { token }), { mode: 0o600 });
}

/**
 * EndpointSlices for the Service, one per replica (their ports differ), as the endpoints
 * controller would write them. The API server refuses loopback addresses in IPv4 slices, so
 * these are FQDN slices whose name is the dotted loopback address, which the resolver returns
 * as it is.
 */
function endpointSlices(rs: Replica[]): void {
  for (const r of rs) {
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `netfence-${r.name}`, namespace: NS, labels: { 'kubernetes.io/service-name': 'netfence' } },
      addressType: 'FQDN',
      ports: [{ name: 'https', port: r.port, protocol: 'TCP' }],
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    };
    kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(slice) });
  }
}

async function startReplicas(): Promise<void> {
  credentials();
  const ports = [await freePort(), await freePort()];
  replicas = [new Replica('netfence-a', ports[0]!), new Replica('netfence-b', ports[1]!)];
  endpointSlices(replicas);
}

const allLogs = (): Obj[] => replicas.flatMap((r) => r.logs());
const events = (name: string): Obj[] => allLogs().filter((l) => l.event === name);

/** Steady admission traffic through the API server until stopped: every failure is kept. */
function load(namespace: string): { stop(): Promise<{ ok: number; failures: string[] }> } {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster().kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const run = (async () => {
    for (let i = 0; !stop && i < 100_000; i++) {
      try {
        // Through the validating webhook (pods), and the mutating + validating ones (namespaces).
        await core.createNamespacedPod({ namespace, body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: `load-${i}`, namespace }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } } as never, dryRun: 'All' });
        await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `load-${i}` } } as never, dryRun: 'All' });
        ok += 2;
      } catch (err) {
        failures.push(`${new Date().toISOString()} ${(err as Error).message.slice(0, 300)}`);
      }
    }
  })();
  return {
    stop: async () => {
      stop = true;
      await run;
      return { ok, failures };
    },
  };
}

const dataFromEverywhere = (ns: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'data-from-everywhere', namespace: ns },
  spec: { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] },
});

/** netfence answers through the API server: a new namespace is mutated, a bad policy refused. */
async function webhooksAnswer(ns: string): Promise<void> {
  kubectlOk(['create', 'namespace', ns]);
  const labels = json(kubectlOk(['get', 'namespace', ns, '-o', 'json'])).metadata.labels;
  expect(labels['netfence.io/baseline']).toBe('enabled');
  const bad = kubectl(['apply', '-f', '-'], { input: JSON.stringify(dataFromEverywhere(ns)) });
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toContain('admission webhook "networkpolicies.validate.netfence.io" denied the request');
  await eventually(`baseline policies in ${ns}`, () => kubectlOk(['get', 'networkpolicies', '-n', ns, '-o', 'name']), (o) => o.includes('netfence-default-deny'), 15_000);
}

/** Every entry of both configurations carries the Secret's trust and fails closed. */
async function injectedAndArmed(): Promise<void> {
  await eventually(
    'caBundle injected into every webhook entry and every entry armed (failurePolicy Fail)',
    () => ({ trust: secretTrust().map(fp), entries: entries().map((e) => ({ fp: splitPem(Buffer.from(e.clientConfig.caBundle ?? '', 'base64').toString()).map(fp), policy: e.failurePolicy })) }),
    (s) => s.entries.length === 4 && s.entries.every((e) => e.policy === 'Fail' && isDeepStrictEqual(e.fp, s.trust)),
    45_000,
  );
}

useControlPlane();

beforeAll(() => {
  // Built once for the suite by global-setup.ts (tools/helm/build.sh), cached like kube-apiserver.
  helmBin = inject('helmBin');
  console.log(`helm: ${execFileSync(helmBin, ['version', '--short'], { encoding: 'utf8' }).trim()}`);
});

afterAll(async () => {
  for (const r of replicas) await r.stop();
});

describe('installing netfence', () => {
  it('the chart with its defaults renders the objects of deploy/, and with certificates.mode=cert-manager those of deploy/ + deploy/cert-manager', () => {
    const plain = docs(kubectlOk(['kustomize', 'deploy/'])).filter((o) => o.kind !== 'Namespace');
    const chart = docs(helmOk(['template', 'netfence', 'deploy/chart', '-n', NS]));
    expect(differences(chart, plain)).toEqual([]);
    expect(chart.length).toBeGreaterThanOrEqual(12);
    const plainCm = docs(kubectlOk(['kustomize', certManagerOverlay()])).filter((o) => o.kind !== 'Namespace');
    const chartCm = docs(helmOk(['template', 'netfence', 'deploy/chart', '-n', NS, '--set', 'certificates.mode=cert-manager']));
    expect(differences(chartCm, plainCm)).toEqual([]);
    // The comparison does see a difference.
    const three = docs(helmOk(['template', 'netfence', 'deploy/chart', '-n', NS, '--set', 'replicas=3']));
    expect(differences(three, plain).map((d) => d.split('\n')[0])).toEqual(['differs: Deployment/netfence-system/netfence']);
    // One list: excludedNamespaces replaces the config's, and the webhooks follow the config.
    const custom = docs(helmOk(['template', 'netfence', 'deploy/chart', '-n', NS, '--set', 'excludedNamespaces={kube-system,cert-manager}']));
    const selectors = custom.filter((o) => o.kind.endsWith('WebhookConfiguration')).flatMap((o) => o.webhooks.map((w: Obj) => w.namespaceSelector.matchExpressions[0].values));
    expect(selectors).toEqual(Array(4).fill(['cert-manager', 'kube-system', NS]));
    const customConfig = join(work, 'custom-config.yaml');
    writeFileSync(customConfig, custom.find((o) => o.kind === 'ConfigMap')!.data['config.yaml']);
    expect(loadConfigFile(customConfig).config.excludedNamespaces).toEqual(['kube-system', 'cert-manager']);
    // Bad values are refused with what to do.
    const bad = helm(['template', 'netfence', 'deploy/chart', '--set', 'certificates.mode=manual']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('certificates.mode "manual": must be self-managed or cert-manager');
  });

  it('both renders pass a server-side dry run', () => {
    kubectlOk(['apply', '-f', 'deploy/namespace.yaml']);
    const chart = kubectl(['apply', '--dry-run=server', '-f', '-'], { input: helmOk(['template', 'netfence', 'deploy/chart', '-n', NS]) });
    expect(chart.stderr).toBe('');
    expect(chart.status).toBe(0);
    const plain = kubectl(['apply', '--dry-run=server', '-k', 'deploy/']);
    expect(plain.stderr).toBe('');
    expect(plain.status).toBe(0);
    for (const r of [chart, plain]) {
      for (const kind of ['deployment.apps/netfence', 'validatingwebhookconfiguration.admissionregistration.k8s.io/netfence', 'mutatingwebhookconfiguration.admissionregistration.k8s.io/netfence']) {
        expect(r.stdout).toContain(`${kind} created (server dry run)`);
      }
    }
  });
});

describe('from the Helm chart', () => {
  it('helm install with the defaults blocks nothing while netfence is not running yet', () => {
    const out = helmOk(['install', 'netfence', 'deploy/chart', '-n', NS, '--create-namespace']);
    expect(out).toContain('STATUS: deployed');
    const e = entries();
    expect(e).toHaveLength(4);
    expect(e.every((w) => w.failurePolicy === 'Ignore' && !w.clientConfig.caBundle)).toBe(true);
    // No pod of netfence exists, no caBundle: the cluster goes on.
    kubectlOk(['create', 'namespace', 'early']);
    expect(kubectlOk(['run', 'web', '-n', 'early', '--image=registry.k8s.io/pause:3.10'])).toContain('pod/web created');
  });

  it('netfence creates the Secret, injects the caBundle, arms the webhooks; they answer', async () => {
    await startReplicas();
    // Stand-in for the Service: the API server calls replica A on loopback.
    helmOk(['upgrade', 'netfence', 'deploy/chart', '-n', NS, '--set', `webhookURL=https://127.0.0.1:${replicas[0]!.port}`]);
    // B first, so that B leads and A (which the API server calls) follows: the rotation below
    // then stops the leader in the middle and A takes over.
    const [a, b] = replicas as [Replica, Replica];
    b.start(saKubeconfig, configFile);
    await eventually('B holds the Lease', () => json(kubectlOk(['get', 'lease', 'netfence-baseline', '-n', NS, '-o', 'json'])).spec.holderIdentity, (h) => h === 'netfence-b', 30_000);
    a.start(saKubeconfig, configFile);
    await injectedAndArmed();
    for (const r of replicas) await eventually(`${r.name} ready (serves a certificate the injected caBundle verifies)`, () => r.ready(), (x) => x, 30_000);
    await webhooksAnswer('fenced');
    // 'early' existed before netfence ran, with a pod and no default-deny: it is not adopted, so
    // its pods keep being created, and the violation is recorded in audit mode, never denied.
    expect(kubectlOk(['run', 'audited', '-n', 'early', '--image=registry.k8s.io/pause:3.10'])).toContain('pod/audited created');
    const record = await eventually(
      'the audit record of early/audited',
      () => replicas.flatMap((r) => r.logs()).find((l) => l.event === 'admission.decision' && l.namespace === 'early' && l.name === 'audited'),
      (x) => x !== undefined,
      10_000,
    );
    expect(record!.decision).toBe('allow');
    expect((record!.violations as Obj[]).map((v) => `${v.rule}:${v.mode}:${v.downgraded?.reason}`)).toContain('require-default-deny:audit:namespace-not-adopted');
  });

  it('two replicas: one Secret, one CA, every replica serves it, no conflict left unresolved', async () => {
    const secrets = json(kubectlOk(['get', 'secrets', '-n', NS, '-l', 'app.kubernetes.io/managed-by=netfence', '-o', 'json'])).items.map((s: Obj) => s.metadata.name);
    expect(secrets).toEqual([SECRET]);
    expect(events('certificates.created')).toHaveLength(1);
    const signer = (): string => Buffer.from(json(kubectlOk(['get', 'secret', SECRET, '-n', NS, '-o', 'json'])).data['ca-signer.crt'], 'base64').toString();
    for (const r of replicas) {
      await eventually(`${r.name} serves a certificate of the Secret's CA`, async () => ({ pem: await r.served(), ca: signer() }), (x) => signedBy(x.pem, x.ca), 15_000);
    }
    expect(events('certificates.reconcile_failed')).toEqual([]);
    const writers = new Set(replicas.filter((r) => r.logs().some((l) => String(l.event).startsWith('certificates.') && l.event !== 'certificates.probe_failed')).map((r) => r.name));
    expect(writers.size).toBe(1);
  });

  it('the serving certificate is renewed and the CA rotated under steady admission traffic: no request fails; the old CA stays while a replica is down', async () => {
    const caBefore = secretTrust().map(fp);
    const since = new Date().toISOString();
    const seen = new Set<string>();
    const traffic = load('fenced');
    const sample = setInterval(() => void replicas[0]!.served().then((pem) => seen.add(fp(pem)), () => undefined), 500);
    const after = (name: string) => allLogs().filter((l) => l.event === name && String(l.time) >= since);
    const [a, b] = replicas as [Replica, Replica];
    try {
      await eventually('a CA rotation started', () => after('certificates.ca-rotation-started').length, (n) => n >= 1, 90_000);
      // B, the leader, goes away in the middle of the rotation: A takes the Lease over and goes on.
      expect(await b.stop()).toBe(0);
      await eventually('the new CA signs', () => after('certificates.ca-rotation-signer-switched').length, (n) => n >= 1, 30_000);
      // B's endpoint cannot say what it serves: the old CA must stay in the caBundle.
      await new Promise((r) => setTimeout(r, 6_000));
      expect(after('certificates.ca-rotation-finished')).toEqual([]);
      expect(secretTrust()).toHaveLength(2);
      expect(entries().every((e) => splitPem(Buffer.from(e.clientConfig.caBundle, 'base64').toString()).length === 2)).toBe(true);
      // B comes back, serves the new chain, and only then does the old CA go.
      b.start(saKubeconfig, configFile);
      await eventually(
        'the CA rotation finished and two more serving certificates',
        () => ({ finished: after('certificates.ca-rotation-finished').length, renewed: after('certificates.serving-renewed').length + after('certificates.ca-rotation-signer-switched').length }),
        (c) => c.finished >= 1 && c.renewed >= 2,
        90_000,
      );
    } finally {
      clearInterval(sample);
    }
    const { ok, failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    const caAfter = secretTrust().map(fp);
    expect(caAfter).toHaveLength(1);
    expect(caBefore).not.toContain(caAfter[0]);
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(a.child?.exitCode).toBeNull();
    expect(after('certificates.ca-rotation-signer-switched').length).toBeGreaterThanOrEqual(1);
    expect(a.logs().filter((l) => l.event === 'leader.started')).toHaveLength(1);
    await injectedAndArmed();
    await eventually('B ready again', () => b.ready(), (x) => x, 30_000);
    expect(events('certificates.reconcile_failed')).toEqual([]);
    console.log(`rotation under load: ${ok} admission requests, ${failures.length} failed; ${seen.size} serving certificates seen on replica A; leaders: ${[...new Set(allLogs().filter((l) => l.event === 'leader.started').map((l) => l.identity))].join(', ')}`);
  }, 240_000);

  it('helm upgrade keeps the webhooks armed, with their caBundle, and answering', async () => {
    const traffic = load('fenced');
    const policies = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const p of await policiesAsync()) policies.add(p);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      await helmAsync(['upgrade', 'netfence', 'deploy/chart', '-n', NS, '--reuse-values', '--set', 'timeoutSeconds=7']);
      await new Promise((r) => setTimeout(r, 2_000));
    } finally {
      watching = false;
      await watch;
    }
    const { ok, failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    expect([...policies]).toEqual(['Fail']);
    expect(entries().map((e) => e.timeoutSeconds)).toEqual([7, 7, 7, 7]);
    await injectedAndArmed();
  });

  it('helm uninstall leaves no webhook configuration behind, and nothing is blocked', async () => {
    helmOk(['uninstall', 'netfence', '-n', NS]);
    for (const k of KINDS) expect(kubectl(['get', k, 'netfence']).status).not.toBe(0);
    expect(webhooks()).toEqual([]);
    for (const r of replicas) expect(await r.stop()).toBe(0);
    // With netfence gone, a namespace without default-deny takes pods again.
    expect(kubectlOk(['run', 'after', '-n', 'early', '--image=registry.k8s.io/pause:3.10'])).toContain('pod/after created');
  });
});

describe('from the plain manifests', () => {
  it('kubectl apply -k deploy/ with no manual step: caBundle injected, webhooks armed and answering; kubectl delete leaves no webhook', async () => {
    kubectlOk(['delete', 'secret', SECRET, '-n', NS]);
    const applied = kubectl(['apply', '-k', 'deploy/']);
    expect(applied.status).toBe(0);
    expect(entries().every((w) => w.failurePolicy === 'Ignore')).toBe(true);
    kubectlOk(['run', 'web2', '-n', 'early', '--image=registry.k8s.io/pause:3.10']);
    await startReplicas();
    // Stand-in for the Service (no kube-proxy): point the webhooks at replica A on loopback.
    for (const c of webhooks()) {
      const patch = c.webhooks.map((w: Obj, i: number) => ({ op: 'replace', path: `/webhooks/${i}/clientConfig`, value: { url: `https://127.0.0.1:${replicas[0]!.port}${w.clientConfig.service.path}` } }));
      kubectlOk(['patch', c.kind.toLowerCase(), 'netfence', '--type=json', '-p', JSON.stringify(patch)]);
    }
    for (const r of replicas) r.start(saKubeconfig, configFile);
    await injectedAndArmed();
    await webhooksAnswer('fenced-plain');
    const deleted = kubectl(['delete', '-k', 'deploy/', '--wait=false']);
    expect(deleted.status).toBe(0);
    expect(webhooks()).toEqual([]);
    expect(kubectlOk(['run', 'after2', '-n', 'early', '--image=registry.k8s.io/pause:3.10'])).toContain('pod/after2 created');
  }, 120_000);
});
