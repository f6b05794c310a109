import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { REPO } from '../helpers/cli.ts';
import { freePort, startControlPlane, type ControlPlane } from './cluster/control-plane.ts';
import { eventually, Replica } from './helpers.ts';
import { fencedNamespace, metric, np, podVerdict } from './live-helpers.ts';

// Watch resumption across a kube-apiserver restart when the resourceVersion is still valid.
// With its watch cache on (the default, live-cache.test.ts), a restarted API server answers any
// resourceVersion older than its new cache 410, so netfence must list again. Here the API server
// serves watches from etcd (--watch-cache=false), and etcd keeps every revision until it is
// compacted (--etcd-compaction-interval=0: never, for the file's lifetime): the resourceVersion
// netfence holds stays valid across the restart, and netfence must resume every watch from it,
// list nothing, and not sit out a long backoff once the API server is back.

const RESOURCES = ['cronjobs', 'daemonsets', 'deployments', 'jobs', 'namespaces', 'networkpolicies', 'pods', 'replicasets', 'statefulsets'];
/** Watches resumed within this long of the API server being ready again: no long blind backoff. */
const RESUMED_WITHIN_MS = 5_000;
/** How long kube-apiserver stays down: a restart is seldom instant (cache start, an upgrade). */
const DOWN_MS = 20_000;

let plane: ControlPlane;
let netfence: Replica;
const work = mkdtempSync(join(tmpdir(), 'netfence-e2e-resume-'));

function kubectl(args: string[], input = ''): string {
  const r = spawnSync('kubectl', ['--kubeconfig', plane.kubeconfig, ...args], { cwd: REPO, encoding: 'utf8', input, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const dataPodVerdict = (ns: string): Promise<{ allowed: boolean; message: string }> => podVerdict(netfence, ns, { tier: 'data' });
const timeOf = (line: Record<string, unknown>): number => Date.parse(line.time as string);

beforeAll(async () => {
  plane = await startControlPlane(inject('e2eBin'), { apiServerArgs: ['--watch-cache=false', '--etcd-compaction-interval=0'] });
  kubectl(['create', 'namespace', 'netfence-system']);
  kubectl(['apply', '-f', '-'], fencedNamespace('before'));
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

describe('watches served from etcd, across a kube-apiserver restart', () => {
  it('resume from their resourceVersion with no list and no long backoff; changes made after the restart reach the verdicts', async () => {
    const lines = (): Array<Record<string, unknown>> => netfence.logs();
    expect(lines().filter((l) => l.event === 'cluster.listed').map((l) => l.resource).sort()).toEqual(RESOURCES);
    expect(await dataPodVerdict('before')).toEqual({ allowed: true, message: '' });

    const mark = lines().length;
    const down = Date.now();
    // Down long enough for a doubling backoff to grow past several seconds.
    await plane.restartApiServer({ downMs: DOWN_MS });
    const ready = Date.now();

    // Made after the restart, so they reach netfence only through the resumed watches. The
    // verdict depends on `from`: logic pods only, allowed; then every namespace, refused.
    kubectl(['apply', '-f', '-'], fencedNamespace('after-restart'));
    await eventually('data pod in after-restart allowed', () => dataPodVerdict('after-restart'), (v) => v.allowed, 60_000);
    kubectl(['apply', '-f', '-'], stringify(np('after-restart', 'data-from-logic', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] })));
    await eventually('data pod in after-restart refused once from admits every namespace', () => dataPodVerdict('after-restart'), (v) => !v.allowed, 30_000);
    expect((await dataPodVerdict('after-restart')).message).toContain('[data-no-ingress-from-anywhere]');
    expect(await dataPodVerdict('before')).toEqual({ allowed: true, message: '' });

    const after = lines().slice(mark);
    // Nothing listed again, by the view or the reconciler's informers: no 410 at all.
    expect(after.filter((l) => l.event === 'cluster.listed' || l.event === 'cluster.watch_expired' || l.event === 'baseline.watch_expired')).toEqual([]);
    const restarts = after.filter((l) => l.event === 'cluster.watch_restart');
    expect([...new Set(restarts.map((l) => l.resource))].sort()).toEqual(RESOURCES);
    for (const l of restarts) expect(l).toMatchObject({ relist: false, reason: expect.stringMatching(/^(error|closed)$/) });
    for (const resource of RESOURCES) {
      const held = restarts.filter((l) => l.resource === resource).map((l) => l.resourceVersion);
      // The version the watch had when the API server went away, kept through every retry…
      expect(held[0]).toMatch(/^\d+$/);
      expect(new Set(held)).toEqual(new Set([held[0]]));
      // …is the one the next accepted watch started from, with no list in between, soon after
      // the API server was ready again (netfence's own clock: its log times).
      const resumed = after.find((l) => l.event === 'cluster.watch_resumed' && l.resource === resource);
      expect(resumed, `${resource} watch resumed`).toMatchObject({ resourceVersion: held[0], lists: 0 });
      expect(timeOf(resumed!)).toBeGreaterThan(down);
      expect(timeOf(resumed!) - ready, `${resource} resumed ${timeOf(resumed!) - ready} ms after the API server was ready`).toBeLessThan(RESUMED_WITHIN_MS);
    }
    const counted = await metric(netfence, 'netfence_cluster_watch_restarts_total');
    expect(counted.filter((m) => m.labels.includes('reason="expired"') && m.value > 0)).toEqual([]);
  });
});
