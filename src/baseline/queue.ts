/**
 * Which line an item waits in. `new` items (a namespace whose baseline the reconciler has never
 * seen in place) are served before `normal` ones (resyncs, config changes, repairs), so that a
 * burst of new namespaces never waits behind a pass over every namespace of the cluster.
 */
export type Priority = 'new' | 'normal';

/** Timers, injectable so that tests drive time themselves. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface WorkQueueOptions {
  /** Per-item retry delay: doubles from min with every failure, up to max. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  timers?: Timers;
}

/** A FIFO with an O(1) pop: a read index instead of Array.shift. */
class Line<T> {
  private items: T[] = [];
  private head = 0;
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/**
 * A work queue with the guarantees of client-go's workqueue, which controllers rely on:
 * - an item is queued at most once however often it is added (dedupe);
 * - an item is never handed to two workers at once: added while being processed, it is
 *   queued again when the worker calls done();
 * - a failed item comes back after a per-item exponential backoff (addRateLimited), reset by
 *   forget() once it succeeds;
 * and one more: two priorities, `new` served before `normal`; adding a queued item with a
 * higher priority moves it up.
 */
export class WorkQueue<T> {
  private readonly lines: Record<Priority, Line<T>> = { new: new Line(), normal: new Line() };
  /** Items waiting, with the line they are in (a stale entry in the other line is skipped). */
  private readonly queued = new Map<T, Priority>();
  private readonly processing = new Set<T>();
  /** Items added while being processed: queued again by done(), with this priority. */
  private readonly dirty = new Map<T, Priority>();
  private readonly failures = new Map<T, number>();
  private readonly delayed = new Map<T, unknown>();
  private readonly waiters: Array<(item: T | undefined) => void> = [];
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timers: Timers;
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.minBackoffMs = options.minBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.timers = options.timers ?? realTimers;
  }

  /** Items waiting (not counting those being processed or waiting out a backoff). */
  get length(): number {
    return this.queued.size;
  }

  /** Items waiting out a backoff before they are queued again. */
  get delayedCount(): number {
    return this.delayed.size;
  }

  add(item: T, priority: Priority = 'normal'): void {
    if (this.shuttingDown) return;
    if (this.processing.has(item)) {
      const before = this.dirty.get(item);
      this.dirty.set(item, before === 'new' ? 'new' : priority);
      return;
    }
    const before = this.queued.get(item);
    if (before === 'new' || before === priority) return;
    this.queued.set(item, priority);
    this.lines[priority].push(item);
    this.wake();
  }

  /** Adds the item after its backoff: min × 2^(failures so far), capped at max. */
  addRateLimited(item: T): number {
    if (this.shuttingDown) return 0;
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    const delay = Math.min(this.minBackoffMs * 2 ** n, this.maxBackoffMs);
    this.addAfter(item, delay);
    return delay;
  }

  /** Adds the item once `ms` have passed; an earlier pending delay for it is replaced. */
  addAfter(item: T, ms: number): void {
    if (this.shuttingDown) return;
    const previous = this.delayed.get(item);
    if (previous !== undefined) this.timers.clearTimeout(previous);
    this.delayed.set(
      item,
      this.timers.setTimeout(() => {
        this.delayed.delete(item);
        this.add(item, 'normal');
      }, ms),
    );
  }

  /** How many times the item has failed since it last succeeded. */
  retries(item: T): number {
    return this.failures.get(item) ?? 0;
  }

  /** The item succeeded (or is gone): its backoff starts again from min. */
  forget(item: T): void {
    this.failures.delete(item);
  }

  /** The next item, waiting for one if none is queued; undefined once the queue shuts down. */
  get(): Promise<T | undefined> {
    const item = this.pop();
    if (item !== undefined || this.shuttingDown) return Promise.resolve(item);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker finished the item: if it was added meanwhile, it is queued again. */
  done(item: T): void {
    this.processing.delete(item);
    const again = this.dirty.get(item);
    if (again !== undefined) {
      this.dirty.delete(item);
      this.add(item, again);
    }
  }

  /** Drops everything; waiting get() calls resolve with undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.delayed.values()) this.timers.clearTimeout(t);
    this.delayed.clear();
    this.queued.clear();
    this.dirty.clear();
    this.lines.new.clear();
    this.lines.normal.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  private pop(): T | undefined {
    for (const priority of ['new', 'normal'] as const) {
      for (let item = this.lines[priority].shift(); item !== undefined; item = this.lines[priority].shift()) {
        // An entry left behind when its item moved to the other line, or was already served.
        if (this.queued.get(item) !== priority) continue;
        this.queued.delete(item);
        this.processing.add(item);
        return item;
      }
    }
    return undefined;
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const item = this.pop();
      if (item === undefined) return;
      this.waiters.shift()!(item);
    }
  }
}
