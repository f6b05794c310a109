import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultConfig } from './default.ts';
import { configHash, parseConfig } from './load.ts';
import { validateConfig } from './validate.ts';

const designExample = readFileSync(new URL('../../test/fixtures/config/design-example.yaml', import.meta.url), 'utf8');

function withChange(change: (c: Record<string, any>) => void): unknown {
  const c = parse(designExample);
  change(c);
  return c;
}

describe('config validation', () => {
  it('the built-in default is the original design example, with cert-manager also excluded', () => {
    const result = validateConfig(parse(designExample));
    expect(result.ok).toBe(true);
    if (result.ok) expect({ ...result.config, excludedNamespaces: [...result.config.excludedNamespaces, 'cert-manager'] }).toEqual(defaultConfig());
    expect(validateConfig(defaultConfig()).ok).toBe(true);
  });

  it('the hash depends on content, not key order', () => {
    const a = defaultConfig();
    const reversed = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reversed)
        : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)]))
          : v;
    const b = reversed(a) as ReturnType<typeof defaultConfig>;
    expect(Object.keys(b)).toEqual(Object.keys(a).reverse());
    expect(configHash(b)).toBe(configHash(a));
    b.excludedNamespaces = ['other'];
    expect(configHash(b)).not.toBe(configHash(a));
    expect(configHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('validateConfig alone: sections left out are empty (files are completed first, merge.ts)', () => {
    const result = validateConfig({ apiVersion: 'netfence.io/v1alpha1', kind: 'NetfenceConfig' });
    expect(result).toEqual({
      ok: true,
      config: expect.objectContaining({ rules: [], exemptions: [], tiers: {}, excludedNamespaces: [], decisionLog: { logAllowed: false } }),
    });
  });

  const bad: Array<[string, unknown, string[]]> = [
    ['not a mapping', [1, 2], ['']],
    ['wrong apiVersion and kind', withChange((c) => { c.apiVersion = 'v1'; c.kind = 'ConfigMap'; }), ['apiVersion', 'kind']],
    ['unknown top-level field', withChange((c) => { c.rulez = []; }), ['rulez']],
    ['bad excluded namespace', withChange((c) => { c.excludedNamespaces = ['Kube_System']; }), ['excludedNamespaces[0]']],
    ['empty tier selector', withChange((c) => { c.tiers.data = {}; }), ['tiers.data']],
    ['bad tier operator', withChange((c) => { c.tiers.data = { matchExpressions: [{ key: 'tier', operator: 'Is', values: ['x'] }] }; }),
      ['tiers.data.matchExpressions[0].operator']],
    ['unknown rule type', withChange((c) => { c.rules[0].type = 'requireDefaultDenial'; }), ['rules[0].type']],
    ['unknown mode', withChange((c) => { c.rules[1].mode = 'block'; }), ['rules[1].mode']],
    ['unknown tier', withChange((c) => { c.rules[1].tier = 'dat'; }), ['rules[1].tier']],
    ['unknown source class', withChange((c) => { c.rules[1].sources = ['anywhere', 'everywhere']; }), ['rules[1].sources']],
    ['duplicate rule id', withChange((c) => { c.rules[2].id = c.rules[1].id; }), ['rules[2].id']],
    ['bad directions', withChange((c) => { c.rules[0].directions = ['Inbound']; }), ['rules[0].directions']],
    ['exemption of an unknown rule', withChange((c) => { c.exemptions[0].rules = ['nope']; }), ['exemptions[0].rules[0]']],
    ['exemption without reason', withChange((c) => { delete c.exemptions[0].reason; }), ['exemptions[0].reason']],
    ['exemption with a bad time', withChange((c) => { c.exemptions[0].expires = 'next tuesday'; }), ['exemptions[0].expires']],
    ['bad baseline label value', withChange((c) => { c.baseline.labels['netfence.io/baseline'] = 'not ok!'; }), ['baseline.labels["netfence.io/baseline"]']],
    ['baseline policy the API server would refuse', withChange((c) => {
      c.baseline.policies[1].spec.egress[0].ports[0].protocol = 'ICMP';
      c.baseline.policies[1].spec.egress[0].to[0].ipBlock = { cidr: '10.0.0.0/8' };
    }), ['baseline.policies[1].spec.egress[0].ports[0].protocol', 'baseline.policies[1].spec.egress[0].to[0]']],
    ['duplicate baseline policy', withChange((c) => { c.baseline.policies[1].name = 'netfence-default-deny'; }), ['baseline.policies[1].name']],
    ['logAllowed not a boolean', withChange((c) => { c.decisionLog = { logAllowed: 'yes' }; }), ['decisionLog.logAllowed']],
  ];

  it.each(bad)('%s: reports every error with its path', (_name, input, paths) => {
    const result = validateConfig(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path).sort()).toEqual([...paths].sort());
  });

  it('reports YAML syntax errors with their line', () => {
    expect(() => parseConfig('apiVersion: [unclosed\n', 'x.yaml')).toThrow(/x\.yaml:\n\s+line \d+, column \d+: invalid YAML/);
  });
});
