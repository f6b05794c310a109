import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { Reflector } from './reflector.ts';

function unreachableCluster(): KubeConfig {
  const kc = new KubeConfig();
  // Port 1 on loopback: the watch is refused at once.
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('Reflector', () => {
  it('keeps retrying when the API server goes away, and its staleness keeps growing', async () => {
    let lists = 0;
    const restarts: string[] = [];
    const reflector = new Reflector(unreachableCluster(), createLogger({ level: 'silent' }), {
      resource: 'pods',
      watchPath: '/api/v1/pods',
      // The first list succeeds; then the API server is gone.
      list: async () => {
        lists++;
        if (lists > 1) throw new Error('connection refused');
        return { items: [], resourceVersion: '1' };
      },
      replace: () => undefined,
      upsert: () => undefined,
      remove: () => undefined,
      minBackoffMs: 10,
      maxBackoffMs: 20,
      onRestart: (reason) => restarts.push(reason),
    });
    reflector.start();
    for (let i = 0; i < 100 && lists < 3; i++) await new Promise((r) => setTimeout(r, 20));
    const heard = reflector.lastContact;
    await new Promise((r) => setTimeout(r, 200));
    reflector.stop();
    expect(reflector.synced).toBe(true);
    expect(lists).toBeGreaterThanOrEqual(3);
    expect(restarts.every((r) => r === 'error')).toBe(true);
    // Failed attempts are not contact: the last contact is still the first list.
    expect(heard).toBeGreaterThan(0);
    expect(reflector.lastContact).toBe(heard);
  });
});
