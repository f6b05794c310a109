import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';

const OTHER = 'other';
const ENDPOINTS: ReadonlySet<string> = new Set(['validate', 'mutate']);
const OPERATIONS: ReadonlySet<string> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
const DECISIONS: ReadonlySet<string> = new Set(['allow', 'warn', 'deny']);
/** The versions netfence's webhooks register for every kind (deploy/webhooks.yaml). */
export const REVIEW_VERSIONS: readonly string[] = ['v1'];

/**
 * Every metric netfence exports, on a registry of its own (never prom-client's global one), so
 * that two apps in one process (tests, the bench) do not share counters.
 */
export class Metrics {
  readonly registry = new Registry();

  // The per-review metrics are counted in plain numbers and handed to prom-client at scrape
  // time: prom-client hashes and validates the labels on every inc/observe, even on a label
  // child, which measured 2-6 µs per review against well under 0.1 µs for a plain add.
  private readonly reviewCounts = new Map<string, { labels: [string, string, string, string]; n: number }>();

  readonly reviews: Counter<'endpoint' | 'kind' | 'operation' | 'decision'> = new Counter({
    name: 'netfence_admission_reviews_total',
    help: 'AdmissionReviews answered, by webhook, kind (group/version/kind), operation and decision.',
    labelNames: ['endpoint', 'kind', 'operation', 'decision'] as const,
    registers: [this.registry],
    collect: () => {
      this.reviews.reset();
      for (const { labels, n } of this.reviewCounts.values()) this.reviews.labels(...labels).inc(n);
    },
  });

  readonly duration = new FastHistogram(
    'netfence_admission_review_duration_seconds',
    'Time from a decoded AdmissionReview to its encoded answer.',
    'endpoint',
    // Decisions take tens of microseconds: buckets start at 50µs so the histogram shows them.
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    this.registry,
  );

