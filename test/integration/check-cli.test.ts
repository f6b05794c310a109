import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { defaultConfig } from '../../src/config/default.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/server.ts';

const FILE = 'test/fixtures/check/violations.yaml';

describe('netfence check', () => {
  it('judges every object as admission would and exits 1 on violations', () => {
    const r = runCli(['check', '-f', FILE]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${FILE} (document 5): NetworkPolicy payments/ledger-from-everyone: DENY`);
    expect(r.stdout).toContain('denied: [data-no-ingress-from-anywhere] spec.ingress[0].from[0].namespaceSelector: namespaceSelector {} admits every namespace, including ones created later; its podSelector selects payments/ledger-0, a pod of tier data');
    expect(r.stdout).toContain(`${FILE} (document 6): NetworkPolicy payments/ledger-from-partner: WARN`);
    expect(r.stdout).toContain('warning: [data-only-from-logic] spec.ingress[0].from[0]: admits an ipBlock (addresses outside the cluster) into tier data');
    // The pod is judged against the policies of the same files: the leaky one opens it.
    expect(r.stdout).toContain(`${FILE} (document 3): Pod payments/ledger-0: DENY\n  denied: [data-no-ingress-from-anywhere] metadata.labels: NetworkPolicy ledger-from-everyone selects this pod of tier data`);
    expect(r.stdout).not.toContain('ledger-from-logic');
    expect(r.stdout).toContain('7 objects judged: 2 denied, 1 with warnings, 4 allowed');
  });

  it('-o json lists every object with its decision', () => {
    const r = runCli(['check', '-f', FILE, '-o', 'json']);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toEqual({ objects: 7, denied: 2, warned: 1, allowed: 4 });
    expect(out.results.map((x: { kind: string; name: string; decision: string }) => `${x.kind}/${x.name}:${x.decision}`)).toEqual([
      'Namespace/payments:allow',
      'NetworkPolicy/netfence-default-deny:allow',
      'Pod/ledger-0:deny',
      'NetworkPolicy/ledger-from-logic:allow',
      'NetworkPolicy/ledger-from-everyone:deny',
      'NetworkPolicy/ledger-from-partner:warn',
      'Deployment/api:allow',
    ]);
    // Documents are numbered from 1, as in the text output.
    expect(out.results[4].source).toEqual({ file: FILE, document: 5, path: '', line: 24 });
  });

  it('exits 0 when clean (warnings allowed) and uses --config', () => {
    const dir = tempDir();
    const config = defaultConfig();
    config.rules = config.rules.map((r) => (r.id === 'data-no-ingress-from-anywhere' ? { ...r, mode: 'warn' as const } : r));
    writeFileSync(join(dir, 'config.yaml'), stringify(config));
    const r = runCli(['check', '-f', FILE, '--config', join(dir, 'config.yaml')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('7 objects judged: 0 denied, 3 with warnings, 4 allowed');
  });

  it('judges pods against the policies in the same files (not default-deny: denied)', () => {
    const file = join(tempDir(), 'pod.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: lonely}\nspec: {containers: [{name: c, image: x}]}\n');
    const r = runCli(['check', '-f', file, '--no-baseline']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('[require-default-deny] metadata.namespace: namespace lonely is not default-deny');
  });

  it('warns about a tier that selects no pod of the manifests (pods and pod templates count)', () => {
    const clean = runCli(['check', '-f', FILE]);
    expect(clean.stdout).not.toContain('selects no pod');
    const file = join(tempDir(), 'other-labels.yaml');
    writeFileSync(file, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db, namespace: shop}\nspec: {template: {metadata: {labels: {app.kubernetes.io/component: database}}}}\n');
    const r = runCli(['check', '-f', file]);
    expect(r.stdout).toContain('warning: tier data (tier=data) selects no pod in the manifests: the rules that name it (data-no-ingress-from-anywhere, data-no-egress-to-internet, data-only-from-logic) apply to no pod');
    expect(r.stdout).toContain('warning: tier logic (tier=logic) selects no pod in the manifests: the rules that name it (data-only-from-logic) apply to no pod');
    const json = JSON.parse(runCli(['check', '-f', file, '-o', 'json']).stdout);
    expect(json.warnings).toHaveLength(2);
  });

  it('exits 2 on bad input with file, document and field path', () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelector: {matchExpressions: [{key: a, operator: Equals}]}\n');
    const r = runCli(['check', '-f', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file} (document 1): NetworkPolicy p would be refused by the API server`);
    expect(r.stderr).toContain('spec.podSelector.matchExpressions[0].operator: "Equals" is not a valid selector operator');
    const missing = runCli(['check', '-f', join(tempDir(), 'nope.yaml')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no such file or directory');
    const badConfig = join(tempDir(), 'c.yaml');
    writeFileSync(badConfig, 'apiVersion: netfence.io/v1alpha1\nkind: NetfenceConfig\nrules: [{id: x, type: nope}]\n');
    const c = runCli(['check', '-f', FILE, '--config', badConfig]);
    expect(c.status).not.toBe(0);
    expect(c.stderr).toContain('rules[0].type');
  });
});
