import type { DecisionStats } from './decisions.ts';
import { INTERNET, OTHER_NAMESPACES, type NamespaceGraph } from './graph.ts';

// Inline SVG for the HTML report: no script, no external reference, laid out deterministically.

export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const COL_W = 230;
const NODE_W = 176;
const NODE_H = 24;
const ROW_H = 32;
const TOP = 34;

/** Who can reach whom in one namespace: columns (outside, tiers, no tier), one row per workload. */
export function graphSvg(g: NamespaceGraph): string {
  const pos = new Map<string, { x: number; y: number }>();
  const rows = new Map<string, number>();
  for (const n of g.nodes) {
    const col = g.columns.indexOf(n.column);
    const row = rows.get(n.column) ?? 0;
    rows.set(n.column, row + 1);
    pos.set(n.id, { x: 10 + col * COL_W, y: TOP + row * ROW_H });
  }
  const height = TOP + Math.max(...rows.values(), 1) * ROW_H + 10;
  const width = 10 + g.columns.length * COL_W;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img" aria-label="who can reach whom in ${esc(g.namespace)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" data-namespace="${esc(g.namespace)}">`);
  parts.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>');
  g.columns.forEach((c, i) => parts.push(`<text class="col" x="${10 + i * COL_W}" y="18">${esc(c)}</text>`));
  for (const e of g.edges) {
    const a = pos.get(e.from)!;
    const b = pos.get(e.to)!;
    const y1 = a.y + NODE_H / 2;
    const y2 = b.y + NODE_H / 2;
    const outside = e.from === INTERNET || e.from === OTHER_NAMESPACES ? 'in' : e.to === INTERNET || e.to === OTHER_NAMESPACES ? 'out' : 'pod';
    let d: string;
    if (b.x > a.x) {
      const x1 = a.x + NODE_W;
      const x2 = b.x - 2;
      d = `M${x1},${y1} C${x1 + 30},${y1} ${x2 - 30},${y2} ${x2},${y2}`;
    } else if (b.x < a.x) {
      const x1 = a.x;
      const x2 = b.x + NODE_W + 2;
      d = `M${x1},${y1} C${x1 - 30},${y1} ${x2 + 30},${y2} ${x2},${y2}`;
    } else {
      // Same column: an arc on the right side, wider for rows further apart.
      const x = a.x + NODE_W;
      const bulge = 14 + Math.min(40, Math.abs(y2 - y1) / 4);
      d = `M${x},${y1} C${x + bulge},${y1} ${x + bulge},${y2} ${x + 2},${y2}`;
    }
    parts.push(`<path class="edge ${outside}" d="${d}" marker-end="url(#arrow)"><title>${esc(labelOf(g, e.from))} → ${esc(labelOf(g, e.to))}</title></path>`);
  }
  for (const n of g.nodes) {
    const p = pos.get(n.id)!;
    const kind = n.column === 'outside' ? 'outside' : 'workload';
    const label = n.label.length > 24 ? `${n.label.slice(0, 23)}…` : n.label;
    parts.push(`<g class="node ${kind}" data-node="${esc(n.id)}"><rect x="${p.x}" y="${p.y}" width="${NODE_W}" height="${NODE_H}" rx="4"/><text x="${p.x + 8}" y="${p.y + 16}">${esc(label)}${n.pods > 1 ? ` ×${n.pods}` : ''}</text><title>${esc(n.label)}${n.pods ? ` (${n.pods} pod${n.pods > 1 ? 's' : ''})` : ''}</title></g>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

function labelOf(g: NamespaceGraph, id: string): string {
  return g.nodes.find((n) => n.id === id)?.label ?? id;
}

/** Denials (and warnings) per bucket as bars. */
export function timelineSvg(d: DecisionStats): string {
  const data = d.overTime;
  if (data.length === 0) return '';
  const W = 860;
  const H = 180;
  const left = 40;
  const bottom = 30;
  const max = Math.max(1, ...data.map((b) => b.deny + b.warn));
  const bw = Math.max(1, (W - left - 10) / data.length);
  const y = (v: number): number => H - bottom - (v / max) * (H - bottom - 10);
  const bars = data
    .map((b, i) => {
      const x = left + i * bw;
      const deny = `<rect class="deny" x="${x.toFixed(1)}" y="${y(b.deny).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${(H - bottom - y(b.deny)).toFixed(1)}"><title>${esc(b.start)}: ${b.deny} denied</title></rect>`;
      const warn = b.warn ? `<rect class="warn" x="${x.toFixed(1)}" y="${y(b.deny + b.warn).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${(y(b.deny) - y(b.deny + b.warn)).toFixed(1)}"><title>${esc(b.start)}: ${b.warn} warnings</title></rect>` : '';
      return deny + warn;
    })
    .join('');
  const first = data[0]!.start.slice(0, d.bucket === 'hour' ? 13 : 10).replace('T', ' ');
  const last = data[data.length - 1]!.start.slice(0, d.bucket === 'hour' ? 13 : 10).replace('T', ' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" aria-label="denials per ${d.bucket}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">
<line class="axis" x1="${left}" y1="${H - bottom}" x2="${W - 10}" y2="${H - bottom}"/><line class="axis" x1="${left}" y1="10" x2="${left}" y2="${H - bottom}"/>
<text x="${left - 6}" y="16" text-anchor="end">${max}</text><text x="${left - 6}" y="${H - bottom}" text-anchor="end">0</text>
${bars}
<text x="${left}" y="${H - 10}">${esc(first)}${d.bucket === 'hour' ? ':00' : ''}</text><text x="${W - 10}" y="${H - 10}" text-anchor="end">${esc(last)}${d.bucket === 'hour' ? ':00' : ''} (per ${d.bucket})</text></svg>`;
}

/** A horizontal stacked bar of namespace counts by default-deny state. */
export function coverageBarSvg(parts: Array<{ label: string; value: number; cls: string }>): string {
  const total = parts.reduce((n, p) => n + p.value, 0);
  if (total === 0) return '';
  const W = 600;
  let x = 0;
  const rects = parts
    .filter((p) => p.value > 0)
    .map((p) => {
      const w = (p.value / total) * W;
      const r = `<rect class="${p.cls}" x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="22"><title>${esc(p.label)}: ${p.value}</title></rect>`;
      x += w;
      return r;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" class="bar" role="img" aria-label="namespaces by default-deny state" viewBox="0 0 ${W} 22" width="${W}" height="22">${rects}</svg>`;
}
