import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ManifestObject } from '../../src/cluster/manifests.ts';
import { StaticClusterView } from '../../src/cluster/static.ts';
import type { KubeObject, Protocol } from '../../src/k8s/types.ts';
import { parseIP } from '../../src/netpol/cidr.ts';
import { PolicyIndex } from '../../src/netpol/index.ts';
import type { Endpoint } from '../../src/netpol/reach.ts';

// The upstream e2e model (namespaces x, y, z; pods a, b, c; ports 80/81 on every protocol)
// and the loader of the conformance fixtures in test/fixtures/netpol.

export interface ScenarioPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
}

export interface Scenario {
  name: string;
  source: string;
  file: string;
  namespaces?: Array<{ name: string; labels: Record<string, string> }>;
  pods?: ScenarioPod[];
  policies: Array<{ name: string; namespace: string; spec: unknown }>;
  tables?: Array<{ port: number; protocol: Protocol; start: 'allow' | 'deny'; then?: Array<{ allow?: string; deny?: string }> }>;
  connections?: Array<{ from: string; to: string; port: number; protocol: Protocol; allowed: boolean }>;
}

export const MODEL_NAMESPACES = ['x', 'y', 'z'];
const MODEL_PODS = ['a', 'b', 'c'];

function podManifest(p: ScenarioPod, ip: string): KubeObject {
  const ports = [80, 81].flatMap((port) =>
    (['TCP', 'UDP', 'SCTP'] as const).map((protocol) => ({ name: `serve-${port}-${protocol.toLowerCase()}`, containerPort: port, protocol })),
  );
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: p.namespace, name: p.name, labels: p.labels },
    spec: { containers: [{ name: 'c', image: 'agnhost', ports }] },
    status: { podIP: ip },
  };
}

export function scenarioObjects(s: Scenario): { objects: ManifestObject[]; pods: ScenarioPod[] } {
  const pods: ScenarioPod[] = [];
  for (const ns of MODEL_NAMESPACES) for (const name of MODEL_PODS) pods.push({ namespace: ns, name, labels: { pod: name } });
  pods.push(...(s.pods ?? []));
  const source = { file: s.file, document: 0, path: s.name };
  const objects: KubeObject[] = [
    ...MODEL_NAMESPACES.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ns: name } } })),
    ...(s.namespaces ?? []).map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: n.labels } })),
    ...pods.map((p, i) => podManifest(p, `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`)),
    ...s.policies.map((p) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: p.name, namespace: p.namespace },
      spec: p.spec,
    })),
  ];
  return { objects: objects.map((object) => ({ object, source })), pods };
}

export function buildIndex(s: Scenario): { index: PolicyIndex; view: StaticClusterView; pods: ScenarioPod[] } {
  const { objects, pods } = scenarioObjects(s);
  const view = new StaticClusterView(objects);
  return { index: new PolicyIndex(view), view, pods };
}

export function endpoint(view: StaticClusterView, text: string): Endpoint {
  const ip = parseIP(text);
  if (ip) return { kind: 'address', family: ip.family, value: ip.value, text };
  const [ns, name] = text.split('/');
  const pod = view.pods(ns!).find((p) => p.name === name);
  if (!pod) throw new Error(`no pod ${text}`);
  return { kind: 'pod', pod, namespace: view.namespace(ns!)! };
}

function matchesPattern(pattern: string, pod: ScenarioPod): boolean {
  if (pattern === '*') return true;
  const [ns, name] = pattern.split('/');
  return ns === pod.namespace && (name === '*' || name === pod.name);
}

/** Expands a truth table into expected verdicts for every ordered pair of distinct pods. */
export function expandTable(table: NonNullable<Scenario['tables']>[number], pods: ScenarioPod[]): Array<{ from: ScenarioPod; to: ScenarioPod; allowed: boolean }> {
  const out = [];
  for (const from of pods) {
    for (const to of pods) {
      if (from === to) continue;
      let allowed = table.start === 'allow';
      for (const step of table.then ?? []) {
        const pattern = step.allow ?? step.deny!;
        const [src, dst] = pattern.split('->');
        if (matchesPattern(src!, from) && matchesPattern(dst!, to)) allowed = step.allow !== undefined;
      }
      out.push({ from, to, allowed });
    }
  }
  return out;
}

export function loadScenarios(): Scenario[] {
  const dir = new URL('../fixtures/netpol/', import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) => (parse(readFileSync(new URL(file, dir), 'utf8')) as { scenarios: Scenario[] }).scenarios.map((s) => ({ ...s, file })));
}