  readonly decisionErrors = new Counter({
    name: 'netfence_admission_errors_total',
    help: 'Decisions that failed with an internal error and were denied (fail closed).',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  // status is always a code netfence itself chose (400, 401, 408, 413, 415, ...), never copied.
  readonly badRequests = new Counter({
    name: 'netfence_bad_requests_total',
    help: 'Requests answered 4xx because the body was not an AdmissionReview (or too large).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly configReloads = new Counter({
    name: 'netfence_config_reloads_total',
    help: 'Config reloads by result: success (new config in force) or failure (last good config kept).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly configInfo = new Gauge({
    name: 'netfence_config_info',
    help: 'The config in force: 1 for its hash and source.',
    labelNames: ['hash', 'source'] as const,
    registers: [this.registry],
  });

  readonly certificateExpiry = new Gauge({
    name: 'netfence_certificate_expiry_timestamp_seconds',
    help: 'When the serving certificate in use expires (Unix time).',
    registers: [this.registry],
  });

  readonly certificateReloads = new Counter({
    name: 'netfence_certificate_reloads_total',
    help: 'Serving certificate reloads by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly watchRestarts = new Counter({
    name: 'netfence_cluster_watch_restarts_total',
    help: 'Watches of the live cluster view restarted, by resource and reason: error (failed; resumed after a backoff), expired (410: listed again), silent (dead connection), closed (ended early by the API server). A watch ending at its own timeout is not a restart.',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });

  readonly baselineActions = new Counter({
    name: 'netfence_baseline_actions_total',
    help: 'Baseline NetworkPolicies created or restored by the reconciler, by action and result.',
    labelNames: ['action', 'result'] as const,
    registers: [this.registry],
  });

  readonly baselineQueue = new Gauge({
    name: 'netfence_baseline_queue_depth',
    help: 'Namespaces waiting for the baseline reconciler.',
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: 'netfence_leader',
    help: '1 when this replica holds the baseline Lease (and reconciles), else 0.',
    registers: [this.registry],
  });

  private stalenessSource: (() => Record<string, number>) | undefined;

  readonly cacheStaleness = new Gauge({
    name: 'netfence_cluster_cache_staleness_seconds',
    help: 'Seconds since each live cache last heard from the API server (list, event or bookmark).',
    labelNames: ['resource'] as const,
    registers: [this.registry],
    collect: () => {
      if (!this.stalenessSource) return;
      this.cacheStaleness.reset();
      for (const [resource, seconds] of Object.entries(this.stalenessSource())) {
        this.cacheStaleness.labels(resource).set(Number.isFinite(seconds) ? seconds : -1);
      }
    },
  });

  private auditSource: (() => AuditGauges) | undefined;

  readonly auditNamespaces = new Gauge({
    name: 'netfence_audit_namespaces',
    help: 'Namespaces judged by the background audit, by default-deny state: both (Ingress and Egress), ingress (only), egress (only), none.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      const g = this.auditSource?.();
      if (!g) return;
      this.auditNamespaces.reset();
      for (const [state, n] of Object.entries(g.namespaces)) this.auditNamespaces.labels(state).set(n);
    },
  });

  readonly auditViolations = new Gauge({
    name: 'netfence_audit_violations',
    help: 'Rule violations of existing objects found by the background audit, by rule and mode (exempted ones excluded).',
    labelNames: ['rule', 'mode'] as const,
    registers: [this.registry],
    collect: () => {
      const g = this.auditSource?.();
      if (!g) return;
      this.auditViolations.reset();
      for (const v of g.violations) this.auditViolations.labels(v.rule, v.mode).set(v.count);
    },
  });

  readonly exemptionsExpiringSoon = new Gauge({
    name: 'netfence_exemptions_expiring_soon',
    help: 'Exemptions of the config in force that expire within the next 7 days.',
    registers: [this.registry],
    collect: () => {
      const g = this.auditSource?.();
      if (g) this.exemptionsExpiringSoon.set(g.exemptionsExpiringSoon);
    },
  });

  readonly policyReportWrites = new Counter({
    name: 'netfence_policy_report_writes_total',
    help: 'PolicyReport and ClusterPolicyReport writes by result (success, failure).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly auditJudged = new Counter({
    name: 'netfence_audit_objects_judged_total',
    help: 'Objects judged by the background audit (first pass, re-judgements after changes, periodic passes).',
    registers: [this.registry],
  });

  /** The audit's gauges are read at scrape time from the audit. */
  observeAudit(source: () => AuditGauges): void {
    this.auditSource = source;
  }

  // The longest event-loop delay since the first readiness: admission waits that long, whatever the cause
  // (a cache sync, a relist, a reconcile pass). prom-client's own lag metrics reset per scrape.
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  readonly eventLoopMaxStall = new Gauge({
    name: 'netfence_event_loop_max_stall_seconds',
    help: 'Longest event-loop delay since the replica was first ready (10 ms sampling), seconds: the longest an admission request can have waited for the event loop.',
    registers: [this.registry],
    collect: () => {
      this.eventLoopMaxStall.set(this.loopDelay.max / 1e9);
    },
  });

  private kubeSource: (() => { connectionsOpened: number; requests: Record<string, number> }) | undefined;

  readonly kubeRequests = new Counter({
    name: 'netfence_kube_api_requests_total',
    help: 'Requests sent to the Kubernetes API server, by verb (get, list, watch, create, update, patch, delete).',
    labelNames: ['verb'] as const,
    registers: [this.registry],
    collect: () => {
      if (!this.kubeSource) return;
      this.kubeRequests.reset();
      for (const [verb, n] of Object.entries(this.kubeSource().requests)) this.kubeRequests.labels(verb).inc(n);
    },
  });

  readonly kubeConnections = new Counter({
    name: 'netfence_kube_api_connections_opened_total',
    help: 'Connections opened to the Kubernetes API server (all requests share one keep-alive pool).',
    registers: [this.registry],
    collect: () => {
      if (!this.kubeSource) return;
      this.kubeConnections.reset();
      this.kubeConnections.inc(this.kubeSource().connectionsOpened);
    },
  });

  constructor() {
    // GC pauses with a bucket at 50 ms: an admission request waits out a pause like any stall.
    collectDefaultMetrics({ register: this.registry, prefix: 'netfence_', gcDurationBuckets: [0.001, 0.01, 0.025, 0.05, 0.1, 0.25, 1] });
    this.loopDelay.enable();
  }

  /** The replica is ready for the first time: returns the longest stall so far (seconds) and counts anew. */
  firstReady(): number {
    const max = this.loopDelay.max / 1e9;
    this.loopDelay.reset();
    return max;
  }

  /** API client counters are read at scrape time. */
  observeKubeClient(source: () => { connectionsOpened: number; requests: Record<string, number> }): void {
    this.kubeSource = source;
  }

  /** Staleness is read at scrape time from the live view. */
  observeStaleness(source: () => Record<string, number>): void {
    this.stalenessSource = source;
  }

  /**
   * The values the `kind` label may take: the kinds netfence judges. Every label value comes
   * from a fixed set: a label copied from requests would let any client that reaches the port
   * create series without bound (200,000 made-up kinds once took RSS to 1.1 GB).
   */
  private reviewKinds: ReadonlySet<string> = new Set();

  /**
   * The kinds netfence has handlers for, as `group/version/kind` labels at the versions its
   * webhooks register (`v1`; with `matchPolicy: Equivalent` the API server converts every
   * request to it). Any other kind is counted as `other`.
   */
  setReviewKinds(kinds: Iterable<{ group: string; kind: string }>, versions: readonly string[] = REVIEW_VERSIONS): void {
    const labels = new Set<string>();
    for (const { group, kind } of kinds) for (const version of versions) labels.add(`${group || 'core'}/${version}/${kind}`);
    this.reviewKinds = labels;
  }


  /**
   * One answered review: its count by labels and its duration. `kind` is `group/version/kind`,
   * `other` when netfence has no handler for it; endpoint, operation and decision are checked
   * by the decoder and the decision, and counted as `other` should anything else arrive.
   */
  countReview(endpoint: string, gvk: string, operation: string, decision: string, seconds: number): void {
    if (!ENDPOINTS.has(endpoint)) endpoint = OTHER;
    if (!OPERATIONS.has(operation)) operation = OTHER;
    if (!DECISIONS.has(decision)) decision = OTHER;
    const kind = this.reviewKinds.has(gvk) ? gvk : OTHER;
    const key = `${endpoint}\0${kind}\0${operation}\0${decision}`;
    // Bounded: every label is from a fixed set.
    const count = this.reviewCounts.get(key);
    if (count) count.n += 1;
    else this.reviewCounts.set(key, { labels: [endpoint, kind, operation, decision], n: 1 });
    this.duration.observe(endpoint, seconds);
  }

  setConfig(hash: string, source: string): void {
    this.configInfo.reset();
    this.configInfo.labels(hash, source).set(1);
  }
}

/**
 * A histogram with one label, counted in plain arrays and written out by prom-client's
 * registry at scrape time (the shape of prom-client's own histogram: cumulative `_bucket`
 * series with `le` first, `+Inf`, `_sum` and `_count`).
 */
class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { buckets: Float64Array; sum: number; count: number }>();
  readonly name: string;
  readonly help: string;
  private readonly label: string;
  private readonly bounds: readonly number[];

  constructor(name: string, help: string, label: string, bounds: readonly number[], registry: Registry) {
    this.name = name;
    this.help = help;
    this.label = label;
    this.bounds = bounds;
    registry.registerMetric(this as unknown as Metric);
  }

  observe(labelValue: string, value: number): void {
    let s = this.series.get(labelValue);
    if (!s) {
      s = { buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.series.set(labelValue, s);
    }
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    if (i < this.bounds.length) s.buckets[i]! += 1;
    s.sum += value;
    s.count += 1;
  }

  reset(): void {
    this.series.clear();
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> } {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const [labelValue, s] of this.series) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, [this.label]: labelValue }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', [this.label]: labelValue }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.label]: labelValue }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.label]: labelValue }, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** What the background audit exports, computed at scrape time. */
export interface AuditGauges {
  namespaces: Record<'both' | 'ingress' | 'egress' | 'none', number>;
  violations: Array<{ rule: string; mode: string; count: number }>;
  exemptionsExpiringSoon: number;
}
