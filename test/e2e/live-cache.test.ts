import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort, startControlPlane, type ControlPlane } from './cluster/control-plane.ts';
import { eventually, Replica } from './helpers.ts';
import { ADOPTED, fencedNamespace, metric as metricOf, np, podVerdict as verdictOf } from './live-helpers.ts';
import { spawnSync } from 'node:child_process';
import { REPO } from '../helpers/cli.ts';

// The live cache against a real kube-apiserver: decisions that depend on from, to, except and
// endPort of NetworkPolicies the cache got from a LIST (present before netfence starts) and from a
// watch (created after), and watches across an API server restart (its watch cache answers the
// old resourceVersion 410: a relist that announces nothing unchanged; resumption without a relist
// is watch-resume.test.ts).
// Reviews are posted to netfence directly: what is under test is its cache, not the webhook
// registration.

let plane: ControlPlane;
let netfence: Replica;
const work = mkdtempSync(join(tmpdir(), 'netfence-e2e-live-'));

function kubectl(args: string[], input = ''): string {
  const r = spawnSync('kubectl', ['--kubeconfig', plane.kubeconfig, ...args], { cwd: REPO, encoding: 'utf8', input, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * A namespace whose only question is endPort: default-deny, plus a policy selecting every pod
 * that admits every source on TCP 1..endPort. Up to 65535 that is every port, so the namespace
 * is no longer default-deny (requireDefaultDeny refuses its pods); up to 65534 it still is.
 */
function portsNamespace(ns: string, endPort: number): string {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: ADOPTED } },
    np(ns, 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    np(ns, 'open-ports', { podSelector: {}, ingress: [{ ports: [{ protocol: 'TCP', port: 1, endPort }] }] }),
  ]
    .map((o) => stringify(o))
    .join('---\n');
}

/** netfence's verdict on a data pod in the namespace. */
const dataPodVerdict = (ns: string): Promise<{ allowed: boolean; message: string }> => podVerdict(ns, { tier: 'data' });

/** netfence's verdict on a pod with these labels in the namespace. */
const podVerdict = (ns: string, labels: Record<string, string>): Promise<{ allowed: boolean; message: string }> => verdictOf(netfence, ns, labels);

const metric = (name: string): Promise<Array<{ labels: string; value: number }>> => metricOf(netfence, name);

const listed = (): Array<Record<string, unknown>> => netfence.logs().filter((l) => l.event === 'cluster.listed');

beforeAll(async () => {
  plane = await startControlPlane(inject('e2eBin'));
  kubectl(['create', 'namespace', 'netfence-system']);
  // Present before netfence starts: loaded by the LIST.
  kubectl(['apply', '-f', '-'], fencedNamespace('listed'));
  kubectl(['apply', '-f', '-'], portsNamespace('ports-listed', 65534));
  kubectl(['apply', '-f', '-'], portsNamespace('ports-open-listed', 65535));
  // The control: a data pod open to every namespace is refused, so the verdicts below bite.
  kubectl(['apply', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'open', labels: ADOPTED } }));
  kubectl(['apply', '-f', '-'], stringify(np('open', 'data-from-everywhere', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] })));
  const config = join(work, 'config.yaml');
  writeFileSync(config, readFileSync(join(REPO, 'deploy/config.yaml')));
  netfence = new Replica('netfence', await freePort(), join(work, 'certs'), work);
  await netfence.start(plane.kubeconfig, config);
  await eventually('netfence ready (caches synced)', () => netfence.get('/readyz'), (r) => r.status === 200, 30_000);
}, 240_000);

afterAll(async () => {
  await netfence?.stop();
  await plane?.stop();
});

