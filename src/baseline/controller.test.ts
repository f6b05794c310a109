import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { builtInConfig } from '../config/load.ts';
import { ConfigStore } from '../config/store.ts';
import { bareNamespace } from '../k8s/objects.ts';
import type { KubeObject, NamespaceInfo, NetworkPolicy } from '../k8s/types.ts';
import { createLogger } from '../log.ts';
import { BaselineController } from './controller.ts';
import type { BaselineApi } from './kube-api.ts';

// Unit tests with an in-process fake API; the end-to-end suite runs the same controller
// against a real kube-apiserver.

class FakeApi implements BaselineApi {
  policies = new Map<string, NetworkPolicy>();
  events: KubeObject[] = [];
  failNextCreate = 0;
  async getPolicy(ns: string, name: string) {
    const p = this.policies.get(`${ns}/${name}`);
    return p && structuredClone(p);
  }
  async createPolicy(p: NetworkPolicy) {
    if (this.failNextCreate > 0) {
      this.failNextCreate--;
      throw Object.assign(new Error('conflict'), { code: 409 });
    }
    this.policies.set(`${p.metadata.namespace}/${p.metadata.name}`, structuredClone(p));
  }
  async replacePolicy(p: NetworkPolicy) {
    this.policies.set(`${p.metadata.namespace}/${p.metadata.name}`, structuredClone(p));
  }
  async createEvent(e: KubeObject) {
    this.events.push(e);
  }
}

class FakeView extends EventEmitter<{ namespace: [string]; networkpolicy: [string, string] }> {
  all = new Map<string, NamespaceInfo>();
  namespace(name: string) {
    return this.all.get(name);
  }
  namespaces() {
    return [...this.all.values()];
  }
  add(ns: NamespaceInfo) {
    this.all.set(ns.name, ns);
    this.emit('namespace', ns.name);
  }
}

class LeaderStub extends EventEmitter<{ started: []; stopped: [] }> {
  leading: boolean;
  constructor(leading: boolean) {
    super();
    this.leading = leading;
  }
  isLeader(): boolean {
    return this.leading;
  }
}

const labelled = (name: string): NamespaceInfo => ({ ...bareNamespace(name), labels: { ...bareNamespace(name).labels, 'netfence.io/baseline': 'enabled' } });
const settle = () => new Promise((r) => setTimeout(r, 30));

function setup(leading = true) {
  const api = new FakeApi();
  const view = new FakeView();
  const leader = new LeaderStub(leading);
  const controller = new BaselineController({
    api,
    view,
    config: new ConfigStore(builtInConfig()),
    leader,
    logger: createLogger({ level: 'silent' }),
    netfenceNamespace: 'netfence-system',
    identity: 'test',
    minBackoffMs: 5,
  });
  controller.start();
  return { api, view, leader, controller };
}

describe('BaselineController', () => {
  it('creates the baseline in a labelled namespace, with managed-by labels and an Event', async () => {
    const { api, view, controller } = setup();
    view.add(labelled('team-a'));
    await settle();
    expect([...api.policies.keys()].sort()).toEqual(['team-a/netfence-allow-dns', 'team-a/netfence-default-deny']);
    expect(api.policies.get('team-a/netfence-default-deny')?.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'netfence' });
    expect(api.events.map((e) => `${e.metadata?.namespace} ${(e as { involvedObject?: { name: string } }).involvedObject?.name} ${(e as { reason?: string }).reason}`)).toEqual([
      'default team-a BaselineCreated',
      'default team-a BaselineCreated',
    ]);
    controller.stop();
  });

  it('leaves unlabelled, excluded and its own namespaces alone', async () => {
    const { api, view, controller } = setup();
    view.add(bareNamespace('plain'));
    view.add(labelled('kube-system'));
    view.add(labelled('netfence-system'));
    await settle();
    expect(api.policies.size).toBe(0);
    controller.stop();
  });

  it('restores an edited policy when its event arrives', async () => {
    const { api, view, controller } = setup();
    view.add(labelled('team-b'));
    await settle();
    api.policies.get('team-b/netfence-default-deny')!.spec = { podSelector: { matchLabels: { x: 'y' } } };
    view.emit('networkpolicy', 'team-b', 'netfence-default-deny');
    await settle();
    expect(api.policies.get('team-b/netfence-default-deny')?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(api.events.filter((e) => (e as { reason?: string }).reason === 'BaselineRestored')).toHaveLength(1);
    controller.stop();
  });

  it('a deleted baseline policy is recreated and reported as restored', async () => {
    const { api, view, controller } = setup();
    view.add(labelled('team-e'));
    await settle();
    view.emit('networkpolicy', 'team-e', 'netfence-allow-dns'); // seen in place
    await settle();
    api.policies.delete('team-e/netfence-allow-dns');
    view.emit('networkpolicy', 'team-e', 'netfence-allow-dns');
    await settle();
    expect(api.policies.has('team-e/netfence-allow-dns')).toBe(true);
    expect(api.events.map((e) => (e as { message?: string }).message)).toContain('netfence restored baseline NetworkPolicy netfence-allow-dns (it had been deleted)');
    controller.stop();
  });

  it('retries with backoff after a conflict, losing nothing', async () => {
    const { api, view, controller } = setup();
    api.failNextCreate = 2;
    view.add(labelled('team-c'));
    await settle();
    await settle();
    expect(api.policies.has('team-c/netfence-default-deny')).toBe(true);
    expect(api.policies.has('team-c/netfence-allow-dns')).toBe(true);
    controller.stop();
  });

  it('does nothing unless it leads, and catches up when it becomes the leader', async () => {
    const { api, view, leader, controller } = setup(false);
    view.add(labelled('team-d'));
    await settle();
    expect(api.policies.size).toBe(0);
    leader.leading = true;
    leader.emit('started');
    await settle();
    expect(api.policies.size).toBe(2);
    controller.stop();
  });
});
