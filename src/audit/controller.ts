import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Leadership } from '../baseline/controller.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { statusOf } from '../kube/client.ts';
import { buildPolicyReport, MAX_RESULTS_PER_REPORT, reportContent } from '../report/policy-report.ts';
import type { ReportWriter, StoredReport } from '../report/writer.ts';
import { CLUSTER_SCOPE, type AuditEngine } from './engine.ts';
import type { AuditGauges, Metrics } from './metrics.ts';

export interface AuditControllerOptions {
  engine: AuditEngine;
  /** The config in force, read at each cycle (a reload re-judges everything). */
  config: () => NetfenceConfig;
  leader: Leadership;
  /** Where PolicyReports go; undefined: reports off (the audit still runs, for metrics). */
  writer?: ReportWriter;
  logger: Logger;
  metrics?: Metrics;
  clock?: () => Date;
  /** How often the view is compared with what was judged (and expired exemptions noticed). */
  syncIntervalMs?: number;
  /** The slow periodic pass: everything judged again. */
  fullPassIntervalMs?: number;
  /** Longest stretch of judging before yielding to the event loop (admission). */
  sliceMs?: number;
  /** How often to look again for the PolicyReport CRDs when they are missing. */
  crdRecheckMs?: number;
  cap?: number;
  /** Whether the view reflects the cluster: nothing is judged (or written) from a half-filled cache. */
  synced?: () => boolean;
  /**
   * True while the first pass should wait: serve holds it while the reconciler writes the
   * baselines of a new replica's first pass (thousands of writes, each changing what the audit
   * would have just judged), up to maxFirstPassHoldMs after the view synced.
   */
  holdFirstPass?: () => boolean;
  maxFirstPassHoldMs?: number;
}

const DAY_MS = 86_400_000;

/** The audit's gauges: its counts, kept as objects are judged (a scrape walks no object). */
export function auditGauges(engine: AuditEngine, config: NetfenceConfig, now: Date): AuditGauges {
  const t = now.getTime();
  const exemptionsExpiringSoon = config.exemptions.filter((e) => {
    const at = e.expires ? Date.parse(e.expires) : NaN;
    return at > t && at - t <= 7 * DAY_MS;
  }).length;
  return { ...engine.counts(), exemptionsExpiringSoon };
}

/**
 * Runs the background audit next to the webhook: every few seconds it compares the cluster view
 * with what was judged and re-judges what changed, in short slices so that admission requests
 * are never kept waiting; on the leader only, it writes the PolicyReports whose content changed.
 * It writes nothing else, and a failed or missing report API never affects admission.
 */
export class AuditController {
  private readonly o: Required<Omit<AuditControllerOptions, 'writer' | 'metrics'>> & Pick<AuditControllerOptions, 'writer' | 'metrics'>;
  /** When the first pass first found the view synced (its hold counts from then). */
  private syncedAt: number | undefined;
  private started = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private lastFull = 0;
  /** The reports in the cluster as last read or written; undefined until read as leader. */
  private stored: Map<string, StoredReport> | undefined;
  private readonly toWrite = new Set<string>();
  private reportsOff: { since: number } | undefined;
  private running: Promise<void> | undefined;
  private readonly onLeaderChange = (): void => {
    this.stored = undefined;
    this.wake?.();
  };

