import type { Logger } from 'pino';
import type { Timers } from './queue.ts';
import { realTimers } from './queue.ts';

/** What a failure is, for aggregation: the same cause in 5,000 namespaces is one problem. */
export interface Cause {
  /** Stable text naming the cause: `409 Conflict`, `ECONNREFUSED`, … */
  key: string;
  /** 'info' for the expected races of optimistic concurrency, 'error' for the rest. */
  level: 'info' | 'error';
}

/** The cause of a failed API call: HTTP status and reason, or the socket error code. */
export function causeOf(err: unknown): Cause {
  const e = err as { status?: unknown; statusCode?: unknown; code?: unknown; reason?: unknown; message?: unknown; cause?: { code?: unknown } } | undefined;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : undefined;
  if (status !== undefined) {
    const reason = typeof e?.reason === 'string' && e.reason ? ` ${e.reason}` : '';
    // 409 (changed since read, or created meanwhile) and 404 (deleted meanwhile) are races that
    // the next attempt, on a fresher cache, resolves.
    return { key: `${status}${reason}`, level: status === 409 || status === 404 ? 'info' : 'error' };
  }
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  if (code) return { key: code, level: 'error' };
  return { key: typeof e?.message === 'string' ? e.message.slice(0, 200) : String(err).slice(0, 200), level: 'error' };
}

interface Tally {
  level: Cause['level'];
  count: number;
  namespaces: string[];
  lastError: string;
}

/**
 * Logs failures once per cause per interval: the first occurrence of a cause at once (so the
 * operator sees it start), then one line per interval with how many namespaces it hit and a
 * few of their names. An API-server outage during a pass over 5,000 namespaces is one line a
 * minute, not 5,000.
 */
export class RetryLog {
  private readonly tallies = new Map<string, Tally>();
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private readonly timers: Timers;
  private timer: unknown;
  private static readonly SAMPLE = 5;

  constructor(logger: Logger, options: { intervalMs?: number; timers?: Timers } = {}) {
    this.logger = logger;
    this.intervalMs = options.intervalMs ?? 60_000;
    this.timers = options.timers ?? realTimers;
  }

  report(namespace: string, err: unknown, delayMs: number): void {
    const cause = causeOf(err);
    const message = err instanceof Error ? err.message : String(err);
    const tally = this.tallies.get(cause.key);
    if (!tally) {
      this.tallies.set(cause.key, { level: cause.level, count: 0, namespaces: [], lastError: message });
      this.logger[cause.level](
        { event: 'baseline.retry', cause: cause.key, namespace, delayMs, err: message },
        `baseline not in place yet (${cause.key}); retrying with backoff. Further failures with this cause are counted and logged once a minute`,
      );
      this.timer ??= this.timers.setTimeout(() => this.flush(), this.intervalMs);
      return;
    }
    tally.count++;
    tally.lastError = message;
    if (tally.namespaces.length < RetryLog.SAMPLE && !tally.namespaces.includes(namespace)) tally.namespaces.push(namespace);
  }

  /** Logs one line per cause seen again since the last flush; a cause not seen again is dropped. */
  flush(): void {
    this.timer = undefined;
    for (const [key, tally] of this.tallies) {
      if (tally.count === 0) {
        this.tallies.delete(key);
        continue;
      }
      this.logger[tally.level](
        { event: 'baseline.retry', cause: key, count: tally.count, namespaces: tally.namespaces, intervalMs: this.intervalMs, err: tally.lastError },
        `baseline retries (${key}): ${tally.count} in the last ${Math.round(this.intervalMs / 1000)} s`,
      );
      tally.count = 0;
      tally.namespaces = [];
    }
    if (this.tallies.size > 0) this.timer = this.timers.setTimeout(() => this.flush(), this.intervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
