import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { review } from '../helpers/server.ts';
import type { Replica } from './helpers.ts';

// What the live-cache scenarios share: namespaces whose verdicts depend on fields of their
// NetworkPolicies, and netfence's verdicts and metrics read from a replica.

/** The baseline label: only adopted namespaces are enforced (src/rules/scope.ts). */
export const ADOPTED = { 'netfence.io/baseline': 'enabled' };

export function np(ns: string, name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec };
}

/** A namespace whose data pods are reachable only from logic pods, from no IP, and reach only 10.0.0.0/8. */
export function fencedNamespace(ns: string): string {
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: ADOPTED } },
    np(ns, 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    // from: without it, the rule admits every source.
    np(ns, 'data-from-logic', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'logic' } } }], ports: [{ protocol: 'TCP', port: 6379 }] }] }),
    // except: without it, 0.0.0.0/0 is anywhere.
    np(ns, 'data-from-no-ip', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['0.0.0.0/1', '128.0.0.0/1'] } }] }] }),
    // to: without it, the rule reaches every destination, the internet included.
    np(ns, 'data-to-private', { podSelector: { matchLabels: { tier: 'data' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP', port: 5000, endPort: 5100 }] }] }),
  ];
  return objects.map((o) => stringify(o)).join('---\n');
}

/** The replica's verdict on a pod with these labels in the namespace (posted to it directly). */
export async function podVerdict(replica: Replica, ns: string, labels: Record<string, string>): Promise<{ allowed: boolean; message: string }> {
  const { Agent, request } = await import('undici');
  const dispatcher = new Agent({ connect: { ca: readFileSync(join(replica.certDir, 'ca.crt')) } });
  try {
    const body = review({ namespace: ns, name: 'db', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db', namespace: ns, labels }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    const res = await request(`https://127.0.0.1:${replica.port}/validate`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const out = (await res.body.json()) as { response: { allowed: boolean; status?: { message?: string } } };
    return { allowed: out.response.allowed, message: out.response.status?.message ?? '' };
  } finally {
    await dispatcher.close();
  }
}

/** The samples of a metric on the replica's /metrics, with their labels as written there. */
export async function metric(replica: Replica, name: string): Promise<Array<{ labels: string; value: number }>> {
  const text = (await replica.get('/metrics')).text;
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .map((l) => {
      const m = /^[^{ ]+(\{[^}]*\})?\s+(\S+)$/.exec(l);
      return { labels: m?.[1] ?? '', value: Number(m?.[2]) };
    });
}
