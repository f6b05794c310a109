import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/default.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { KubeClient } from '../kube/client.ts';
import { FakeApiServer, json, status } from '../../test/helpers/fake-api-server.ts';
import { createLogger } from '../log.ts';
import { BaselineCaches } from './caches.ts';
import { baselineTemplates } from './plan.ts';

const config: NetfenceConfig = {
  ...defaultConfig(),
  baseline: { ...defaultConfig().baseline, objects: [{ apiVersion: 'x.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: {} }] },
};
const templates = baselineTemplates(config);
const until = async (what: string, ok: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

let server: FakeApiServer | undefined;
let caches: BaselineCaches | undefined;
afterEach(async () => {
  caches?.stop();
  await server?.close();
});

describe('BaselineCaches', () => {
  it('resolves each kind, follows each template with its own informer, and retries discovery that failed', async () => {
    let discoveryUp = false;
    server = new FakeApiServer((req, _body, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/apis/networking.k8s.io/v1') return json(res, 200, { resources: [{ name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true }] });
      if (url.pathname === '/apis/x.io/v1') {
        if (!discoveryUp) return status(res, 503, 'ServiceUnavailable', 'try later');
        return json(res, 200, { resources: [{ name: 'peerauthentications', kind: 'PeerAuthentication', namespaced: true }] });
      }
      if (url.pathname.endsWith('selfsubjectaccessreviews')) return json(res, 201, { status: { allowed: true } });
      if (url.searchParams.has('watch')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.write('');
      }
      const name = url.searchParams.get('fieldSelector')!.split('=')[1]!;
      const kind = url.pathname.endsWith('networkpolicies') ? 'NetworkPolicy' : 'PeerAuthentication';
      json(res, 200, { items: [{ kind, metadata: { name, namespace: 'team-a', resourceVersion: '3' }, spec: {} }], metadata: { resourceVersion: '9' } });
    });
    const client = await KubeClient.fromKubeConfig(FakeApiServer.kubeConfig(await server.listen()), { qps: 0 });
    caches = new BaselineCaches(client, createLogger({ level: 'silent' }));
    caches.retryMs = 20;
    let syncs = 0;
    caches.onSynced = () => void syncs++;
    await caches.follow(templates);
    const [deny, dns, pa] = templates;
    expect(caches.kind(deny!)).toEqual({ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', resource: 'networkpolicies' });
    expect(caches.kind(pa!)).toBeUndefined();
    await until('policies synced', () => caches!.synced() && caches!.get(dns!, 'team-a') !== undefined);
    expect(caches.get(deny!, 'team-a')?.metadata?.name).toBe('netfence-default-deny');
    discoveryUp = true;
    await until('the PeerAuthentication followed after the retry', () => caches!.kind(pa!) !== undefined && caches!.synced() && caches!.get(pa!, 'team-a') !== undefined);
    expect(syncs).toBeGreaterThanOrEqual(3);
    // A template dropped from the config is no longer followed.
    await caches.follow(templates.slice(0, 1));
    expect(caches.kind(pa!)).toBeUndefined();
    expect(caches.size()).toBe(1);
    client.close();
  });
});
