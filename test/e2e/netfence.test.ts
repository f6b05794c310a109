import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { defaultServingNames, generateServingCert } from '../../src/certs/generate.ts';
import { runCli } from '../helpers/cli.ts';
import { freePort, kubeconfigYaml } from './cluster/control-plane.ts';
import { cluster, eventually, kubectl, kubectlOk, Replica, useControlPlane } from './helpers.ts';

// The scenarios of the end-to-end issue, in order, against one real kube-apiserver + etcd.
// netfence runs as local processes with the token of the deploy/ ServiceAccount; the webhook
// configurations of deploy/ are installed with their service reference replaced by the
// loopback URL of replica A (there is no kube-proxy to route a Service).

const work = mkdtempSync(join(tmpdir(), 'netfence-e2e-run-'));
const certDir = join(work, 'certs');
let a: Replica;
let b: Replica;
let saKubeconfig = '';
let configFile = '';

const json = <T = Record<string, unknown>>(text: string): T => JSON.parse(text) as T;
const policyNames = (ns: string): string[] =>
  json<{ items: Array<{ metadata: { name: string } }> }>(kubectlOk(['get', 'networkpolicies', '-n', ns, '-o', 'json'])).items.map((i) => i.metadata.name).sort();

function manifest(obj: unknown): string {
  return stringify(obj);
}

const dataFromLogic = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'data-from-logic', namespace: 'production' },
  spec: { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'logic' } } }], ports: [{ protocol: 'TCP', port: 6379 }] }] },
};
const dataFromEverywhere = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'data-from-everywhere', namespace: 'production' },
  spec: { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] },
};
const pod = (ns: string, name: string, labels: Record<string, string> = { app: name }) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels },
  spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
});

useControlPlane();

beforeAll(async () => {
  // A namespace that exists before netfence: no baseline labels, no policies.
  kubectlOk(['create', 'namespace', 'legacy']);
}, 60_000);

afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

