import type { ReportData } from './model.ts';

// The same content as the HTML report, as Markdown (the graphs become lists of who reaches whom).

function cell(s: string | number): string {
  return String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function renderMarkdown(r: ReportData): string {
  const c = r.coverage;
  const judged = c.namespaces - c.excluded;
  const out: string[] = [];
  out.push(`# netfence network fencing report\n\nGenerated ${r.generatedAt} from ${r.source}; config ${r.configHash}.`);
  out.push(`## Coverage\n\n${c.namespaces} namespaces, ${c.excluded} excluded. Of the ${judged} judged: default-deny for ingress and egress ${c.defaultDeny.both}, ingress only ${c.defaultDeny.ingressOnly}, egress only ${c.defaultDeny.egressOnly}, neither ${c.defaultDeny.none}; baseline adopted (labels) ${c.adopted}, baseline in place ${c.baselineInPlace}.`);
  out.push(table(['namespace', 'default-deny ingress', 'default-deny egress', 'adopted', 'baseline', 'pods', 'policies'], c.list.map((n) =>
    n.excluded ? [n.name, 'excluded', '', '', '', n.pods, n.policies] : [n.name, n.defaultDeny.ingress ? 'yes' : 'NO', n.defaultDeny.egress ? 'yes' : 'NO', n.adopted ? 'yes' : 'no', n.baseline === 'missing' ? `missing: ${n.missingPolicies.join(', ')}` : n.baseline, n.pods, n.policies])));
  const v = r.violations;
  out.push(`## Violations of existing objects\n\n${v.total} violations (exempted ones not counted).`);
  if (v.total > 0) {
    out.push('### By rule\n\n' + table(['rule', 'mode', 'fail', 'warn'], v.byRule.map((x) => [x.rule, x.mode, x.fail, x.warn])));
    out.push('### By namespace\n\n' + table(['namespace', 'fail', 'warn'], v.byNamespace.map((x) => [x.namespace, x.fail, x.warn])));
    out.push('### Each violation\n\n' + table(['object', 'rule', 'mode', 'result', 'field', 'message'], v.items.map((x) => [`${x.kind} ${x.kind === 'Namespace' ? x.name : `${x.namespace}/${x.name}`}`, x.rule, x.mode, x.result, x.path, x.message])));
    if (v.omitted > 0) out.push(`${v.omitted} more violations are counted above but not listed.`);
  }
  out.push('## Exemptions\n\n' + (r.exemptions.length === 0 ? 'None.' : table(['id', 'namespaces', 'rules', 'reason', 'expires', 'days left', 'status', 'results exempted'], r.exemptions.map((e) =>
    [e.id, e.namespaces.join(', '), e.rules.join(', '), e.reason, e.expires ?? 'never', e.daysLeft ?? '', e.status === 'expired' ? '**EXPIRED**' : e.status === 'expiring' ? '**expires within 7 days**' : e.status, e.exempting]))));
  out.push('## What can reach each tier\n\n' + table(['tier', 'pods', 'not isolated', 'reachable from classes', 'from namespaces'], r.tiers.map((t) =>
    [t.tier, t.pods, t.unisolated, t.classes.join(', ') || 'none', `${t.fromNamespacesCount}: ${t.fromNamespaces.join(', ')}${t.fromNamespacesCount > t.fromNamespaces.length ? ', …' : ''}`])));
  out.push('## Who can reach whom\n\nPer namespace, workloads (pods grouped by their app label) by tier, and what they reach on some port.');
  for (const g of r.graphs) {
    const label = new Map(g.nodes.map((n) => [n.id, n.label]));
    const lines = g.nodes.filter((n) => n.column !== 'outside').map((n) => {
      const to = g.edges.filter((e) => e.from === n.id).map((e) => label.get(e.to)!);
      const from = g.edges.filter((e) => e.to === n.id && e.from.startsWith('c:')).map((e) => label.get(e.from)!);
      return `- **${n.label}** (${n.column}, ${n.pods} pod${n.pods === 1 ? '' : 's'}) → ${to.length ? to.join(', ') : 'nothing'}${from.length ? `; reached from ${from.join(', ')}` : ''}`;
    });
    out.push(`### ${g.namespace}\n\n${lines.join('\n')}${g.omitted ? `\n\n${g.omitted} smaller workloads not listed.` : ''}`);
  }
  if (r.graphsOmitted > 0) out.push(`${r.graphsOmitted} more namespaces not drawn.`);
  const d = r.decisions;
  if (d) {
    out.push(`## Admission decisions\n\n${d.records} decision records from ${d.files.join(', ')}${d.from ? `, ${d.from} to ${d.to}` : ''}: ${d.denials} denials, ${d.warnings} warnings${d.otherLines ? ` (${d.otherLines} other log lines skipped)` : ''}.`);
    out.push(`### Over time (per ${d.bucket})\n\n` + table(['from', 'denied', 'warned'], d.overTime.filter((b) => b.deny + b.warn > 0).map((b) => [b.start, b.deny, b.warn])));
    out.push('### Denials by rule\n\n' + table(['rule', 'denials'], d.byRule.map((x) => [x.rule, x.denials])));
    out.push('### Denials by namespace\n\n' + table(['namespace', 'denials'], d.byNamespace.map((x) => [x.namespace, x.denials])));
    out.push('### Denials by user\n\n' + table(['user', 'denials'], d.byUser.map((x) => [x.user, x.denials])));
    out.push('### Top repeat offenders\n\n' + (d.topOffenders.length === 0 ? 'No user was denied more than once.' : table(['user', 'denials', 'distinct objects', 'namespaces', 'most broken rule'], d.topOffenders.map((o) => [o.user, o.denials, o.objects, o.namespaces.join(', '), o.topRule]))));
  }
  return `${out.join('\n\n')}\n`;
}
