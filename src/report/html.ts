import type { ReportData } from './model.ts';
import { coverageBarSvg, esc, graphSvg, timelineSvg } from './svg.ts';

// One self-contained HTML file: inline CSS and SVG, no script, no font, image or stylesheet
// from anywhere, so that it opens on an air-gapped laptop. A Content-Security-Policy meta tag
// forbids any fetch even if a later edit slipped one in. Numbers carry data-metric attributes
// so that a test can read them back and compare them with the JSON.

const CSS = `
:root{--fg:#1b1f24;--muted:#5a6270;--line:#d8dde3;--bad:#b42318;--warn:#b54708;--ok:#067647;--bg2:#f5f7f9;--accent:#1f4e8c}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;padding-bottom:4px;border-bottom:2px solid var(--line)}h3{font-size:15px;margin:18px 0 6px}
.meta{color:var(--muted);margin:0 0 16px}nav a{margin-right:12px;color:var(--accent)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 12px;background:var(--bg2)}.card .n{font-size:24px;font-weight:600;display:block}.card .l{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%;margin:6px 0 14px;font-size:13px}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}th{background:var(--bg2);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.yes{color:var(--ok);font-weight:600}.no{color:var(--bad);font-weight:600}.fail{color:var(--bad)}.warn{color:var(--warn)}
.tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;border:1px solid currentColor}
.expired{color:var(--bad);font-weight:600}.expiring{color:var(--warn);font-weight:600}
.msg{color:var(--muted);font-size:12px}code{font-size:12px;background:var(--bg2);padding:0 3px;border-radius:3px}
.note{color:var(--muted);font-style:italic}
svg text{font:12px system-ui,sans-serif;fill:var(--fg)}svg .col{font-weight:600;fill:var(--muted)}
.node rect{fill:#fff;stroke:#7a8594}.node.outside rect{fill:#fdecea;stroke:var(--bad)}
.edge{fill:none;stroke:#98a2b3;stroke-width:1.2}.edge.in{stroke:var(--bad)}.edge.out{stroke:var(--warn);stroke-dasharray:4 3}
.timeline .deny{fill:var(--bad)}.timeline .warn{fill:#f79009}.timeline .axis{stroke:#7a8594}
.bar .both{fill:var(--ok)}.bar .ingress,.bar .egress{fill:#f79009}.bar .none{fill:var(--bad)}
.legend span{margin-right:14px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.graphwrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px;padding:6px;margin-bottom:12px}
@media print{body{max-width:none;padding:0;font-size:11px}nav{display:none}h2{break-after:avoid}table,svg,.card{break-inside:avoid}
.graphwrap{overflow:visible;border:none}svg.graph{max-width:100%;height:auto}a{color:inherit;text-decoration:none}
.cards{grid-template-columns:repeat(4,1fr)}@page{margin:14mm}}
`;

function metric(name: string, value: number | string): string {
  return `<span data-metric="${esc(name)}">${esc(value)}</span>`;
}

function yesNo(b: boolean, yes = 'yes', no = 'no'): string {
  return b ? `<span class="yes">${yes}</span>` : `<span class="no">${no}</span>`;
}

function card(label: string, name: string, value: number): string {
  return `<div class="card"><span class="n">${metric(name, value)}</span><span class="l">${esc(label)}</span></div>`;
}

