import { loadClusterInput } from '../cluster/input.ts';
import { StaticClusterView } from '../cluster/static.ts';
import type { WorkloadInfo } from '../cluster/workloads.ts';
import type { PodInfo, PolicyType } from '../k8s/types.ts';
import { podImpact, type AdmittedChange } from '../netpol/impact.ts';
import { PolicyIndex } from '../netpol/index.ts';
import { evaluateConnection } from '../netpol/reach.ts';
import { endpointName, endpointsOf } from './endpoints.ts';
import { loadConfig, type CliIO } from './io.ts';
import { UsageError } from './usage.ts';
import { loadWorld } from './world.ts';
import { parseArgs } from 'node:util';

/** Connections are tested between every pair of pods and workloads up to this many endpoints. */
const MAX_PAIR_ENDPOINTS = 300;

interface DirectionChange {
  opened: AdmittedChange[];
  closed: AdmittedChange[];
}

interface SubjectChange {
  /** `shop/deployment/api`, or `tier data in shop`. */
  name: string;
  ingress: DirectionChange;
  egress: DirectionChange;
}

export interface DiffReport {
  endpoints: SubjectChange[];
  tiers: SubjectChange[];
  connections: { opened: string[]; closed: string[]; skipped?: string };
  opens: boolean;
}

function changeOf(before: PolicyIndex, after: PolicyIndex, pod: PodInfo, name: string, resolveNamedPorts = true): SubjectChange | undefined {
  const d = (direction: PolicyType): DirectionChange => podImpact(before, after, pod, direction, resolveNamedPorts);
  const change = { name, ingress: d('Ingress'), egress: d('Egress') };
  const empty = (x: DirectionChange): boolean => x.opened.length === 0 && x.closed.length === 0;
  return empty(change.ingress) && empty(change.egress) ? undefined : change;
}

/** Pods and workloads of both sides, by name; the after side's version wins (its labels and ports). */
function allEndpoints(before: StaticClusterView, after: StaticClusterView): WorkloadInfo[] {
  const byName = new Map<string, WorkloadInfo>();
  for (const view of [before, after]) for (const ns of view.namespaces()) for (const w of endpointsOf(view, ns.name, true)) byName.set(endpointName(w), w);
  return [...byName.values()].sort((a, b) => endpointName(a).localeCompare(endpointName(b)));
}

/**
 * The change between two sets of manifests, per workload (and pod), per tier (a pod with the
 * tier's labels in each namespace, so that tiers without workloads in the files count too),
 * and per connection between the endpoints on the ports the destination declares.
 */
export function diffWorlds(before: StaticClusterView, after: StaticClusterView, tiers: Readonly<Record<string, { matchLabels?: Record<string, string>; matchExpressions?: unknown[] }>>): DiffReport {
  const b = new PolicyIndex(before);
  const a = new PolicyIndex(after);
  const endpoints = allEndpoints(before, after);
  const endpointChanges = endpoints.map((w) => changeOf(b, a, w.pod, endpointName(w))).filter((c) => c !== undefined);
  const namespaces = [...new Set([...before.namespaces(), ...after.namespaces()].map((n) => n.name))].sort();
  const tierChanges: SubjectChange[] = [];
  for (const [tier, selector] of Object.entries(tiers)) {
    // A tier pod: the tier's matchLabels (a tier given by expressions only has no one pod that stands for it).
    if (!selector.matchLabels || Object.keys(selector.matchLabels).length === 0) continue;
    for (const namespace of namespaces) {
      const pod: PodInfo = { namespace, name: `(a pod of tier ${tier})`, labels: selector.matchLabels, ports: [], ips: [] };
      const c = changeOf(b, a, pod, `tier ${tier} in ${namespace}`, false);
      if (c) tierChanges.push(c);
    }
  }
  const connections: DiffReport['connections'] = { opened: [], closed: [] };
  if (endpoints.length > MAX_PAIR_ENDPOINTS) {
    connections.skipped = `${endpoints.length} pods and workloads: connections between them are not listed above ${MAX_PAIR_ENDPOINTS}`;
  } else {
    for (const from of endpoints) {
      for (const to of endpoints) {
        if (from === to) continue;
        const ns = (v: StaticClusterView, w: WorkloadInfo) => v.namespace(w.namespace) ?? { name: w.namespace, labels: { 'kubernetes.io/metadata.name': w.namespace }, annotations: {} };
        for (const port of to.pod.ports) {
          const conn = (v: StaticClusterView, idx: PolicyIndex): boolean =>
            evaluateConnection(idx, {
              from: { kind: 'pod', pod: from.pod, namespace: ns(v, from) },
              to: { kind: 'pod', pod: to.pod, namespace: ns(v, to) },
              port: port.containerPort,
              protocol: port.protocol,
            }).allowed;
          const was = conn(before, b);
          const is = conn(after, a);
          if (was === is) continue;
          const text = `${endpointName(from)} -> ${endpointName(to)} ${port.protocol}/${port.containerPort}${port.name ? ` (${port.name})` : ''}`;
          (is ? connections.opened : connections.closed).push(text);
        }
      }
    }
  }
  const opens =
    connections.opened.length > 0 || [...endpointChanges, ...tierChanges].some((c) => c.ingress.opened.length > 0 || c.egress.opened.length > 0);
  return { endpoints: endpointChanges, tiers: tierChanges, connections, opens };
}

