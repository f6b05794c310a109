import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import type { Timers } from './queue.ts';
import { causeOf, RetryLog } from './retry-log.ts';

function setup() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  let fire: (() => void) | undefined;
  const timers: Timers = { setTimeout: (fn) => ((fire = fn), 1), clearTimeout: () => (fire = undefined) };
  const log = new RetryLog(logger, { intervalMs: 60_000, timers });
  return { lines, log, tick: () => { const f = fire; fire = undefined; f?.(); } };
}

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
const conflict = Object.assign(new Error('the object has been modified'), { status: 409, reason: 'Conflict' });

describe('RetryLog', () => {
  it('an outage over 5,000 namespaces is one line at once and one line per interval per cause, with counts', () => {
    const { lines, log, tick } = setup();
    for (let i = 0; i < 5000; i++) log.report(`ns-${i}`, refused, 250);
    for (let i = 0; i < 30; i++) log.report(`ns-${i}`, conflict, 250);
    expect(lines.map((l) => [l.level, l.cause, l.count])).toEqual([
      ['error', 'ECONNREFUSED', undefined],
      ['info', '409 Conflict', undefined],
    ]);
    tick();
    expect(lines.slice(2).map((l) => [l.level, l.event, l.cause, l.count, (l.namespaces as string[]).length])).toEqual([
      ['error', 'baseline.retry', 'ECONNREFUSED', 4999, 5],
      ['info', 'baseline.retry', '409 Conflict', 29, 5],
    ]);
    // A quiet interval logs nothing, and a cause that stopped is forgotten: its return is logged at once.
    tick();
    expect(lines).toHaveLength(4);
    log.report('ns-1', refused, 250);
    expect(lines).toHaveLength(5);
  });

  it.each([
    [conflict, '409 Conflict', 'info'],
    [Object.assign(new Error('x'), { status: 404, reason: 'NotFound' }), '404 NotFound', 'info'],
    [Object.assign(new Error('x'), { status: 403, reason: 'Forbidden' }), '403 Forbidden', 'error'],
    [Object.assign(new Error('x'), { statusCode: 500 }), '500', 'error'],
    [refused, 'ECONNREFUSED', 'error'],
    [Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNRESET' } }), 'ECONNRESET', 'error'],
    [new Error('something else'), 'something else', 'error'],
  ])('cause of %s', (err, key, level) => {
    expect(causeOf(err)).toEqual({ key, level });
  });
});
