import { loadClusterInput } from '../cluster/input.ts';
import { builtInConfig, loadConfigFile } from '../config/load.ts';
import { PolicyIndex } from '../netpol/index.ts';
import { podExposure, type PodExposure } from '../netpol/exposure.ts';
import { CompiledSelector } from '../netpol/selector.ts';
import { parseManifestCommand, type CliIO } from './io.ts';
import { UsageError } from './usage.ts';

const CLASS_WORDS: Record<string, string> = {
  anywhere: 'anywhere',
  internet: 'the internet',
  allNamespaces: 'all namespaces',
  otherNamespaces: 'other namespaces',
};

function textOf(e: PodExposure): string[] {
  const lines = [e.pod];
  if (!e.isolated.Ingress) {
    lines.push('  NOT isolated for ingress: reachable from anywhere, on every port');
  } else if (e.ingress.length === 0) {
    lines.push('  isolated for ingress; no rule lets anything in');
  } else {
    for (const x of e.ingress) {
      const from = [
        ...x.classes.map((c) => CLASS_WORDS[c]!),
        ...(x.namespaces.length ? [`pods in ${x.namespaces.join(', ')}`] : []),
        ...(x.addresses && !x.classes.includes('internet') && !x.classes.includes('anywhere') ? ['outside addresses'] : []),
      ];
      lines.push(`  from ${from.join('; ') || 'nothing'} on ${x.ports} (${x.policy} ${x.path})`);
    }
  }
  lines.push(`  egress ${e.isolated.Egress ? 'isolated' : 'NOT isolated'}`);
  return lines;
}

/** `netfence exposure`: how each pod can be reached. Exit 0, or 2 on bad input. */
export function exposure(args: string[], io: CliIO): number {
  const { values, files, output } = parseManifestCommand(args, {
    namespace: { type: 'string', short: 'n' },
    tier: { type: 'string' },
    config: { type: 'string' },
  });
  let tier: CompiledSelector | undefined;
  if (values.tier !== undefined) {
    const { config } = values.config ? loadConfigFile(values.config) : builtInConfig();
    const selector = config.tiers[values.tier];
    if (!selector) throw new UsageError(`--tier ${values.tier}: not a tier of the config (tiers: ${Object.keys(config.tiers).join(', ') || 'none'})`);
    tier = new CompiledSelector(selector);
  } else if (values.config !== undefined) {
    throw new UsageError('--config is only used with --tier');
  }
  const { view } = loadClusterInput(files);
  const index = new PolicyIndex(view);
  const namespaces = values.namespace ? [values.namespace] : view.namespaces().map((n) => n.name).sort();
  const pods = namespaces
    .flatMap((ns) => view.pods(ns))
    .filter((p) => !tier || tier.matches(p.labels))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const report = pods.map((p) => podExposure(index, p));
  const notIsolated = report.filter((r) => !r.isolated.Ingress).map((r) => r.pod);
  if (output === 'json') {
    io.out(JSON.stringify({ pods: report, notIsolatedForIngress: notIsolated }, null, 2));
    return 0;
  }
  if (report.length === 0) io.out('no pods match');
  for (const r of report) for (const line of textOf(r)) io.out(line);
  io.out('');
  io.out(notIsolated.length ? `not isolated for ingress: ${notIsolated.join(', ')}` : 'every pod listed is isolated for ingress');
  return 0;
}
