import { describe, expect, it } from 'vitest';
import { isRefused, jitter, retryDelay } from './backoff.ts';
import { KubeApiError } from './client.ts';

const o = { minBackoffMs: 500, maxBackoffMs: 30_000, refusedRetryMs: 1_000 };
const refused = new KubeApiError(0, 'ConnectionError', 'GET /api/v1/pods: connect ECONNREFUSED 127.0.0.1:6443', undefined, 'ECONNREFUSED');
const reset = new KubeApiError(0, 'ConnectionError', 'watch /api/v1/pods: the connection closed mid-stream', undefined, 'ECONNRESET');
const unavailable = new KubeApiError(503, 'ServiceUnavailable', 'starting');
const errorEvent = new KubeApiError(500, 'InternalError', 'error event: etcd');

describe('retryDelay', () => {
  it.each([
    ['a refused connection, first failure', refused, 0, 1_000, 0],
    ['a refused connection after answered errors: their steps kept, not taken', refused, 3, 1_000, 3],
    ['an error answered, first failure', unavailable, 0, 500, 1],
    ['an error answered after three: doubled three times', unavailable, 3, 4_000, 4],
    ['an error answered after many: capped', unavailable, 12, 30_000, 13],
    ['a connection cut is not a refusal', reset, 2, 2_000, 3],
    ['an error event', errorEvent, 0, 500, 1],
    ['something that is not a KubeApiError', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 0, 500, 1],
  ])('%s', (_name, err, steps, delayMs, nextSteps) => {
    expect(retryDelay(err, steps, o)).toEqual({ delayMs, steps: nextSteps });
  });

  it('keeps refused retries at refusedRetryMs however many, and answered errors double from where they were', () => {
    let steps = 0;
    const delays: number[] = [];
    for (const err of [unavailable, unavailable, ...Array(20).fill(refused), unavailable]) {
      const next = retryDelay(err, steps, o);
      steps = next.steps;
      delays.push(next.delayMs);
    }
    expect(delays).toEqual([500, 1_000, ...Array(20).fill(1_000), 2_000]);
  });

  it('isRefused reads the socket error code of a KubeApiError only', () => {
    expect([refused, reset, unavailable, new Error('ECONNREFUSED'), undefined].map(isRefused)).toEqual([true, false, false, false, false]);
  });
});

describe('jitter', () => {
  it.each([
    [1_000, 0, 500],
    [1_000, 0.5, 1_000],
    [1_000, 0.999, 1_499],
    [5, 0.5, 5],
  ])('%i ms with random %f is %i ms', (ms, r, want) => {
    expect(jitter(ms, () => r)).toBe(want);
  });
});
