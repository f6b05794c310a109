import type { Logger } from 'pino';
import type { KubeObject } from '../k8s/types.ts';

/** The Event calls the recorder makes (core/v1 Events). */
export interface EventApi {
  /** Creates the Event; resolves with the name the API server gave it. */
  createEvent(event: KubeObject & { metadata: { namespace: string } }): Promise<string>;
  /** A JSON merge patch of an existing Event. */
  patchEvent(namespace: string, name: string, patch: Record<string, unknown>): Promise<void>;
}

export interface EventRecorderOptions {
  identity: string;
  /** Event writes (creates and patches) allowed at once, and refilled per second after. */
  burst?: number;
  perSecond?: number;
  /** A repeat within this window updates the earlier Event's count instead of adding one. */
  windowMs?: number;
  /** Recent Events remembered for aggregation (oldest forgotten first). */
  maxRecent?: number;
  now?: () => number;
}

interface Recent {
  name: string;
  count: number;
  first: string;
  last: number;
  /** Occurrences not yet written (the write budget was spent): carried by the next write. */
  unwritten: number;
}

// Events are stored with second precision (metav1.Time): write them that way.
const time = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/**
 * Records what the reconciler did as core/v1 Events about the Namespace, aggregated as
 * client-go's EventCorrelator does, so that a burst of namespaces is not a burst of Events:
 * one Event per namespace and reason; a repeat within the window bumps its `count` and
 * `lastTimestamp` (a merge patch) instead of creating another; and every write draws on a
 * token bucket, so Event traffic stays a small, fixed share of what netfence asks of the API
 * server. Occurrences beyond the budget are counted and written with the next update, or
 * reported in one log line per interval.
 */
export class EventRecorder {
  private readonly api: EventApi;
  private readonly logger: Logger;
  private readonly o: Required<EventRecorderOptions>;
  private readonly recent = new Map<string, Recent>();
  private tokens: number;
  private refilled: number;
  private suppressed = 0;
  private lastSummary: number;
  /** Writes in flight, for tests and shutdown. */
  readonly pending = new Set<Promise<void>>();

  constructor(api: EventApi, logger: Logger, options: EventRecorderOptions) {
    this.api = api;
    this.logger = logger;
    this.o = { burst: 25, perSecond: 2, windowMs: 600_000, maxRecent: 4096, now: Date.now, ...options };
    this.tokens = this.o.burst;
    this.refilled = this.o.now();
    this.lastSummary = this.refilled;
  }

  /** Records one occurrence of `reason` about namespace `namespace`. */
  record(namespace: string, reason: string, message: string): void {
    const now = this.o.now();
    const key = `${namespace}\0${reason}`;
    let entry = this.recent.get(key);
    if (entry && now - entry.last > this.o.windowMs) {
      this.recent.delete(key);
      entry = undefined;
    }
    if (entry && entry.name === '') {
      // Its create is still in flight: the count goes with the next write.
      entry.unwritten++;
      entry.last = now;
      return;
    }
    if (!this.take(now)) {
      this.suppressed++;
      if (entry) entry.unwritten++;
      this.summarize(now);
      return;
    }
    if (entry) {
      // Most recently used last: the Map's first key is the one to forget.
      this.recent.delete(key);
      this.recent.set(key, entry);
      entry.count += 1 + entry.unwritten;
      entry.unwritten = 0;
      entry.last = now;
      const e = entry;
      this.track(
        this.api.patchEvent('default', e.name, { count: e.count, lastTimestamp: time(now), message }).catch((err: unknown) => {
          // Gone (expired after an hour, or deleted): the next occurrence creates a new one.
          this.recent.delete(key);
          this.failed(namespace, err);
        }),
      );
      return;
    }
    const first = time(now);
    const fresh: Recent = { name: '', count: 1, first, last: now, unwritten: 0 };
    this.recent.set(key, fresh);
    while (this.recent.size > this.o.maxRecent) this.recent.delete(this.recent.keys().next().value as string);
    this.track(
      this.api
        .createEvent({
          apiVersion: 'v1',
          kind: 'Event',
          // A Namespace is cluster-scoped: the API server requires its Events in `default`, as
          // client-go records them; `kubectl describe namespace` finds them there.
          metadata: { generateName: `${namespace}.`, namespace: 'default' },
          involvedObject: { apiVersion: 'v1', kind: 'Namespace', name: namespace },
          reason,
          message,
          type: 'Normal',
          source: { component: 'netfence' },
          reportingComponent: 'netfence',
          reportingInstance: this.o.identity,
          firstTimestamp: first,
          lastTimestamp: first,
          count: 1,
        })
        .then(
          (name) => {
            fresh.name = name;
          },
          (err: unknown) => {
            this.recent.delete(key);
            this.failed(namespace, err);
          },
        ),
    );
  }

  /** Logs what the budget held back, if anything, and resets the count. */
  summarize(now = this.o.now(), force = false): void {
    if (this.suppressed === 0 || (!force && now - this.lastSummary < 60_000)) return;
    this.logger.info(
      { event: 'baseline.events_suppressed', count: this.suppressed },
      `${this.suppressed} baseline Events not written (over the budget of ${this.o.perSecond}/s); the log has every action`,
    );
    this.suppressed = 0;
    this.lastSummary = now;
  }

  private take(now: number): boolean {
    this.tokens = Math.min(this.o.burst, this.tokens + ((now - this.refilled) / 1000) * this.o.perSecond);
    this.refilled = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private failed(namespace: string, err: unknown): void {
    this.logger.warn({ event: 'baseline.event_failed', namespace, err: (err as Error).message }, 'could not record the Event');
  }
}
