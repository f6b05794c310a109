import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../k8s/types.ts';
import { createLogger } from '../log.ts';
import { EventRecorder, type EventApi } from './events.ts';

class FakeEvents implements EventApi {
  created: KubeObject[] = [];
  patches: Array<[string, Record<string, unknown>]> = [];
  failPatch = false;
  async createEvent(e: KubeObject) {
    this.created.push(e);
    return `ev-${this.created.length}`;
  }
  async patchEvent(_ns: string, name: string, patch: Record<string, unknown>) {
    if (this.failPatch) throw Object.assign(new Error('not found'), { status: 404 });
    this.patches.push([name, patch]);
  }
}

function setup(options: { burst?: number; perSecond?: number } = {}) {
  const api = new FakeEvents();
  let now = 1_000_000;
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  const recorder = new EventRecorder(api, logger, { identity: 'r1', now: () => now, ...options });
  const settle = () => Promise.all([...recorder.pending]);
  return { api, recorder, settle, lines, advance: (ms: number) => (now += ms) };
}

describe('EventRecorder', () => {
  it('one Event per namespace and reason, about the Namespace, stored in default', async () => {
    const { api, recorder, settle } = setup();
    recorder.record('team-a', 'BaselineCreated', 'created NetworkPolicy x');
    await settle();
    expect(api.created).toHaveLength(1);
    expect(api.created[0]).toMatchObject({
      metadata: { namespace: 'default' },
      involvedObject: { kind: 'Namespace', name: 'team-a' },
      reason: 'BaselineCreated',
      count: 1,
      reportingInstance: 'r1',
    });
    expect(api.created[0]!.firstTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('a repeat within the window bumps count and lastTimestamp of the same Event', async () => {
    const { api, recorder, settle, advance } = setup();
    recorder.record('team-a', 'BaselineRestored', 'restored x');
    await settle();
    advance(5_000);
    recorder.record('team-a', 'BaselineRestored', 'restored y');
    await settle();
    advance(5_000);
    recorder.record('team-a', 'BaselineRestored', 'restored x');
    await settle();
    expect(api.created).toHaveLength(1);
    expect(api.patches.map(([name, p]) => [name, p.count])).toEqual([['ev-1', 2], ['ev-1', 3]]);
    // Another reason, or the same after the window, is a new Event.
    recorder.record('team-a', 'BaselineCreated', 'created z');
    advance(700_000);
    recorder.record('team-a', 'BaselineRestored', 'restored x');
    await settle();
    expect(api.created.map((e) => e.reason)).toEqual(['BaselineRestored', 'BaselineCreated', 'BaselineRestored']);
  });

  it('a repeat while the create is in flight is counted, and carried by the next write', async () => {
    const { api, recorder, settle } = setup();
    recorder.record('a', 'BaselineRestored', 'm');
    recorder.record('a', 'BaselineRestored', 'm');
    await settle();
    recorder.record('a', 'BaselineRestored', 'm');
    await settle();
    expect(api.created).toHaveLength(1);
    expect(api.patches.map(([, p]) => p.count)).toEqual([3]);
  });

  it('a burst of 10,000 namespaces writes at most the budget, and one summary line says how many were held back', async () => {
    const { api, recorder, settle, lines, advance } = setup({ burst: 50, perSecond: 2 });
    for (let i = 0; i < 10_000; i++) {
      recorder.record(`ns-${i}`, 'BaselineCreated', 'created');
      if (i % 100 === 99) advance(1000);
    }
    await settle();
    // 50 at once, then 2 per simulated second (99 s).
    expect(api.created.length).toBeLessThanOrEqual(50 + 2 * 100);
    expect(api.created.length).toBeGreaterThanOrEqual(50 + 2 * 98);
    const summaries = lines.filter((l) => l.event === 'baseline.events_suppressed');
    expect(summaries.length).toBeLessThanOrEqual(2);
    recorder.summarize(undefined, true);
    const total = lines.filter((l) => l.event === 'baseline.events_suppressed').reduce((n, l) => n + (l.count as number), 0);
    expect(total + api.created.length).toBe(10_000);
  });

  it('an Event gone since (patch fails) is created again on the next occurrence', async () => {
    const { api, recorder, settle } = setup();
    recorder.record('a', 'BaselineRestored', 'm');
    await settle();
    api.failPatch = true;
    recorder.record('a', 'BaselineRestored', 'm');
    await settle();
    recorder.record('a', 'BaselineRestored', 'm');
    await settle();
    expect(api.created).toHaveLength(2);
  });
});
