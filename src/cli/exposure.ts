import { PolicyIndex } from '../netpol/index.ts';
import { formatPortSpec } from '../netpol/describe.ts';
import { podExposure, type DirectionExposure, type ExposureRule, type PeerDescription, type PodExposure } from '../netpol/exposure.ts';
import { CompiledSelector } from '../netpol/selector.ts';
import { endpointName, endpointsOf } from './endpoints.ts';
import { loadConfig, parseCommand, type CliIO } from './io.ts';
import { UsageError } from './usage.ts';
import { loadWorld } from './world.ts';

const CLASS_WORDS: Record<string, string> = {
  anywhere: 'anywhere',
  internet: 'the internet',
  allNamespaces: 'all namespaces',
  otherNamespaces: 'other namespaces',
};

function peerText(p: PeerDescription, policyNamespace: string): string {
  if (p.kind === 'ipBlock') return `${p.cidr}${p.except.length ? ` except ${p.except.join(', ')}` : ''}`;
  const pods = p.pods ? `pods ${p.pods}` : 'every pod';
  const tiers = p.tiers.length ? ` (tier ${p.tiers.join(', ')})` : '';
  let where: string;
  if (p.namespaceSelector === undefined) where = `in ${policyNamespace}`;
  else if (p.namespaceSelector === '') where = 'in every namespace';
  else if (/^kubernetes\.io\/metadata\.name=[^,]+$/.test(p.namespaceSelector)) where = `in namespace ${p.namespaceSelector.split('=')[1]}`;
  else where = `in namespaces ${p.namespaceSelector} (${p.namespaces.join(', ') || 'none exist yet'})`;
  return `${pods}${tiers} ${where}`;
}

function ruleText(r: ExposureRule, word: 'from' | 'to', policyNamespace: string): string {
  const classes = r.classes.length ? `[${r.classes.map((c) => CLASS_WORDS[c]).join(', ')}] ` : '';
  const peers = r.allPeers ? `everything (the rule has no ${word})` : r.peers.map((p) => peerText(p, policyNamespace)).join('; ');
  const ports = r.allPorts ? 'every port' : r.ports.map(formatPortSpec).join(', ');
  return `${word} ${classes}${peers} on ${ports} (${r.policy} ${r.path})`;
}

function directionText(d: DirectionExposure, direction: 'ingress' | 'egress', namespace: string): string[] {
  if (!d.isolated) {
    return [`  ${direction}: NOT isolated (no policy selects it for ${direction}): ${direction === 'ingress' ? 'reachable from anywhere' : 'can reach anything'}, on every port`];
  }
  const lines = [`  ${direction}: isolated by ${d.policies.join(', ')}`];
  const word = direction === 'ingress' ? 'from' : 'to';
  for (const r of d.rules) lines.push(`    ${ruleText(r, word, namespace)}`);
  for (const x of d.inert) lines.push(`    (${x.policy} ${x.path} admits nothing here: it ${x.reason})`);
  if (d.rules.length === 0) lines.push(`    no rule lets anything ${direction === 'ingress' ? 'in' : 'out'}`);
  return lines;
}

/** `netfence exposure`: who can reach each workload and pod, and what it can reach. Exit 0, or 2 on bad input. */
export async function exposure(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(
    args,
    { namespace: { type: 'string', short: 'n' }, tier: { type: 'string' }, config: { type: 'string' } },
    ['text', 'json'] as const,
  );
  const values = parsed.values as Record<string, string | undefined>;
  const { config } = await loadConfig(values.config);
  let tier: CompiledSelector | undefined;
  if (values.tier !== undefined) {
    const selector = config.tiers[values.tier];
    if (!selector) throw new UsageError(`--tier ${values.tier}: not a tier of the config (tiers: ${Object.keys(config.tiers).join(', ') || 'none'})`);
    tier = new CompiledSelector(selector);
  }
  const { view } = await loadWorld(parsed);
  const index = new PolicyIndex(view);
  const namespaces = values.namespace ? [values.namespace] : view.namespaces().map((n) => n.name).sort();
  const endpoints = namespaces
    .flatMap((ns) => endpointsOf(view, ns, true))
    .filter((w) => !tier || tier.matches(w.pod.labels))
    .map((w) => ({ w, name: endpointName(w) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const report: Array<PodExposure & { kind: string; namespace: string }> = endpoints.map(({ w, name }) => ({
    kind: w.kind,
    namespace: w.namespace,
    ...podExposure(index, w.pod, name, config.tiers),
  }));
  const notIsolated = {
    ingress: report.filter((r) => !r.ingress.isolated).map((r) => r.name),
    egress: report.filter((r) => !r.egress.isolated).map((r) => r.name),
  };
  if (parsed.output === 'json') {
    io.out(JSON.stringify({ endpoints: report, notIsolated }, null, 2));
    return 0;
  }
  if (report.length === 0) {
    io.out(`no pods or workloads${values.namespace ? ` in namespace ${values.namespace}` : ''}${tier ? ` of tier ${values.tier}` : ''}: nothing to report`);
    return 0;
  }
  for (const r of report) {
    io.out(r.name);
    for (const line of directionText(r.ingress, 'ingress', r.namespace)) io.out(line);
    for (const line of directionText(r.egress, 'egress', r.namespace)) io.out(line);
  }
  io.out('');
  io.out(notIsolated.ingress.length ? `not isolated for ingress: ${notIsolated.ingress.join(', ')}` : `all ${report.length} listed are isolated for ingress`);
  io.out(notIsolated.egress.length ? `not isolated for egress: ${notIsolated.egress.join(', ')}` : `all ${report.length} listed are isolated for egress`);
  return 0;
}