function textOf(report: DiffReport): string[] {
  const lines: string[] = [];
  const list = (xs: AdmittedChange[]): string => xs.map((x) => `${x.peer} on ${x.ports.join(', ')}`).join('; ');
  for (const c of [...report.endpoints, ...report.tiers]) {
    lines.push(c.name);
    for (const [dir, d] of [['ingress', c.ingress], ['egress', c.egress]] as const) {
      const word = dir === 'ingress' ? 'from' : 'to';
      if (d.opened.length) lines.push(`  ${dir} newly admits (${word}): ${list(d.opened)}`);
      if (d.closed.length) lines.push(`  ${dir} no longer admits (${word}): ${list(d.closed)}`);
    }
  }
  if (report.connections.opened.length) lines.push('connections newly allowed:', ...report.connections.opened.map((c) => `  ${c}`));
  if (report.connections.closed.length) lines.push('connections no longer allowed:', ...report.connections.closed.map((c) => `  ${c}`));
  if (report.connections.skipped) lines.push(`(${report.connections.skipped})`);
  lines.push(report.opens ? 'the change opens something (exit 1)' : lines.length ? 'the change opens nothing; it only closes' : 'no change in what the NetworkPolicies admit');
  return lines;
}

/** `netfence diff --before F... --after F...`: exit 0 nothing opened, 1 something opened, 2 bad input. */
export async function diff(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      before: { type: 'string', multiple: true },
      after: { type: 'string', multiple: true },
      config: { type: 'string' },
      output: { type: 'string', short: 'o', default: 'text' },
      kubeconfig: { type: 'string' },
      live: { type: 'boolean' },
    },
  });
  const cluster = values.kubeconfig ?? (values.live ? '' : undefined);
  if (cluster !== undefined && values.before?.length) throw new UsageError('--before, or a cluster as the before (--kubeconfig F / --live): not both');
  if ((!values.before?.length && cluster === undefined) || !values.after?.length) {
    throw new UsageError('--before and --after: give the manifests before and after the change (files or folders, each repeatable), or --kubeconfig F as the before');
  }
  if (values.output !== 'text' && values.output !== 'json') throw new UsageError(`-o ${values.output}: use text, json`);
  const { config } = await loadConfig(values.config);
  let before: StaticClusterView;
  let after: StaticClusterView;
  if (cluster === undefined) {
    before = loadClusterInput(values.before!).view;
    after = loadClusterInput(values.after).view;
  } else {
    // The live cluster is the before; the after is the cluster with the files applied.
    const world = await loadWorld({ files: values.after, output: 'text', values: {}, kubeconfig: cluster });
    before = new StaticClusterView(world.live, world.origin);
    after = world.view;
  }
  const report = diffWorlds(before, after, config.tiers);
  if (values.output === 'json') io.out(JSON.stringify(report, null, 2));
  else for (const line of textOf(report)) io.out(line);
  return report.opens ? 1 : 0;
}
