import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { KubeClient } from '../../src/kube/client.ts';
import { runCli } from '../helpers/cli.ts';
import { freePort, kubeconfigYaml } from './cluster/control-plane.ts';
import { cluster, eventually, kubectl, kubectlOk, Replica, useControlPlane } from './helpers.ts';

// Baseline objects of a kind other than NetworkPolicy, against a real kube-apiserver: a small
// CRD stands in for Istio's PeerAuthentication. netfence runs with the deploy/ ServiceAccount
// and its RBAC, plus (when the scenario says so) a ClusterRole for the CRD. No webhooks are
// installed here: namespaces get the baseline label from whoever creates them.

const GROUP = 'security.netfence-test.io';
const work = mkdtempSync(join(tmpdir(), 'netfence-e2e-objects-'));
const certDir = join(work, 'certs');
let saKubeconfig = '';
let replica: Replica | undefined;

const json = <T = Record<string, any>>(text: string): T => JSON.parse(text) as T;

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `peerauthentications.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: 'peerauthentications', singular: 'peerauthentication', kind: 'PeerAuthentication' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  mtls: { type: 'object', properties: { mode: { type: 'string', enum: ['STRICT', 'PERMISSIVE', 'DISABLE'] } } },
                  selector: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
            },
          },
        },
      },
    ],
  },
};

const config = (objects: unknown[]) => ({
  apiVersion: 'netfence.io/v1alpha1',
  kind: 'NetfenceConfig',
  baseline: {
    labels: { 'netfence.io/baseline': 'enabled' },
    policies: [{ name: 'netfence-default-deny', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } }],
    objects,
  },
});
const strict = { apiVersion: `${GROUP}/v1`, kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } };

function writeConfig(name: string, objects: unknown[]): string {
  const file = join(work, name);
  writeFileSync(file, stringify(config(objects)));
  return file;
}

const labelledNamespace = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'netfence.io/baseline': 'enabled' } } });
const peerAuth = (ns: string): Record<string, any> | undefined => {
  const r = kubectl(['get', `peerauthentications.${GROUP}`, 'default', '-n', ns, '-o', 'json']);
  return r.status === 0 ? json(r.stdout) : undefined;
};

/** netfence serve run to its exit (a start it refuses): its exit code and what it said. */
function serveOnce(configFile: string): { status: number; stderr: string } {
  const r = runCli(['serve', '--kubeconfig', saKubeconfig, '--config', configFile, '--cert-dir', certDir, '--port', '0', '--host', '127.0.0.1']);
  return { status: r.status, stderr: r.stderr };
}

useControlPlane();

beforeAll(async () => {
  kubectlOk(['apply', '-f', 'deploy/namespace.yaml']);
  kubectlOk(['apply', '-n', 'netfence-system', '-f', 'deploy/rbac.yaml']);
  kubectlOk(['create', 'serviceaccount', 'netfence', '-n', 'netfence-system']);
  kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(crd) });
  kubectlOk(['wait', '--for=condition=Established', `crd/peerauthentications.${GROUP}`, '--timeout=60s']);
  const token = kubectlOk(['create', 'token', 'netfence', '-n', 'netfence-system', '--duration=2h']).trim();
  saKubeconfig = join(work, 'netfence.kubeconfig');
  writeFileSync(saKubeconfig, kubeconfigYaml(cluster().server, cluster().caCert, { token }), { mode: 0o600 });
  runCli(['certs', '--out', certDir]);
}, 120_000);

afterAll(async () => {
  await replica?.stop();
});

describe('baseline objects of any kind', () => {
  it('1. a kind the API server does not serve: netfence refuses to start, naming the config entry', () => {
    const file = writeConfig('unserved.yaml', [{ ...strict, apiVersion: 'security.istio.io/v1' }]);
    const r = serveOnce(file);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('baseline.objects[0]: PeerAuthentication default: the API server does not serve security.istio.io/v1');
  });

  it('2. a kind netfence may not watch (RBAC): refused at start, naming the ClusterRole rule to add', () => {
    const r = serveOnce(writeConfig('forbidden.yaml', [strict]));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('baseline.objects[0]: PeerAuthentication default: netfence may not list, watch, create, patch peerauthentications.security.netfence-test.io');
    expect(r.stderr).toContain(`{apiGroups: ["${GROUP}"], resources: ["peerauthentications"], verbs: [list, watch, create, patch]}`);
  });

  it('3. with the rule added, the object is created in a new baseline namespace, with one Event', async () => {
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'netfence-peerauthentications' },
      rules: [{ apiGroups: [GROUP], resources: ['peerauthentications'], verbs: ['list', 'watch', 'create', 'patch'] }],
    };
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'netfence-peerauthentications' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'netfence-peerauthentications' },
      subjects: [{ kind: 'ServiceAccount', name: 'netfence', namespace: 'netfence-system' }],
    };
    kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [role, binding] }) });
    replica = new Replica('netfence-objects', await freePort(), certDir, work);
    await replica.start(saKubeconfig, writeConfig('ok.yaml', [strict]));

    kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(labelledNamespace('mesh-a')) });
    const pa = await eventually('PeerAuthentication created', () => peerAuth('mesh-a'), (p) => p !== undefined, 20_000);
    expect(pa!.spec).toEqual({ mtls: { mode: 'STRICT' } });
    expect(pa!.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'netfence' });
    await eventually('default-deny created', () => kubectl(['get', 'networkpolicy', 'netfence-default-deny', '-n', 'mesh-a']).status, (s) => s === 0);
    const events = await eventually(
      'one Event about the namespace',
      () => json<{ items: Array<Record<string, any>> }>(kubectlOk(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.name=mesh-a', '-o', 'json'])).items,
      (items) => items.length > 0,
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ reason: 'BaselineCreated', involvedObject: { kind: 'Namespace', name: 'mesh-a' }, count: 1 });
    expect(events[0]!.message).toContain('PeerAuthentication default');
    expect(events[0]!.message).toContain('NetworkPolicy netfence-default-deny');
  });

  it('4. deleted: restored', async () => {
    kubectlOk(['delete', `peerauthentications.${GROUP}`, 'default', '-n', 'mesh-a']);
    const pa = await eventually('restored', () => peerAuth('mesh-a'), (p) => p !== undefined, 20_000);
    expect(pa!.spec).toEqual({ mtls: { mode: 'STRICT' } });
    await eventually('restore logged', () => replica!.logs().some((l) => l.event === 'baseline.applied' && l.namespace === 'mesh-a' && l.reason === 'BaselineRestored' && l.kind === 'PeerAuthentication'), (x) => x, 5_000);
  });

  it('5. edited: the field the template sets is restored; a field it does not set is left as the editor wrote it', async () => {
    kubectlOk(['patch', `peerauthentications.${GROUP}`, 'default', '-n', 'mesh-a', '--type=merge', '-p', JSON.stringify({ spec: { mtls: { mode: 'PERMISSIVE' }, selector: { matchLabels: { app: 'legacy' } } } })]);
    const pa = await eventually('mode restored', () => peerAuth('mesh-a'), (p) => p?.spec?.mtls?.mode === 'STRICT', 20_000);
    expect(pa!.spec.selector).toEqual({ matchLabels: { app: 'legacy' } });
    // Restores of one namespace are one Event with a count, not one Event each.
    const restored = json<{ items: Array<Record<string, any>> }>(kubectlOk(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.name=mesh-a,reason=BaselineRestored', '-o', 'json'])).items;
    expect(restored).toHaveLength(1);
    await eventually('count 2', () => json<{ items: Array<Record<string, any>> }>(kubectlOk(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.name=mesh-a,reason=BaselineRestored', '-o', 'json'])).items[0]?.count, (c) => c === 2, 10_000);
  });

  it('6. idle, and a config change that re-examines every namespace: no API request about baseline objects beyond the watches', async () => {
    const counts = () => {
      // The metrics page is larger than kubectl()'s default output buffer.
      const text = spawnSync('kubectl', ['--kubeconfig', cluster().kubeconfig, 'get', '--raw', '/metrics'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout;
      const out: Record<string, number> = {};
      for (const line of text.split('\n')) {
        const m = /^apiserver_request_total\{(.*)\} (\d+)/.exec(line);
        if (!m || !/resource="(networkpolicies|peerauthentications|events)"/.test(m[1]!) || /verb="WATCH"/.test(m[1]!)) continue;
        const key = `${/verb="(\w+)"/.exec(m[1]!)?.[1]} ${/resource="(\w+)"/.exec(m[1]!)?.[1]}`;
        out[key] = (out[key] ?? 0) + Number(m[2]);
      }
      return out;
    };
    const before = counts();
    // A reloaded config queues every namespace: each is compared with the cache, nothing is read or written.
    const file = join(work, 'ok.yaml');
    writeFileSync(`${file}.tmp`, stringify({ ...config([strict]), excludedNamespaces: ['unrelated'] }));
    renameSync(`${file}.tmp`, file);
    await eventually('config reloaded', () => replica!.logs().some((l) => l.event === 'config.reloaded'), (x) => x, 10_000);
    await new Promise((r) => setTimeout(r, 10_000));
    expect(counts()).toEqual(before);
    // One watch of NetworkPolicies (the live view's, which the reconciler reads too) and one of
    // the PeerAuthentications named default (its informer): nothing watched twice.
    const metrics = spawnSync('kubectl', ['--kubeconfig', cluster().kubeconfig, 'get', '--raw', '/metrics'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout;
    const watches: Record<string, number> = {};
    for (const line of metrics.split('\n')) {
      const m = /^apiserver_longrunning_requests\{(.*)\} (\d+)/.exec(line);
      const resource = m && /verb="WATCH"/.test(m[1]!) ? /resource="(\w+)"/.exec(m[1]!)?.[1] : undefined;
      if (resource === 'networkpolicies' || resource === 'peerauthentications') watches[resource] = (watches[resource] ?? 0) + Number(m![2]);
    }
    expect(watches).toEqual({ networkpolicies: 1, peerauthentications: 1 });
  });

  it('7. a burst of 200 new namespaces: each gets its baseline (create-to-baseline figures printed)', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `burst-${i}`);
    const kc = new KubeConfig();
    kc.loadFromFile(cluster().kubeconfig);
    const admin = await KubeClient.fromKubeConfig(kc, { qps: 0 });
    // Created concurrently, as a burst is; each creation time taken when the API server answered.
    const createdAt = new Map<string, number>();
    await Promise.all(names.map(async (n) => {
      await admin.create('/api/v1/namespaces', labelledNamespace(n));
      createdAt.set(n, Date.now());
    }));
    admin.close();
    /** When each namespace's second baseline object was written (from netfence's log, ms). */
    const doneAt = (): Map<string, number> => {
      const times = new Map<string, number[]>();
      for (const l of replica!.logs()) {
        if (l.event !== 'baseline.applied' || !String(l.namespace).startsWith('burst-')) continue;
        const list = times.get(l.namespace as string) ?? [];
        list.push(Date.parse(l.time as string));
        times.set(l.namespace as string, list);
      }
      return new Map([...times].filter(([, t]) => t.length >= 2).map(([n, t]) => [n, Math.max(...t)]));
    };
    // Two baseline objects per namespace (the default-deny and the PeerAuthentication).
    const done = await eventually('every burst namespace has its baseline', doneAt, (m) => m.size === names.length, 60_000);
    for (const n of ['burst-0', 'burst-199']) expect(peerAuth(n)?.spec).toEqual({ mtls: { mode: 'STRICT' } });
    const latencies = names.map((n) => done.get(n)! - createdAt.get(n)!).sort((x, y) => x - y);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)];
    console.log(`burst of ${names.length} namespaces: create -> baseline in place p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${latencies.at(-1)} ms`);
    const events = json<{ items: Array<Record<string, any>> }>(kubectlOk(['get', 'events', '-n', 'default', '-o', 'json'])).items.filter((e) => String(e.involvedObject?.name).startsWith('burst-'));
    console.log(`Events written for the burst: ${events.length} (budget: 25 at once, then 2/s)`);
    expect(events.length).toBeLessThan(names.length);
    expect(replica!.logs().some((l) => l.event === 'baseline.retry' && l.level === 'error')).toBe(false);
  });
});