describe('live cache against a real kube-apiserver', () => {
  it('policies loaded by LIST keep from, to and except: a fenced data pod is allowed, an open one refused', async () => {
    expect(listed().map((l) => l.resource).sort()).toEqual(['cronjobs', 'daemonsets', 'deployments', 'jobs', 'namespaces', 'networkpolicies', 'pods', 'replicasets', 'statefulsets']);
    expect(await dataPodVerdict('listed')).toEqual({ allowed: true, message: '' });
    const open = await dataPodVerdict('open');
    expect(open.allowed).toBe(false);
    expect(open.message).toContain('[data-no-ingress-from-anywhere]');
  });

  it('policies that arrive by watch keep from, to and except too', async () => {
    kubectl(['apply', '-f', '-'], fencedNamespace('watched'));
    // Until every policy has arrived the pod is refused; then allowed, and it stays allowed.
    await eventually('data pod in watched allowed', () => dataPodVerdict('watched'), (v) => v.allowed, 15_000);
    expect(await dataPodVerdict('listed')).toMatchObject({ allowed: true });
    // Dropping except opens data pods to every address: refused.
    kubectl(['apply', '-f', '-'], stringify(np('watched', 'data-from-no-ip', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })));
    await eventually('data pod in watched refused without except', () => dataPodVerdict('watched'), (v) => !v.allowed, 15_000);
    expect((await dataPodVerdict('watched')).message).toContain('[data-no-ingress-from-anywhere]');
  });

  it('endPort of policies loaded by LIST and by watch decides default-deny', async () => {
    const web = { app: 'web' };
    // By LIST: TCP 1-65534 leaves the namespace default-deny; 1-65535 is every port.
    expect(await podVerdict('ports-listed', web)).toEqual({ allowed: true, message: '' });
    const open = await podVerdict('ports-open-listed', web);
    expect(open.allowed).toBe(false);
    expect(open.message).toContain('[require-default-deny]');
    // By watch: the same namespace, then endPort moved up by one, then back.
    kubectl(['apply', '-f', '-'], portsNamespace('ports-watched', 65534));
    await eventually('pod in ports-watched allowed', () => podVerdict('ports-watched', web), (v) => v.allowed, 15_000);
    kubectl(['apply', '-f', '-'], portsNamespace('ports-watched', 65535));
    await eventually('pod in ports-watched refused at endPort 65535', () => podVerdict('ports-watched', web), (v) => !v.allowed, 15_000);
    expect((await podVerdict('ports-watched', web)).message).toContain('[require-default-deny]');
    kubectl(['apply', '-f', '-'], portsNamespace('ports-watched', 65534));
    await eventually('pod in ports-watched allowed again', () => podVerdict('ports-watched', web), (v) => v.allowed, 15_000);
  });

  it('watches resume across an API server restart; a relist (only on 410) announces nothing that did not change', async () => {
    const before = listed().length;
    await plane.restartApiServer();
    // Changes after the restart arrive through the resumed watches.
    kubectl(['apply', '-f', '-'], fencedNamespace('after-restart'));
    await eventually('data pod in after-restart allowed', () => dataPodVerdict('after-restart'), (v) => v.allowed, 60_000);
    await eventually('netfence ready again', () => netfence.get('/readyz'), (r) => r.status === 200, 30_000);
    expect(await dataPodVerdict('listed')).toMatchObject({ allowed: true });
    const restarts = netfence.logs().filter((l) => l.event === 'cluster.watch_restart');
    expect(restarts.length).toBeGreaterThan(0);
    // A watch that failed or was closed resumes from its resourceVersion; only the API server's
    // 410 (its new watch cache starts at the current etcd revision, past ours when anything was
    // written since our last bookmark) makes netfence list again.
    expect(restarts.filter((l) => l.relist === true).every((l) => l.reason === 'expired')).toBe(true);
    const relists = listed().slice(before);
    expect(relists.length).toBeLessThanOrEqual(9); // at most one per watched resource
    // Diffed by resourceVersion: at most the objects created after the restart are new.
    for (const l of relists) {
      expect(l.removed).toBe(0);
      expect(l.changed as number).toBeLessThanOrEqual(l.resource === 'networkpolicies' ? 4 : l.resource === 'namespaces' ? 1 : 0);
    }
    // One keep-alive pool: a handful of connections, not one per request.
    const [connections] = await metric('netfence_kube_api_connections_opened_total');
    const requests = (await metric('netfence_kube_api_requests_total')).reduce((n, r) => n + r.value, 0);
    expect(connections!.value).toBeLessThan(requests);
  });
});
