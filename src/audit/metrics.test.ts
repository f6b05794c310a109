import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.ts';

const block = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('netfence_event_loop_max_stall_seconds', () => {
  it('counts from the first readiness: the longest stall before it is returned once, then forgotten', async () => {
    const metrics = new Metrics();
    await tick(30);
    block(200);
    await tick(50);
    const before = metrics.firstReady();
    expect(before).toBeGreaterThanOrEqual(0.19);
    await tick(50);
    const text = await metrics.registry.metrics();
    const after = Number(/^netfence_event_loop_max_stall_seconds (\S+)$/m.exec(text)?.[1]);
    expect(after).toBeLessThan(0.19);
  });
});
