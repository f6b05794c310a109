import { describe, expect, it } from 'vitest';
import { WorkQueue, type Timers } from './queue.ts';

/** Timers that fire only when the test advances the clock. */
class ManualTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.pending].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at > this.now) continue;
      this.pending.delete(id);
      t.fn();
    }
  }
  delays(): number[] {
    return [...this.pending.values()].map((t) => t.at - this.now);
  }
}

async function drain<T>(q: WorkQueue<T>): Promise<T[]> {
  const out: T[] = [];
  while (q.length > 0) {
    const item = (await q.get())!;
    out.push(item);
    q.done(item);
  }
  return out;
}

describe('WorkQueue', () => {
  it('serves in FIFO order and queues an item once however often it is added', async () => {
    const q = new WorkQueue<string>();
    for (const item of ['a', 'b', 'a', 'c', 'b']) q.add(item);
    expect(q.length).toBe(3);
    expect(await drain(q)).toEqual(['a', 'b', 'c']);
  });

  it.each([
    { name: 'new items go ahead of normal ones', adds: [['a', 'normal'], ['b', 'normal'], ['n1', 'new'], ['n2', 'new']], want: ['n1', 'n2', 'a', 'b'] },
    { name: 'a queued item added as new moves up, once', adds: [['a', 'normal'], ['b', 'normal'], ['b', 'new'], ['b', 'normal']], want: ['b', 'a'] },
    { name: 'a new item added again as normal stays new', adds: [['a', 'normal'], ['n', 'new'], ['n', 'normal']], want: ['n', 'a'] },
  ] as const)('priority: $name', async ({ adds, want }) => {
    const q = new WorkQueue<string>();
    for (const [item, p] of adds) q.add(item, p);
    expect(await drain(q)).toEqual(want);
  });

  it('never hands an item to two workers: added while processed, it is queued again on done', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    const first = await q.get();
    q.add('a', 'new');
    expect(q.length).toBe(0);
    q.add('b');
    expect(await q.get()).toBe('b');
    q.done(first!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('a waiting worker is woken by add, and by shutDown with undefined', async () => {
    const q = new WorkQueue<string>();
    const waiting = q.get();
    q.add('x');
    expect(await waiting).toBe('x');
    const idle = q.get();
    q.shutDown();
    expect(await idle).toBeUndefined();
    q.add('y');
    expect(q.length).toBe(0);
  });

  it('backs off per item, doubling to the cap, and forget() starts again', async () => {
    const timers = new ManualTimers();
    const q = new WorkQueue<string>({ minBackoffMs: 100, maxBackoffMs: 1000, timers });
    const delays = [1, 2, 3, 4, 5, 6].map(() => q.addRateLimited('a'));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    // Only the last delay is pending: a new one replaces the earlier.
    expect(timers.delays()).toEqual([1000]);
    expect(q.addRateLimited('b')).toBe(100);
    timers.advance(100);
    expect(await drain(q)).toEqual(['b']);
    timers.advance(900);
    expect(await drain(q)).toEqual(['a']);
    q.forget('a');
    expect(q.addRateLimited('a')).toBe(100);
    expect(q.retries('a')).toBe(1);
  });

  it('a retried item comes back as normal, behind new items', async () => {
    const timers = new ManualTimers();
    const q = new WorkQueue<string>({ minBackoffMs: 10, timers });
    q.addRateLimited('failed');
    timers.advance(10);
    q.add('fresh', 'new');
    expect(await drain(q)).toEqual(['fresh', 'failed']);
  });

  it('stays consistent under many interleaved adds (each item served once per add-while-idle)', async () => {
    const q = new WorkQueue<number>();
    for (let i = 0; i < 5000; i++) q.add(i % 100, i % 7 === 0 ? 'new' : 'normal');
    const served = await drain(q);
    expect(served).toHaveLength(100);
    expect(new Set(served).size).toBe(100);
    // Every item added as new at least once is served before every item only ever normal.
    const everNew = new Set(Array.from({ length: 5000 }, (_, i) => i).filter((i) => i % 7 === 0).map((i) => i % 100));
    const lastNew = Math.max(...served.map((x, i) => (everNew.has(x) ? i : -1)));
    expect(lastNew).toBe(everNew.size - 1);
  });
});
