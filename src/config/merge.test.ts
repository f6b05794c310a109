import { describe, expect, it } from 'vitest';
import { defaultConfig } from './default.ts';
import { ConfigError, parseConfig } from './load.ts';

const HEAD = 'apiVersion: netfence.io/v1alpha1\nkind: NetfenceConfig\n';
const builtIn = defaultConfig();

function errorsOf(text: string): string[] {
  try {
    parseConfig(HEAD + text, 'c.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.errors.map((e) => `${e.path}: ${e.message}`);
    throw err;
  }
  return [];
}

describe('a partial config file merges with the built-in config', () => {
  // [what, file body after apiVersion/kind, what the config in force must be]
  const cases: Array<[string, string, (c: ReturnType<typeof defaultConfig>) => void]> = [
    ['only apiVersion and kind: the built-in config, without its example exemption', '', (c) => { c.exemptions = []; }],
    ['only rules: the baseline, tiers and exclusions stay', 'rules: [{ id: ports, type: requirePorts }]\n', (c) => {
      c.rules = [{ id: 'ports', type: 'requirePorts', mode: 'enforce' }];
      c.exemptions = [];
    }],
    ['baseline with only labels keeps the built-in policies', 'baseline: { labels: { team.io/fenced: "yes" } }\n', (c) => {
      c.baseline.labels = { 'team.io/fenced': 'yes' };
      c.exemptions = [];
    }],
    ['baseline policies written empty means none', 'baseline: { policies: [] }\n', (c) => {
      c.baseline.policies = [];
      c.exemptions = [];
    }],
    ['rules written empty means none', 'rules: []\n', (c) => {
      c.rules = [];
      c.exemptions = [];
    }],
    ['a written list replaces the built-in one whole', 'excludedNamespaces: [kube-system, monitoring]\n', (c) => {
      c.excludedNamespaces = ['kube-system', 'monitoring'];
      c.exemptions = [];
    }],
    ['exemptions written are kept', 'exemptions: [{ id: x, namespaces: [a], rules: [require-default-deny], reason: r }]\n', (c) => {
      c.exemptions = [{ id: 'x', namespaces: ['a'], rules: ['require-default-deny'], reason: 'r' }];
    }],
    ['base: builtIn is the default, said out loud', 'base: builtIn\nrules: []\n', (c) => {
      c.rules = [];
      c.exemptions = [];
    }],
    ['base: empty starts from nothing', 'base: empty\n', (c) => {
      c.excludedNamespaces = [];
      c.tiers = {};
      c.baseline = { labels: {}, annotations: {}, policies: [] };
      c.rules = [];
      c.exemptions = [];
    }],
  ];

  it.each(cases)('%s', (_what, body, change) => {
    const expected = defaultConfig();
    change(expected);
    expect(parseConfig(HEAD + body, 'c.yaml').config).toEqual(expected);
  });

  it('the built-in config written out in full is the built-in config', () => {
    expect(parseConfig(JSON.stringify(builtIn), 'c.json').config).toEqual(builtIn);
  });

  it('refuses, and says why, when written sections break inherited ones', () => {
    // The built-in rules refer to tier data; a file that renames the tiers but not the rules is refused.
    const errors = errorsOf('tiers: { db: { matchLabels: { role: db } } }\n');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^rules\[1\]\.tier: .*"data".*\(rules is the built-in default, because the config leaves it out: write rules in the config, or set base: empty\)$/);
  });

  it('refuses an unknown base', () => {
    expect(errorsOf('base: nothing\n')).toEqual(['base: must be one of builtIn, empty, got "nothing" (builtIn: sections left out take the built-in values; empty: they are empty)']);
  });

  it('errors in written sections are not marked as inherited', () => {
    const errors = errorsOf('rules: [{ id: x, type: nope }]\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^rules\[0\]\.type: /);
    expect(errors[0]).not.toContain('built-in default');
  });
});