describe('netfence against a real kube-apiserver', () => {
  it('1. kubectl apply --dry-run=server -k deploy/ is accepted by the API server', () => {
    // Server-side dry run cannot create the namespace the other objects go into, so the
    // namespace is created first; everything else is judged by the real API server.
    kubectlOk(['apply', '-f', 'deploy/namespace.yaml']);
    const r = kubectl(['apply', '--dry-run=server', '-k', 'deploy/']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const kind of ['serviceaccount/netfence', 'clusterrole.rbac.authorization.k8s.io/netfence', 'deployment.apps/netfence', 'validatingwebhookconfiguration.admissionregistration.k8s.io/netfence', 'mutatingwebhookconfiguration.admissionregistration.k8s.io/netfence', 'poddisruptionbudget.policy/netfence', 'networkpolicy.networking.k8s.io/netfence']) {
      expect(r.stdout).toContain(`${kind} created (server dry run)`);
    }
    expect(kubectl(['get', 'validatingwebhookconfiguration', 'netfence']).status).not.toBe(0);
  });

  it('2. netfence runs with the deploy/ ServiceAccount token and RBAC only', async () => {
    // Install deploy/ for real, with the webhooks pointed at replica A on loopback.
    const certs = runCli(['certs', '--out', certDir]);
    expect(certs.status).toBe(0);
    kubectlOk(['create', 'secret', 'tls', 'netfence-tls', '-n', 'netfence-system', `--cert=${join(certDir, 'tls.crt')}`, `--key=${join(certDir, 'tls.key')}`]);
    const [portA, portB] = [await freePort(), await freePort()];
    const caBundle = readFileSync(join(certDir, 'ca.crt')).toString('base64');
    const rendered = parseAllDocuments(kubectlOk(['kustomize', 'deploy/'])).map((d) => d.toJS() as Record<string, any>);
    for (const obj of rendered) {
      if (obj.kind !== 'ValidatingWebhookConfiguration' && obj.kind !== 'MutatingWebhookConfiguration') continue;
      for (const w of obj.webhooks) w.clientConfig = { url: `https://127.0.0.1:${portA}${w.clientConfig.service.path}`, caBundle };
    }
    kubectlOk(['apply', '-f', '-'], { input: rendered.map(manifest).join('---\n') });

    // The config netfence runs with is the one deploy/ ships in its ConfigMap.
    configFile = join(work, 'config.yaml');
    writeFileSync(configFile, kubectlOk(['get', 'configmap', 'netfence-config', '-n', 'netfence-system', '-o', 'jsonpath={.data.config\\.yaml}']));
    const token = kubectlOk(['create', 'token', 'netfence', '-n', 'netfence-system', '--duration=2h']).trim();
    saKubeconfig = join(work, 'netfence.kubeconfig');
    writeFileSync(saKubeconfig, kubeconfigYaml(cluster().server, cluster().caCert, { token }), { mode: 0o600 });

    // B starts first and so leads; A serves the webhooks.
    b = new Replica('netfence-b', portB, certDir, work);
    await b.start(saKubeconfig, configFile);
    a = new Replica('netfence-a', portA, certDir, work);
    await a.start(saKubeconfig, configFile);
    for (const r of [a, b]) {
      await eventually(`${r.name} ready (caches synced with the ServiceAccount's permissions)`, () => r.get('/readyz'), (x) => x.status === 200, 30_000);
    }
    const lease = await eventually('a Lease holder', () => json<{ spec: { holderIdentity?: string } }>(kubectlOk(['get', 'lease', 'netfence-baseline', '-n', 'netfence-system', '-o', 'json'])), (l) => !!l.spec.holderIdentity);
    expect(lease.spec.holderIdentity).toBe('netfence-b');
  });

  it('3. a new namespace gets the baseline labels and policies; a deleted allow-DNS comes back', async () => {
    kubectlOk(['create', 'namespace', 'production']);
    const ns = json<{ metadata: { labels: Record<string, string> } }>(kubectlOk(['get', 'namespace', 'production', '-o', 'json']));
    expect(ns.metadata.labels['netfence.io/baseline']).toBe('enabled');
    await eventually('baseline policies in production', () => policyNames('production'), (n) => n.join() === 'netfence-allow-dns,netfence-default-deny', 10_000);
    const dns = json<{ metadata: { uid: string; labels: Record<string, string> } }>(kubectlOk(['get', 'networkpolicy', 'netfence-allow-dns', '-n', 'production', '-o', 'json']));
    expect(dns.metadata.labels['app.kubernetes.io/managed-by']).toBe('netfence');
    kubectlOk(['delete', 'networkpolicy', 'netfence-allow-dns', '-n', 'production']);
    await eventually(
      'allow-DNS restored',
      () => json<{ metadata: { uid: string } }>(kubectlOk(['get', 'networkpolicy', 'netfence-allow-dns', '-n', 'production', '-o', 'json'])).metadata.uid,
      (uid) => uid !== dns.metadata.uid,
      10_000,
    );
    // The Event follows the write: wait for it rather than race it.
    const events = await eventually(
      'BaselineCreated and BaselineRestored Events on production',
      () =>
        json<{ items: Array<{ reason: string; involvedObject: { kind: string; name: string } }> }>(
          kubectlOk(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.kind=Namespace,involvedObject.name=production', '-o', 'json']),
        ).items,
      (items) => ['BaselineCreated', 'BaselineRestored'].every((r) => items.some((e) => e.reason === r)),
      10_000,
    );
    expect(events.every((e) => e.involvedObject.kind === 'Namespace' && e.involvedObject.name === 'production')).toBe(true);
  });

  it('4. tiers: data from logic on 6379 is accepted; data open to namespaceSelector {} is refused, naming rule and field', () => {
    const good = kubectl(['apply', '-f', '-'], { input: manifest(dataFromLogic) });
    expect(good.stderr).toBe('');
    expect(good.status).toBe(0);
    const bad = kubectl(['apply', '-f', '-'], { input: manifest(dataFromEverywhere) });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('admission webhook "networkpolicies.validate.netfence.io" denied the request');
    expect(bad.stderr).toContain('[data-no-ingress-from-anywhere] spec.ingress[0].from[0].namespaceSelector: namespaceSelector {} admits every namespace, including ones created later');
    expect(policyNames('production')).not.toContain('data-from-everywhere');
  });

  it('5. a namespace from before netfence is audited, not blocked, until adopted; no deleting the last default-deny; dry runs answer the same and change nothing', async () => {
    // legacy existed before netfence and is not adopted: its pod is created, the violation recorded.
    expect(kubectlOk(['apply', '-f', '-'], { input: manifest(pod('legacy', 'web')) })).toContain('pod/web created');
    const audit = await eventually('the audit record of legacy/web', () => a.logs().find((l) => l.event === 'admission.decision' && l.namespace === 'legacy' && l.name === 'web'), (x) => x !== undefined, 5_000);
    expect(audit).toMatchObject({ decision: 'allow', violations: [{ rule: 'require-default-deny', mode: 'audit', downgraded: { from: 'enforce', reason: 'namespace-not-adopted' } }] });
    // Adopting it: netfence adopt says what the baseline will cut, then labels it; the
    // reconciler gives it the baseline, and from then on it is enforced.
    const plan = runCli(['adopt', 'legacy', '--dry-run', '--kubeconfig', cluster().kubeconfig, '--config', configFile]);
    expect(plan.stderr).toBe('');
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain('Pod/web (1 pod: web)\n      ingress: every ingress connection is cut');
    expect(policyNames('legacy')).toEqual([]);
    const adopted = runCli(['adopt', 'legacy', '--kubeconfig', cluster().kubeconfig, '--config', configFile]);
    expect(adopted.status).toBe(0);
    expect(adopted.stdout).toContain('legacy: adopted');
    expect(json<{ metadata: { labels: Record<string, string> } }>(kubectlOk(['get', 'namespace', 'legacy', '-o', 'json'])).metadata.labels['netfence.io/baseline']).toBe('enabled');
    await eventually('baseline policies in legacy', () => policyNames('legacy'), (n) => n.join() === 'netfence-allow-dns,netfence-default-deny', 10_000);
    const delLegacy = kubectl(['delete', 'networkpolicy', 'netfence-default-deny', '-n', 'legacy']);
    expect(delLegacy.status).not.toBe(0);
    expect(delLegacy.stderr).toContain('would leave namespace legacy without default-deny for Ingress');
    expect(kubectlOk(['apply', '-f', '-'], { input: manifest(pod('production', 'api', { tier: 'logic' })) })).toContain('pod/api created');

    const del = kubectl(['delete', 'networkpolicy', 'netfence-default-deny', '-n', 'production']);
    expect(del.status).not.toBe(0);
    expect(del.stderr).toContain('deleting NetworkPolicy netfence-default-deny would leave namespace production without default-deny for Ingress');
    const delDry = kubectl(['delete', '--dry-run=server', 'networkpolicy', 'netfence-default-deny', '-n', 'production']);
    expect(delDry.status).not.toBe(0);
    expect(delDry.stderr).toContain('would leave namespace production without default-deny for Ingress');
    expect(policyNames('production')).toContain('netfence-default-deny');

    const badDry = kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifest(dataFromEverywhere) });
    expect(badDry.status).not.toBe(0);
    expect(badDry.stderr).toContain('[data-no-ingress-from-anywhere]');
    const goodDry = kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifest({ ...dataFromLogic, metadata: { name: 'dry-only', namespace: 'production' } }) });
    expect(goodDry.status).toBe(0);
    expect(goodDry.stdout).toContain('(server dry run)');
    expect(policyNames('production')).not.toContain('dry-only');

    // A dry-run namespace is judged and mutated, and nothing is created for it anywhere.
    const nsDry = kubectl(['create', 'namespace', 'dry-ns', '--dry-run=server', '-o', 'json']);
    expect(nsDry.status).toBe(0);
    expect(json<{ metadata: { labels: Record<string, string> } }>(nsDry.stdout).metadata.labels['netfence.io/baseline']).toBe('enabled');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(kubectl(['get', 'namespace', 'dry-ns']).status).not.toBe(0);
    expect(policyNames('dry-ns')).toEqual([]);
  });

  it('6. two replicas: only the leader reconciles; stop it and the other takes over', async () => {
    const applied = (r: Replica) => r.logs().filter((l) => l.event === 'baseline.applied');
    expect(applied(b).length).toBeGreaterThan(0);
    expect(applied(a)).toEqual([]);
    expect((await a.get('/metrics')).text).toMatch(/^netfence_leader 0$/m);
    expect((await b.get('/metrics')).text).toMatch(/^netfence_leader 1$/m);

    expect(await b.stop()).toBe(0);
    await eventually('A holds the Lease', () => json<{ spec: { holderIdentity?: string } }>(kubectlOk(['get', 'lease', 'netfence-baseline', '-n', 'netfence-system', '-o', 'json'])).spec.holderIdentity, (h) => h === 'netfence-a', 20_000);
    kubectlOk(['delete', 'networkpolicy', 'netfence-allow-dns', '-n', 'production']);
    await eventually('allow-DNS restored by A', () => policyNames('production'), (n) => n.includes('netfence-allow-dns'), 15_000);
    // The log line follows the write: wait for it rather than race it.
    await eventually('A logged the restore', () => applied(a).some((l) => l.namespace === 'production' && l.kind === 'NetworkPolicy' && l.name === 'netfence-allow-dns'), (x) => x, 5_000);
    expect((await a.get('/metrics')).text).toMatch(/^netfence_leader 1$/m);
  });

  it('RBAC: no call of netfence was forbidden', () => {
    for (const r of [a, b]) {
      const forbidden = r.logs().filter((l) => JSON.stringify(l).match(/forbidden|"status":403|HTTP-Code: 403/i));
      expect(forbidden, `${r.name} needed a permission deploy/ does not grant`).toEqual([]);
    }
  });

  it('8. rotating the serving certificate under a running netfence fails no API request', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster().kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const before = await a.fingerprint();
    const next = generateServingCert({ certPem: readFileSync(join(certDir, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(certDir, 'ca.key'), 'utf8') }, defaultServingNames());
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await core.createNamespacedPod({ namespace: 'production', body: pod('production', `rot-${i}`, { tier: 'logic' }) as never, dryRun: 'All' });
          ok++;
        } catch (err) {
          failures.push((err as Error).message.slice(0, 300));
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    writeFileSync(join(certDir, 'tls.crt.new'), next.certPem);
    writeFileSync(join(certDir, 'tls.key.new'), next.keyPem);
    renameSync(join(certDir, 'tls.crt.new'), join(certDir, 'tls.crt'));
    renameSync(join(certDir, 'tls.key.new'), join(certDir, 'tls.key'));
    const expected = new X509Certificate(next.certPem).fingerprint256;
    await eventually('new certificate served', () => a.fingerprint(), (fp) => fp === expected, 15_000);
    await new Promise((r) => setTimeout(r, 1_000));
    stop = true;
    await traffic;
    expect(before).not.toBe(expected);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(10);
  });

  it('7. netfence stopped: the webhooks fail closed as deploy/ documents, and kube-system stays writable', async () => {
    expect(await a.stop()).toBe(0);
    const p = kubectl(['apply', '-f', '-'], { input: manifest(pod('production', 'after-stop', { tier: 'logic' })) });
    expect(p.status).not.toBe(0);
    expect(p.stderr).toMatch(/failed calling webhook "workloads\.validate\.netfence\.io"/);
    const ns = kubectl(['create', 'namespace', 'while-down']);
    expect(ns.status).not.toBe(0);
    expect(ns.stderr).toMatch(/failed calling webhook "namespaces\.mutate\.netfence\.io"/);
    expect(kubectl(['apply', '-f', '-'], { input: manifest(pod('kube-system', 'repair')) }).status).toBe(0);
    expect(kubectl(['apply', '-f', '-'], { input: manifest({ ...dataFromEverywhere, metadata: { name: 'repair', namespace: 'kube-system' } }) }).status).toBe(0);
    expect(kubectl(['delete', 'pod', 'repair', '-n', 'kube-system', '--wait=false']).status).toBe(0);
    // netfence's own namespace too: it can always be repaired.
    expect(kubectl(['apply', '-f', '-'], { input: manifest(pod('netfence-system', 'repair')) }).status).toBe(0);
  });
});

