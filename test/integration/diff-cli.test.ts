import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const APP = 'test/fixtures/manifests/app-repo';
const AFTER = ['--after', `${APP}/workloads.yaml`, '--after', `${APP}/namespaces.json`, '--after', 'test/fixtures/diff/policies-after.yaml'];

describe('netfence diff: change impact for pull requests', () => {
  it('lists per workload, per tier and per connection what the change opens and closes; exit 1 when it opens', () => {
    const r = runCli(['diff', '--before', APP, ...AFTER]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('production/cronjob/report\n  egress newly admits (to): pods app=postgres in namespace production on TCP/5432');
    // Narrowed from (almost) anywhere to a partner /24: closes, does not open.
    expect(r.stdout).toContain('production/deployment/api\n  ingress no longer admits (from): addresses every IPv4 address except 10.0.0.0/8, 203.0.113.0/24 on TCP/8080 (http); anywhere on TCP/8080 (http)\n');
    expect(r.stdout).toContain('production/statefulset/postgres\n  ingress newly admits (from): allNamespaces on TCP/5432 (pg); otherNamespaces on TCP/5432 (pg)');
    expect(r.stdout).toContain('tier data in production\n  ingress newly admits (from): allNamespaces on TCP/pg');
    expect(r.stdout).toContain('connections newly allowed:\n  production/cronjob/report -> production/statefulset/postgres TCP/5432 (pg)');
    expect(r.stdout).toContain('the change opens something (exit 1)');
  });

  it('-o json for tools; the reverse change closes the connection; no change: exit 0', () => {
    const r = runCli(['diff', '--before', `${APP}/workloads.yaml`, '--before', `${APP}/namespaces.json`, '--before', 'test/fixtures/diff/policies-after.yaml', '--after', APP, '-o', 'json']);
    const report = JSON.parse(r.stdout);
    // Reverse: the API's internet rule widens again, which opens.
    expect(report.opens).toBe(true);
    expect(report.connections).toEqual({ opened: [], closed: ['production/cronjob/report -> production/statefulset/postgres TCP/5432 (pg)'] });
    const same = runCli(['diff', '--before', APP, '--after', APP]);
    expect(same.status).toBe(0);
    expect(same.stdout.trim()).toBe('no change in what the NetworkPolicies admit');
  });

  it('bad input: exit 2', () => {
    expect(runCli(['diff', '--before', APP]).status).toBe(2);
    const r = runCli(['diff', '--before', APP, '--after', 'nope/']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('nope/ (document 1): no such file or directory');
  });
});
