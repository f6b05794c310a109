import { describe, expect, it } from 'vitest';
import { validateNetworkPolicy } from '../../src/netpol/validate.ts';
import { evaluateConnection } from '../../src/netpol/reach.ts';
import { buildIndex, endpoint, expandTable, loadScenarios } from '../helpers/netpol-model.ts';

const scenarios = loadScenarios();

describe('NetworkPolicy conformance (upstream e2e scenarios)', () => {
  it('covers at least 20 scenarios and 100 connections', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(20);
    let connections = 0;
    for (const s of scenarios) {
      const { pods } = buildIndex(s);
      for (const t of s.tables ?? []) connections += expandTable(t, pods).length;
      connections += s.connections?.length ?? 0;
    }
    expect(connections).toBeGreaterThanOrEqual(100);
  });

  it.each(scenarios.map((s) => [`${s.file}: ${s.name}`, s] as const))('%s', (_name, scenario) => {
    for (const p of scenario.policies) {
      const errors = validateNetworkPolicy({ metadata: { name: p.name }, spec: p.spec });
      expect(errors, `${p.name} must be a valid NetworkPolicy`).toEqual([]);
    }
    const { index, view, pods } = buildIndex(scenario);
    const mismatches: string[] = [];
    for (const table of scenario.tables ?? []) {
      for (const { from, to, allowed } of expandTable(table, pods)) {
        const verdict = evaluateConnection(index, {
          from: endpoint(view, `${from.namespace}/${from.name}`),
          to: endpoint(view, `${to.namespace}/${to.name}`),
          port: table.port,
          protocol: table.protocol,
        });
        if (verdict.allowed !== allowed) {
          mismatches.push(`${from.namespace}/${from.name} -> ${to.namespace}/${to.name} ${table.protocol}/${table.port}: expected ${allowed ? 'allowed' : 'denied'}`);
        }
      }
    }
    for (const c of scenario.connections ?? []) {
      const verdict = evaluateConnection(index, { from: endpoint(view, c.from), to: endpoint(view, c.to), port: c.port, protocol: c.protocol });
      if (verdict.allowed !== c.allowed) mismatches.push(`${c.from} -> ${c.to} ${c.protocol}/${c.port}: expected ${c.allowed ? 'allowed' : 'denied'}`);
    }
    expect(mismatches).toEqual([]);
  });
});
