import { describe, expect, it } from 'vitest';
import { evaluate } from '../admission/admit.ts';
import { buildResponse } from '../admission/respond.ts';
import { defaultHandlers } from '../admission/registry.ts';
import { admissionRequest, configWith, contextFor, loadRuleCases } from '../../test/helpers/rules-world.ts';
import { FINDINGS_DESCRIBED, FindingList } from './types.ts';

const { defaults, cases } = loadRuleCases();
const handlers = defaultHandlers();

describe('organisation rules (fixtures: test/fixtures/rules)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const ctx = contextFor(admissionRequest(c.request), {
      config: configWith(c.config),
      now: c.now ?? defaults.now,
      ...(c.extraObjects ? { extraObjects: c.extraObjects } : {}),
    });
    const verdict = evaluate(ctx, handlers, 'validate');
    const { response, decision } = buildResponse(ctx.request, verdict);
    expect(verdict.violations.map((v) => `${v.rule}:${v.path}`).sort()).toEqual([...c.expect.violations].sort());
    expect(decision).toBe(c.expect.decision);
    const downgraded = verdict.violations.filter((v) => v.downgraded).map((v) => `${v.rule}:${v.downgraded!.from}`);
    expect([...new Set(downgraded)].sort()).toEqual([...(c.expect.downgraded ?? [])].sort());
    for (const v of verdict.violations) if (v.downgraded) expect(v.mode).toBe('audit');
    expect(verdict.exemptions.map((e) => `${e.id}:${e.status}`)).toEqual(c.expect.exemptions ?? []);
    if (c.expect.warnings !== undefined) expect(response.warnings ?? []).toHaveLength(c.expect.warnings);
    if (c.expect.message !== undefined) {
      const text = response.status?.message ?? verdict.violations.map((v) => v.message).join('\n');
      expect(text).toContain(c.expect.message);
    }
    if (c.expect.notMessage !== undefined) {
      const text = response.status?.message ?? verdict.violations.map((v) => v.message).join('\n');
      expect(text).not.toContain(c.expect.notMessage);
    }
    if (decision === 'deny') {
      // Every denial names each enforced rule and its path, for kubectl's output.
      for (const v of verdict.violations.filter((x) => x.mode === 'enforce')) {
        expect(response.status!.message).toContain(`[${v.rule}] ${v.path ? `${v.path}: ` : ''}`);
      }
      expect(response.status!.code).toBe(403);
    }
  });
});

describe('FindingList: the first findings described, the rest counted', () => {
  const cases: Array<[string, number, number, number | undefined]> = [
    ['none', 0, 0, undefined],
    ['a few', 3, 3, undefined],
    ['exactly the limit', FINDINGS_DESCRIBED, FINDINGS_DESCRIBED, undefined],
    ['past the limit, counted on the last one', FINDINGS_DESCRIBED + 250, FINDINGS_DESCRIBED, 250],
  ];
  it.each(cases)('%s', (_n, count, described, more) => {
    const list = new FindingList();
    let built = 0;
    for (let i = 0; i < count; i++) list.add(`p${i}`, () => `m${built++}`);
    const out = list.list();
    expect(out).toHaveLength(described);
    expect(built).toBe(described); // messages past the limit are never built
    expect(out.at(-1)?.more).toBe(more);
  });
});