  constructor(options: AuditControllerOptions) {
    this.o = {
      clock: () => new Date(),
      syncIntervalMs: 2_000,
      fullPassIntervalMs: 600_000,
      sliceMs: 5,
      crdRecheckMs: 300_000,
      cap: MAX_RESULTS_PER_REPORT,
      synced: () => true,
      holdFirstPass: () => false,
      maxFirstPassHoldMs: 300_000,
      ...options,
    };
    this.o.metrics?.observeAudit(() => auditGauges(this.o.engine, this.o.config(), this.o.clock()));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.o.leader.on('started', this.onLeaderChange);
    this.o.leader.on('stopped', this.onLeaderChange);
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.leader.off('started', this.onLeaderChange);
    this.o.leader.off('stopped', this.onLeaderChange);
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.cycle();
      } catch (err) {
        this.o.logger.error({ event: 'audit.failed', err }, 'background audit cycle failed; retrying at the next one');
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.o.syncIntervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** One round: notice changes, judge them in slices, write the reports that changed (leader). */
  async cycle(): Promise<void> {
    const { engine } = this.o;
    if (!this.o.synced()) return;
    const now = this.o.clock();
    const first = this.lastFull === 0;
    if (first) {
      this.syncedAt ??= now.getTime();
      const held = now.getTime() - this.syncedAt;
      if (held < this.o.maxFirstPassHoldMs && this.o.holdFirstPass()) return;
      if (held > 0) this.o.logger.info({ event: 'audit.started', heldMs: held }, 'background audit starting its first pass (held while the baselines were written)');
    }
    engine.setConfig(this.o.config());
    if (now.getTime() - this.lastFull >= this.o.fullPassIntervalMs) {
      engine.markAll();
      this.lastFull = now.getTime();
    }
    engine.sync(now);
    const started = performance.now();
    let judged = 0;
    while (engine.pendingCount > 0 && !this.stopped) {
      const n = engine.judgePending(now, performance.now() + this.o.sliceMs);
      judged += n;
      this.o.metrics?.auditJudged.inc(n);
      await yieldToLoop();
    }
    if (first || judged > 1000) {
      this.o.logger.info({ event: 'audit.pass', judged, durationMs: Math.round(performance.now() - started) }, `background audit judged ${judged} objects`);
    }
    for (const scope of engine.takeDirty()) this.toWrite.add(scope);
    if (this.o.leader.isLeader() && !this.stopped) await this.writeReports(now);
  }

  private async writeReports(now: Date): Promise<void> {
    const { writer, logger } = this.o;
    if (!writer) return;
    if (!this.stored) {
      if (this.reportsOff && now.getTime() - this.reportsOff.since < this.o.crdRecheckMs) return;
      if (!(await writer.installed())) {
        if (!this.reportsOff) {
          logger.warn({ event: 'reports.off' }, 'the wgpolicyk8s.io/v1alpha2 PolicyReport CRDs are not installed: PolicyReports are off (install deploy/policyreports/ to turn them on); the audit and admission carry on');
        }
        this.reportsOff = { since: now.getTime() };
        return;
      }
      if (this.reportsOff) logger.info({ event: 'reports.on' }, 'PolicyReport CRDs found: writing PolicyReports');
      this.reportsOff = undefined;
      this.stored = await writer.list();
      // A new leader compares every scope with what is stored, and writes only the differences.
      for (const ns of this.o.engine.namespaceNames()) this.toWrite.add(ns);
      this.toWrite.add(CLUSTER_SCOPE);
    }
    for (const scope of [...this.toWrite]) {
      if (this.stopped || !this.o.leader.isLeader() || !this.stored) return;
      this.toWrite.delete(scope);
      const objects = scope === CLUSTER_SCOPE ? this.o.engine.clusterResults() : this.o.engine.namespaceResults(scope);
      const have = this.stored.get(scope);
      if (objects.length === 0 && !have) continue;
      const report = buildPolicyReport(scope === CLUSTER_SCOPE ? undefined : scope, objects, now, this.o.cap);
      const content = reportContent(report);
      if (have?.content === content) continue;
      try {
        const resourceVersion = await writer.write(report, have?.resourceVersion);
        this.stored.set(scope, { content, resourceVersion });
        this.o.metrics?.policyReportWrites.inc({ result: 'success' });
      } catch (err) {
        const status = statusOf(err);
        this.o.metrics?.policyReportWrites.inc({ result: 'failure' });
        if (status === 404 && scope !== CLUSTER_SCOPE) {
          // The namespace is gone (or going): its report goes with it.
          this.stored.delete(scope);
          continue;
        }
        logger.warn({ event: 'reports.write_failed', namespace: scope || undefined, status, err: (err as Error).message }, 'writing a PolicyReport failed; retrying at the next cycle');
        this.toWrite.add(scope);
        // 409: someone else wrote it; read them all again before the next write.
        if (status === 409) this.stored = undefined;
        return;
      }
    }
  }
}
