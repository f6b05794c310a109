import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DECISION_EVENT } from '../audit/decision-log.ts';

// What auditors learn from decision logs (JSON lines, as `serve` writes them on stdout): denials
// over time, by rule, namespace and user, and the top repeat offenders. Read line by line and
// aggregated as they come, so a log of millions of lines needs memory only for the counts.

export interface DecisionStats {
  files: string[];
  /** Decision records read. */
  records: number;
  /** Lines that were not decision records (other log lines, or not JSON). */
  otherLines: number;
  denials: number;
  warnings: number;
  from?: string;
  to?: string;
  /** Bucket width of overTime. */
  bucket: 'hour' | 'day';
  overTime: Array<{ start: string; deny: number; warn: number }>;
  byRule: Array<{ rule: string; denials: number }>;
  byNamespace: Array<{ namespace: string; denials: number }>;
  byUser: Array<{ user: string; denials: number }>;
  /** Users denied more than once, most denials first. */
  topOffenders: Array<{ user: string; denials: number; objects: number; namespaces: string[]; topRule: string }>;
}

/** Keys kept per table: beyond these, the rest is counted as one "others" line. */
const TOP = 20;

interface Acc {
  records: number;
  otherLines: number;
  denials: number;
  warnings: number;
  times: Map<number, { deny: number; warn: number }>; // by hour
  byRule: Map<string, number>;
  byNamespace: Map<string, number>;
  byUser: Map<string, { denials: number; objects: Set<string>; namespaces: Set<string>; rules: Map<string, number> }>;
  min?: number;
  max?: number;
}

const HOUR = 3_600_000;

function add(acc: Acc, line: string): void {
  if (line.trim() === '') return;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    acc.otherLines++;
    return;
  }
  if (typeof r !== 'object' || r === null || r.event !== DECISION_EVENT) {
    acc.otherLines++;
    return;
  }
  acc.records++;
  const t = typeof r.time === 'number' ? r.time : typeof r.time === 'string' ? Date.parse(r.time) : NaN;
  const decision = r.decision;
  if (decision !== 'deny' && decision !== 'warn') return;
  if (Number.isFinite(t)) {
    acc.min = acc.min === undefined ? t : Math.min(acc.min, t);
    acc.max = acc.max === undefined ? t : Math.max(acc.max, t);
    const hour = Math.floor(t / HOUR) * HOUR;
    const b = acc.times.get(hour) ?? { deny: 0, warn: 0 };
    b[decision]++;
    acc.times.set(hour, b);
  }
  if (decision === 'warn') {
    acc.warnings++;
    return;
  }
  acc.denials++;
  const ns = typeof r.namespace === 'string' && r.namespace ? r.namespace : '(cluster)';
  const user = typeof r.user === 'string' && r.user ? r.user : '(unknown)';
  acc.byNamespace.set(ns, (acc.byNamespace.get(ns) ?? 0) + 1);
  const rules = new Set<string>();
  if (Array.isArray(r.violations)) {
    for (const v of r.violations as Array<Record<string, unknown>>) if (v && v.mode === 'enforce' && typeof v.rule === 'string') rules.add(v.rule);
  }
  if (rules.size === 0) rules.add(typeof r.error === 'string' ? '(internal error)' : '(other)');
  for (const rule of rules) acc.byRule.set(rule, (acc.byRule.get(rule) ?? 0) + 1);
  let u = acc.byUser.get(user);
  if (!u) acc.byUser.set(user, (u = { denials: 0, objects: new Set(), namespaces: new Set(), rules: new Map() }));
  u.denials++;
  // Bounded per user: a few hundred distinct objects and namespaces are plenty to count.
  if (u.objects.size < 1000) u.objects.add(`${String(r.kind)}/${ns}/${String(r.name)}`);
  if (u.namespaces.size < 100) u.namespaces.add(ns);
  for (const rule of rules) u.rules.set(rule, (u.rules.get(rule) ?? 0) + 1);
}

function top<T extends string>(m: Map<string, number>, key: T): Array<Record<T, string> & { denials: number }> {
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TOP).map(([k, n]) => ({ [key]: k, denials: n }) as Record<T, string> & { denials: number });
}

export function decisionStatsFromLines(lines: Iterable<string>, files: string[] = []): DecisionStats {
  const acc = emptyAcc();
  for (const line of lines) add(acc, line);
  return finish(acc, files);
}

/** Reads decision-log files (JSON lines; other log lines are counted and skipped). */
export async function readDecisionLogs(files: readonly string[]): Promise<DecisionStats> {
  const acc = emptyAcc();
  for (const file of files) {
    const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of rl) add(acc, line);
  }
  return finish(acc, [...files]);
}

function emptyAcc(): Acc {
  return { records: 0, otherLines: 0, denials: 0, warnings: 0, times: new Map(), byRule: new Map(), byNamespace: new Map(), byUser: new Map() };
}

function finish(acc: Acc, files: string[]): DecisionStats {
  const span = acc.min !== undefined && acc.max !== undefined ? acc.max - acc.min : 0;
  const bucket: 'hour' | 'day' = span <= 72 * HOUR ? 'hour' : 'day';
  const width = bucket === 'hour' ? HOUR : 24 * HOUR;
  const buckets = new Map<number, { deny: number; warn: number }>();
  for (const [hour, b] of acc.times) {
    const start = Math.floor(hour / width) * width;
    const x = buckets.get(start) ?? { deny: 0, warn: 0 };
    x.deny += b.deny;
    x.warn += b.warn;
    buckets.set(start, x);
  }
  // Every bucket between the first and the last, empty ones included: a gap is information.
  const overTime: DecisionStats['overTime'] = [];
  if (buckets.size > 0) {
    const keys = [...buckets.keys()];
    const first = Math.min(...keys);
    const last = Math.max(...keys);
    for (let s = first; s <= last && overTime.length < 400; s += width) overTime.push({ start: new Date(s).toISOString(), ...(buckets.get(s) ?? { deny: 0, warn: 0 }) });
  }
  const topOffenders = [...acc.byUser]
    .filter(([, u]) => u.denials > 1)
    .sort((a, b) => b[1].denials - a[1].denials || (a[0] < b[0] ? -1 : 1))
    .slice(0, 10)
    .map(([user, u]) => ({
      user,
      denials: u.denials,
      objects: u.objects.size,
      namespaces: [...u.namespaces].sort(),
      topRule: [...u.rules].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? '',
    }));
  return {
    files,
    records: acc.records,
    otherLines: acc.otherLines,
    denials: acc.denials,
    warnings: acc.warnings,
    ...(acc.min !== undefined ? { from: new Date(acc.min).toISOString(), to: new Date(acc.max!).toISOString() } : {}),
    bucket,
    overTime,
    byRule: top(acc.byRule, 'rule'),
    byNamespace: top(acc.byNamespace, 'namespace'),
    byUser: top(new Map([...acc.byUser].map(([k, u]) => [k, u.denials])), 'user'),
    topOffenders,
  };
}
