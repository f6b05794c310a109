import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { configWith } from '../../test/helpers/rules-world.ts';
import { MutableView } from '../../test/helpers/mutable-view.ts';
import type { PolicyReport } from '../report/policy-report.ts';
import { reportContent } from '../report/policy-report.ts';
import type { ReportWriter, StoredReport } from '../report/writer.ts';
import { AuditController, auditGauges } from './controller.ts';
import { AuditEngine } from './engine.ts';

class FakeLeader extends EventEmitter<{ started: []; stopped: [] }> {
  leading = true;
  isLeader(): boolean {
    return this.leading;
  }
}

class FakeWriter implements ReportWriter {
  crds = true;
  writes: PolicyReport[] = [];
  store = new Map<string, StoredReport>();
  async installed(): Promise<boolean> {
    return this.crds;
  }
  async list(): Promise<Map<string, StoredReport>> {
    return new Map(this.store);
  }
  async write(report: PolicyReport): Promise<string> {
    this.writes.push(report);
    const rv = String(this.writes.length);
    this.store.set(report.metadata.namespace ?? '', { content: reportContent(report), resourceVersion: rv });
    return rv;
  }
}

function setup(): { view: MutableView; writer: FakeWriter; leader: FakeLeader; controller: AuditController; logs: string[] } {
  const view = new MutableView([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } } },
  ]);
  const config = configWith();
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const writer = new FakeWriter();
  const leader = new FakeLeader();
  const engine = new AuditEngine(view, config, { netfenceNamespace: 'netfence-system' });
  const controller = new AuditController({ engine, config: () => config, leader, writer, logger, clock: () => new Date('2026-11-22T00:00:00Z') });
  return { view, writer, leader, controller, logs };
}

describe('AuditController first pass held for the reconciler', () => {
  // hold: what holdFirstPass answers at each cycle; clock: ms since the view synced at each cycle.
  const cases: Array<[string, boolean[], number[], number[]]> = [
    ['no hold: the first cycle judges', [false], [0], [2]],
    ['held while the reconciler works, then judged at once', [true, true, false], [0, 1_000, 2_000], [0, 0, 2]],
    ['held no longer than the limit, even if the reconciler never drains', [true, true, true], [0, 200_000, 300_000], [0, 0, 2]],
  ];
  it.each(cases)('%s', async (_what, holds, times, judged) => {
    const view = new MutableView([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } } },
    ]);
    const config = configWith();
    const engine = new AuditEngine(view, config, { netfenceNamespace: 'netfence-system' });
    let i = 0;
    const t0 = Date.parse('2026-11-22T00:00:00Z');
    const controller = new AuditController({
      engine,
      config: () => config,
      leader: new FakeLeader(),
      logger: pino({ level: 'silent' }),
      clock: () => new Date(t0 + times[i]!),
      holdFirstPass: () => holds[i]!,
    });
    const got: number[] = [];
    for (i = 0; i < holds.length; i++) {
      await controller.cycle();
      got.push(engine.judged);
    }
    expect(got).toEqual(judged);
  });
});

describe('AuditController', () => {
  it('writes a PolicyReport per namespace and the ClusterPolicyReport, then only what changed', async () => {
    const { view, writer, controller } = setup();
    await controller.cycle();
    expect(writer.writes.map((r) => `${r.kind}/${r.metadata.namespace ?? ''}`).sort()).toEqual(['ClusterPolicyReport/', 'PolicyReport/shop']);
    expect(writer.writes.find((r) => r.kind === 'PolicyReport')!.summary.fail).toBe(1); // shop is not default-deny
    await controller.cycle();
    expect(writer.writes).toHaveLength(2); // nothing changed, nothing written
    view.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'dd', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } });
    await controller.cycle();
    const after = writer.writes.slice(2);
    expect(after.map((r) => r.kind).sort()).toEqual(['ClusterPolicyReport', 'PolicyReport']);
    expect(after.find((r) => r.kind === 'PolicyReport')!.summary).toMatchObject({ fail: 0, pass: 6 }) // the pod's 3 rules and the new policy's 3;
  });

  it('a new leader writes only reports that differ from the stored ones', async () => {
    const first = setup();
    await first.controller.cycle();
    const second = setup();
    second.writer.store = first.writer.store;
    await second.controller.cycle();
    expect(second.writer.writes).toHaveLength(0);
  });

  it('writes nothing when not the leader', async () => {
    const { writer, leader, controller } = setup();
    leader.leading = false;
    await controller.cycle();
    expect(writer.writes).toHaveLength(0);
  });

  it('without the CRDs, logs once that reports are off and keeps auditing', async () => {
    const { writer, controller, logs } = setup();
    writer.crds = false;
    await controller.cycle();
    await controller.cycle();
    expect(writer.writes).toHaveLength(0);
    expect(logs.filter((l) => l.includes('"reports.off"'))).toHaveLength(1);
  });

  it('gauges: namespaces by default-deny state, violations by rule and mode, exemptions expiring within 7 days', () => {
    const view = new MutableView([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'i', namespace: 'b' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
    ]);
    const now = new Date('2026-11-22T00:00:00Z');
    const config = configWith({ exemptions: [{ id: 'soon', namespaces: ['x'], rules: ['require-default-deny'], reason: 'r', expires: '2026-11-25T00:00:00Z' }] });
    const engine = new AuditEngine(view, config, { netfenceNamespace: 'netfence-system' });
    engine.runAll(now);
    expect(auditGauges(engine, config, now)).toEqual({
      namespaces: { both: 0, ingress: 1, egress: 0, none: 1 },
      violations: [{ rule: 'require-default-deny', mode: 'audit', count: 2 }], // neither namespace is adopted
      exemptionsExpiringSoon: 1,
    });
  });
});