export function renderHtml(r: ReportData): string {
  const c = r.coverage;
  const judged = c.namespaces - c.excluded;
  const expiring = r.exemptions.filter((e) => e.status === 'expiring').length;
  const expired = r.exemptions.filter((e) => e.status === 'expired').length;
  const out: string[] = [];
  out.push(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>netfence report — ${esc(r.generatedAt)}</title><style>${CSS}</style></head><body>`);
  out.push(`<h1>netfence network fencing report</h1><p class="meta">Generated ${esc(r.generatedAt)} from ${esc(r.source)}; config ${esc(r.configHash)}</p>`);
  out.push(`<nav><a href="#coverage">Coverage</a><a href="#violations">Violations</a><a href="#exemptions">Exemptions</a><a href="#tiers">Tiers</a><a href="#graphs">Who reaches whom</a>${r.decisions ? '<a href="#decisions">Decisions</a>' : ''}</nav>`);
  out.push('<div class="cards">');
  out.push(card('namespaces judged', 'coverage.judged', judged));
  out.push(card('default-deny both ways', 'coverage.defaultDeny.both', c.defaultDeny.both));
  out.push(card('baseline adopted', 'coverage.adopted', c.adopted));
  out.push(card('baseline in place', 'coverage.baselineInPlace', c.baselineInPlace));
  out.push(card('violations of existing objects', 'violations.total', r.violations.total));
  out.push(card('exemptions expiring within 7 days', 'exemptions.expiring', expiring));
  out.push(card('exemptions expired', 'exemptions.expired', expired));
  if (r.decisions) out.push(card('admission denials logged', 'decisions.denials', r.decisions.denials));
  out.push('</div>');

  // Coverage
  out.push(`<h2 id="coverage">Coverage</h2><p>${metric('coverage.namespaces', c.namespaces)} namespaces, ${metric('coverage.excluded', c.excluded)} excluded. Of the ${judged} judged: default-deny for ingress and egress ${c.defaultDeny.both}, ingress only ${metric('coverage.defaultDeny.ingressOnly', c.defaultDeny.ingressOnly)}, egress only ${metric('coverage.defaultDeny.egressOnly', c.defaultDeny.egressOnly)}, neither ${metric('coverage.defaultDeny.none', c.defaultDeny.none)}. "Adopted" means the namespace carries the baseline labels; "in place" that every baseline policy is there as configured.</p>`);
  out.push(coverageBarSvg([
    { label: 'both', value: c.defaultDeny.both, cls: 'both' },
    { label: 'ingress only', value: c.defaultDeny.ingressOnly, cls: 'ingress' },
    { label: 'egress only', value: c.defaultDeny.egressOnly, cls: 'egress' },
    { label: 'neither', value: c.defaultDeny.none, cls: 'none' },
  ]));
  out.push('<p class="legend"><span><i class="sw" style="background:#067647"></i>both</span><span><i class="sw" style="background:#f79009"></i>one direction</span><span><i class="sw" style="background:#b42318"></i>neither</span></p>');
  out.push('<table id="coverage-table"><thead><tr><th>namespace</th><th>default-deny ingress</th><th>default-deny egress</th><th>adopted</th><th>baseline</th><th class="num">pods</th><th class="num">policies</th></tr></thead><tbody>');
  for (const n of c.list) {
    if (n.excluded) {
      out.push(`<tr data-namespace="${esc(n.name)}"><td>${esc(n.name)}</td><td colspan="4" class="note">excluded from evaluation</td><td class="num">${n.pods}</td><td class="num">${n.policies}</td></tr>`);
      continue;
    }
    const baseline = n.baseline === 'missing' ? `<span class="no">missing: ${esc(n.missingPolicies.join(', '))}</span>` : n.baseline === 'in place' ? '<span class="yes">in place</span>' : esc(n.baseline);
    out.push(`<tr data-namespace="${esc(n.name)}"><td>${esc(n.name)}</td><td>${yesNo(n.defaultDeny.ingress)}</td><td>${yesNo(n.defaultDeny.egress)}</td><td>${yesNo(n.adopted)}</td><td>${baseline}</td><td class="num">${n.pods}</td><td class="num">${n.policies}</td></tr>`);
  }
  out.push('</tbody></table>');

  // Violations
  const v = r.violations;
  out.push(`<h2 id="violations">Violations of existing objects</h2><p>Every existing Namespace, NetworkPolicy, Pod and workload judged as admission would judge its creation today: ${v.total} violation${v.total === 1 ? '' : 's'} (exempted ones not counted).</p>`);
  if (v.total > 0) {
    out.push('<h3>By rule</h3><table id="violations-by-rule"><thead><tr><th>rule</th><th>mode</th><th class="num">fail</th><th class="num">warn</th></tr></thead><tbody>');
    for (const x of v.byRule) out.push(`<tr><td>${esc(x.rule)}</td><td>${esc(x.mode)}</td><td class="num">${metric(`violations.rule.${x.rule}.fail`, x.fail)}</td><td class="num">${metric(`violations.rule.${x.rule}.warn`, x.warn)}</td></tr>`);
    out.push('</tbody></table><h3>By namespace</h3><table id="violations-by-namespace"><thead><tr><th>namespace</th><th class="num">fail</th><th class="num">warn</th></tr></thead><tbody>');
    for (const x of v.byNamespace) out.push(`<tr><td>${esc(x.namespace)}</td><td class="num">${metric(`violations.namespace.${x.namespace}.fail`, x.fail)}</td><td class="num">${metric(`violations.namespace.${x.namespace}.warn`, x.warn)}</td></tr>`);
    out.push('</tbody></table><h3>Each violation</h3><table id="violations-list"><thead><tr><th>object</th><th>rule</th><th>result</th><th>field and message</th></tr></thead><tbody>');
    for (const x of v.items) out.push(`<tr><td>${esc(x.kind)} ${esc(x.kind === 'Namespace' ? x.name : `${x.namespace}/${x.name}`)}</td><td>${esc(x.rule)}<br><span class="msg">${esc(x.mode)}</span></td><td class="${x.result}">${x.result}</td><td><code>${esc(x.path)}</code><div class="msg">${esc(x.message)}</div></td></tr>`);
    out.push('</tbody></table>');
    if (v.omitted > 0) out.push(`<p class="note">${v.omitted} more violations are counted above but not listed (the list stops at ${v.items.length}; the JSON output has the same list).</p>`);
  }

  // Exemptions
  out.push('<h2 id="exemptions">Exemptions</h2>');
  if (r.exemptions.length === 0) out.push('<p>None.</p>');
  else {
    out.push('<table id="exemptions-table"><thead><tr><th>id</th><th>namespaces</th><th>rules</th><th>reason</th><th>expires</th><th class="num">days left</th><th>status</th><th class="num">results exempted</th></tr></thead><tbody>');
    for (const e of r.exemptions) {
      const status = e.status === 'expired' ? '<span class="expired">EXPIRED</span>' : e.status === 'expiring' ? '<span class="expiring">expires within 7 days</span>' : esc(e.status);
      out.push(`<tr data-exemption="${esc(e.id)}"><td>${esc(e.id)}</td><td>${esc(e.namespaces.join(', '))}</td><td>${esc(e.rules.join(', '))}</td><td>${esc(e.reason)}</td><td>${esc(e.expires ?? 'never')}</td><td class="num">${e.daysLeft === undefined ? '' : esc(e.daysLeft)}</td><td>${status}</td><td class="num">${e.exempting}</td></tr>`);
    }
    out.push('</tbody></table>');
  }

  // Tiers
  out.push('<h2 id="tiers">What can reach each tier</h2><p>For the pods of each tier: the classes of sources their ingress admits (anywhere, the internet, all namespaces including future ones, other namespaces), and the existing namespaces whose pods can reach at least one of them. Pods no policy isolates are open to everything.</p>');
  out.push('<table id="tiers-table"><thead><tr><th>tier</th><th class="num">pods</th><th class="num">not isolated</th><th>reachable from classes</th><th>from namespaces</th></tr></thead><tbody>');
  for (const t of r.tiers) {
    const classes = t.classes.length ? t.classes.map((x) => `<span class="tag fail">${esc(x)}</span>`).join(' ') : '<span class="yes">none</span>';
    const nss = `${metric(`tiers.${t.tier}.fromNamespaces`, t.fromNamespacesCount)}: ${esc(t.fromNamespaces.join(', '))}${t.fromNamespacesCount > t.fromNamespaces.length ? ', …' : ''}`;
    out.push(`<tr data-tier="${esc(t.tier)}"><td>${esc(t.tier)}</td><td class="num">${metric(`tiers.${t.tier}.pods`, t.pods)}</td><td class="num">${metric(`tiers.${t.tier}.unisolated`, t.unisolated)}</td><td>${classes}</td><td>${nss}</td></tr>`);
  }
  out.push('</tbody></table>');

  // Graphs
  out.push('<h2 id="graphs">Who can reach whom</h2><p>Per namespace: workloads (pods grouped by their app label) in columns by tier, and the outside: <span class="fail">red</span> arrows come in from the internet or other namespaces, <span class="warn">dashed orange</span> ones go out to them, grey ones join workloads of the namespace (on some port).</p>');
  for (const g of r.graphs) {
    out.push(`<h3>${esc(g.namespace)}</h3><div class="graphwrap">${graphSvg(g)}</div>`);
    if (g.omitted > 0) out.push(`<p class="note">${g.omitted} smaller workloads not drawn.</p>`);
  }
  if (r.graphsOmitted > 0) out.push(`<p class="note">${r.graphsOmitted} more namespaces not drawn (those with violations come first).</p>`);

  // Decisions
  const d = r.decisions;
  if (d) {
    out.push(`<h2 id="decisions">Admission decisions</h2><p>${metric('decisions.records', d.records)} decision records from ${esc(d.files.join(', '))}${d.from ? `, ${esc(d.from)} to ${esc(d.to ?? '')}` : ''}: ${d.denials} denials, ${metric('decisions.warnings', d.warnings)} warnings${d.otherLines ? ` (${d.otherLines} other log lines skipped)` : ''}.</p>`);
    out.push(timelineSvg(d));
    const table = (id: string, title: string, key: string, rows: Array<{ denials: number } & Record<string, unknown>>): void => {
      out.push(`<h3>${esc(title)}</h3><table id="${id}"><thead><tr><th>${esc(key)}</th><th class="num">denials</th></tr></thead><tbody>`);
      for (const row of rows) out.push(`<tr><td>${esc(String(row[key]))}</td><td class="num">${metric(`decisions.${key}.${String(row[key])}`, row.denials)}</td></tr>`);
      out.push('</tbody></table>');
    };
    table('denials-by-rule', 'Denials by rule', 'rule', d.byRule);
    table('denials-by-namespace', 'Denials by namespace', 'namespace', d.byNamespace);
    table('denials-by-user', 'Denials by user', 'user', d.byUser);
    out.push('<h3>Top repeat offenders</h3>');
    if (d.topOffenders.length === 0) out.push('<p>No user was denied more than once.</p>');
    else {
      out.push('<table id="offenders"><thead><tr><th>user</th><th class="num">denials</th><th class="num">distinct objects</th><th>namespaces</th><th>most broken rule</th></tr></thead><tbody>');
      for (const o of d.topOffenders) out.push(`<tr><td>${esc(o.user)}</td><td class="num">${o.denials}</td><td class="num">${o.objects}</td><td>${esc(o.namespaces.join(', '))}</td><td>${esc(o.topRule)}</td></tr>`);
      out.push('</tbody></table>');
    }
  }
  out.push('</body></html>\n');
  return out.join('\n');
}
