import { describe, expect, it } from 'vitest';
import { decisionStatsFromLines } from './decisions.ts';

const rec = (time: string, decision: string, user: string, ns: string, rules: string[], name = 'x'): string =>
  JSON.stringify({ time, event: 'admission.decision', schema: 1, decision, user, namespace: ns, kind: 'core/v1/Pod', name, violations: rules.map((rule) => ({ rule, mode: decision === 'deny' ? 'enforce' : 'warn' })) });

describe('decision log statistics', () => {
  it.each([
    { name: 'empty input', lines: [], denials: 0, records: 0, other: 0, buckets: 0 },
    { name: 'other log lines and garbage are counted, not read', lines: ['{"event":"server.started"}', 'not json', ''], denials: 0, records: 0, other: 2, buckets: 0 },
    { name: 'allows count as records, not denials', lines: [rec('2026-11-21T10:00:00Z', 'allow', 'a', 'n', [])], denials: 0, records: 1, other: 0, buckets: 0 },
    {
      name: 'hourly buckets, gaps included, within 3 days',
      lines: [rec('2026-11-21T10:05:00Z', 'deny', 'a', 'n', ['r']), rec('2026-11-21T13:59:00Z', 'deny', 'a', 'n', ['r'])],
      denials: 2, records: 2, other: 0, buckets: 4,
    },
    {
      name: 'daily buckets beyond 3 days',
      lines: [rec('2026-11-01T10:00:00Z', 'deny', 'a', 'n', ['r']), rec('2026-11-10T10:00:00Z', 'warn', 'a', 'n', ['r'])],
      denials: 1, records: 2, other: 0, buckets: 10,
    },
  ])('$name', ({ lines, denials, records, other, buckets }) => {
    const s = decisionStatsFromLines(lines);
    expect(s.denials).toBe(denials);
    expect(s.records).toBe(records);
    expect(s.otherLines).toBe(other);
    expect(s.overTime).toHaveLength(buckets);
  });

  it('counts by rule, namespace and user, and ranks repeat offenders', () => {
    const s = decisionStatsFromLines([
      rec('2026-11-21T10:00:00Z', 'deny', 'alice', 'a', ['r1', 'r2'], 'p1'),
      rec('2026-11-21T10:01:00Z', 'deny', 'alice', 'b', ['r1'], 'p2'),
      rec('2026-11-21T10:02:00Z', 'deny', 'alice', 'b', ['r1'], 'p2'),
      rec('2026-11-21T10:03:00Z', 'deny', 'bob', 'a', ['r2']),
      rec('2026-11-21T10:04:00Z', 'deny', 'carol', 'a', ['r2']),
      rec('2026-11-21T10:05:00Z', 'deny', 'carol', 'a', ['r2']),
      rec('2026-11-21T10:06:00Z', 'warn', 'dave', 'a', ['r3']),
    ]);
    expect(s.byRule).toEqual([{ rule: 'r1', denials: 3 }, { rule: 'r2', denials: 4 }].sort((a, b) => b.denials - a.denials));
    expect(s.byNamespace).toEqual([{ namespace: 'a', denials: 4 }, { namespace: 'b', denials: 2 }]);
    expect(s.byUser).toEqual([{ user: 'alice', denials: 3 }, { user: 'carol', denials: 2 }, { user: 'bob', denials: 1 }]);
    expect(s.topOffenders).toEqual([
      { user: 'alice', denials: 3, objects: 2, namespaces: ['a', 'b'], topRule: 'r1' },
      { user: 'carol', denials: 2, objects: 1, namespaces: ['a'], topRule: 'r2' },
    ]);
    expect(s.warnings).toBe(1);
  });
});
