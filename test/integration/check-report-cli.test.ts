import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import schema from '../fixtures/reports/sarif-2.1.0-subset.schema.json' with { type: 'json' };
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/server.ts';
import { parseXml, type XmlElement } from '../helpers/xml.ts';

const FILE = 'test/fixtures/check/violations.yaml';

interface JsonReport {
  results: Array<{ kind: string; name: string; decision: string; source: { line: number; document: number }; violations: Array<{ rule: string; mode: string }> }>;
  summary: { objects: number; denied: number };
}
const json = (): JsonReport => JSON.parse(runCli(['check', '-f', FILE, '-o', 'json']).stdout) as JsonReport;

describe('check -o sarif', () => {
  it('validates against the SARIF 2.1.0 schema and carries every violation with its place', () => {
    const r = runCli(['check', '-f', FILE, '-o', 'sarif']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const sarif = JSON.parse(r.stdout);
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    expect(validate(sarif) ? [] : validate.errors).toEqual([]);

    const run = sarif.runs[0];
    expect(run.tool.driver.name).toBe('netfence');
    const rules = run.tool.driver.rules as Array<{ id: string }>;
    const expected = json().results.flatMap((x) => x.violations.map((v) => ({ rule: v.rule, mode: v.mode, line: x.source.line })));
    const results = run.results as Array<{ ruleId: string; ruleIndex: number; level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }>;
    expect(results.map((x) => ({ rule: x.ruleId, mode: { error: 'enforce', warning: 'warn', note: 'audit' }[x.level], line: x.locations[0]!.physicalLocation.region.startLine }))).toEqual(expected);
    for (const x of results) {
      expect(rules[x.ruleIndex]!.id).toBe(x.ruleId);
      expect(x.locations[0]!.physicalLocation.artifactLocation.uri).toBe(FILE);
    }
    // The object's first line: ledger-from-everyone is document 5, starting at line 24 (apiVersion).
    expect(results.find((x) => x.ruleId === 'data-no-ingress-from-anywhere' && x.locations[0]!.physicalLocation.region.startLine === 24)).toBeDefined();
  });

  it('a file name with spaces is a valid URI reference', () => {
    const dir = tempDir();
    const file = join(dir, 'my policies.yaml');
    writeFileSync(file, 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open, namespace: shop, labels: {}}\nspec: {podSelector: {matchLabels: {tier: data}}, ingress: [{}]}\n');
    const sarif = JSON.parse(runCli(['check', '-f', file, '-o', 'sarif']).stdout);
    expect(sarif.runs[0].results.length).toBeGreaterThan(0);
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe(`${dir}/my%20policies.yaml`);
  });
});

describe('check -o junit', () => {
  it('parses back as JUnit XML: one suite per file, one case per object, denials as failures', () => {
    const r = runCli(['check', '-f', FILE, '-f', 'test/fixtures/manifests/app-repo', '-o', 'junit']);
    expect(r.status).toBe(1);
    const root = parseXml(r.stdout);
    expect(root.name).toBe('testsuites');
    const suites = root.children;
    expect(suites.map((s) => [s.name, s.attrs.name])).toEqual([
      ['testsuite', FILE],
      ['testsuite', 'test/fixtures/manifests/app-repo/namespaces.json'],
      ['testsuite', 'test/fixtures/manifests/app-repo/policies.yaml'],
      ['testsuite', 'test/fixtures/manifests/app-repo/workloads.yaml'],
    ]);
    const cases = (s: XmlElement) => s.children.filter((c) => c.name === 'testcase');
    const all = suites.flatMap(cases);
    expect(Number(root.attrs.tests)).toBe(all.length);
    for (const s of suites) {
      expect(Number(s.attrs.tests)).toBe(cases(s).length);
      expect(Number(s.attrs.failures)).toBe(cases(s).filter((c) => c.children.some((x) => x.name === 'failure')).length);
    }
    const report = json();
    const failed = all.filter((c) => c.children.some((x) => x.name === 'failure')).map((c) => c.attrs.name);
    expect(failed).toEqual(report.results.filter((x) => x.decision === 'deny').map((x) => `${x.kind} payments/${x.name} (document ${x.source.document})`));
    expect(Number(root.attrs.failures)).toBe(failed.length);
    const everyone = all.find((c) => c.attrs.name === 'NetworkPolicy payments/ledger-from-everyone (document 5)')!;
    const failure = everyone.children.find((x) => x.name === 'failure')!;
    expect(failure.attrs.message).toBe('denied by data-no-ingress-from-anywhere');
    // Escaped on the way out, intact on the way back.
    expect(failure.text).toContain('{matchLabels: {kubernetes.io/metadata.name: <namespace>}}');
    expect(everyone.children.find((x) => x.name === 'system-out')!.text).toContain('warn: [data-only-from-logic]');
  });
});

describe('check assumes the baseline of the namespaces netfence manages', () => {
  it('a pod in a namespace the repository does not define: baseline assumed and said; --no-baseline judges without it', () => {
    const file = join(tempDir(), 'pod.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: lonely}\nspec: {containers: [{name: c, image: x}]}\n');
    const assumed = runCli(['check', '-f', file]);
    expect(assumed.status).toBe(0);
    expect(assumed.stdout).toContain('assuming the baseline netfence keeps in the namespaces it manages (lonely): lonely/netfence-default-deny, lonely/netfence-allow-dns (--no-baseline: judge without it)');
    const bare = runCli(['check', '-f', file, '--no-baseline']);
    expect(bare.status).toBe(1);
    expect(bare.stdout).not.toContain('assuming');
    expect(bare.stdout).toContain('[require-default-deny] metadata.namespace: namespace lonely is not default-deny');
  });

  it('a namespace that opts out keeps its own rules', () => {
    const file = join(tempDir(), 'pod.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Namespace\nmetadata: {name: lonely, labels: {netfence.io/baseline: disabled}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: lonely}\nspec: {containers: [{name: c, image: x}]}\n');
    const r = runCli(['check', '-f', file, '-o', 'json']);
    expect(JSON.parse(r.stdout).baseline).toEqual({ namespaces: [], added: [] });
  });
});
