import { describe, expect, it } from 'vitest';
import { answerProbe, HEARTBEAT_INTERVAL_MS, HEARTBEAT_STALE_MS, HealthServer, liveness, readiness } from './health.ts';

describe('liveness from the heartbeat (injected clock)', () => {
  const beat = 1_000_000;
  it.each([
    ['just beaten', beat, 200, 'ok'],
    ['one interval late', beat + HEARTBEAT_INTERVAL_MS, 200, 'ok'],
    ['a 5 s decision', beat + 5_000, 200, 'ok'],
    ['exactly at the bound', beat + HEARTBEAT_STALE_MS, 200, 'ok'],
    ['1 ms past the bound', beat + HEARTBEAT_STALE_MS + 1, 503, 'stale'],
    ['a wedged loop (10 min)', beat + 600_000, 503, 'stale'],
    // A beat stored after the worker read its clock: age 0, not negative.
    ['clock read before the beat', beat - 3, 200, 'ok'],
  ])('%s', (_name, now, statusCode, status) => {
    const answer = liveness(beat, now);
    expect(answer.statusCode).toBe(statusCode);
    expect(answer.body.status).toBe(status);
    expect(answer.body.heartbeatAgeMs).toBe(Math.max(0, now - beat));
  });

  it('takes the bound it is given', () => {
    expect(liveness(0, 250, 200).statusCode).toBe(503);
    expect(liveness(0, 150, 200).statusCode).toBe(200);
  });
});

describe('readiness from the last report', () => {
  it.each([
    ['none yet', undefined, 503],
    ['ready', { ready: true, checks: { notShuttingDown: true } }, 200],
    ['shutting down', { ready: false, checks: { notShuttingDown: false } }, 503],
  ] as const)('%s', (_name, report, statusCode) => {
    const answer = readiness(report);
    expect(answer.statusCode).toBe(statusCode);
    expect(answer.body.ready).toBe(report?.ready ?? false);
  });
});

describe('probe routes', () => {
  const state = { lastBeatMs: 0, nowMs: 10, report: { ready: true, checks: {} } };
  it.each([
    ['GET', '/healthz', 200],
    ['HEAD', '/healthz', 200],
    ['GET', '/healthz?verbose', 200],
    ['GET', '/readyz', 200],
    ['POST', '/healthz', 405],
    ['GET', '/metrics', 404],
    ['GET', '/', 404],
  ])('%s %s', (method, url, statusCode) => {
    expect(answerProbe(method, url, state).statusCode).toBe(statusCode);
  });
});

describe('HealthServer (a real worker thread)', () => {
  it('reads the heartbeat the main thread stores: stale between beats when the bound is below the interval', async () => {
    // A bound of 200 ms with a beat every 1,000 ms: the worker must see the heartbeat age and
    // fail, then see the next beat and recover. Bounded polling.
    const server = await HealthServer.start({ port: 0, host: '127.0.0.1', report: () => ({ ready: true, checks: { test: true } }), staleMs: 200 });
    try {
      const seen = new Set<number>();
      for (let i = 0; i < 300 && !(seen.has(503) && seen.has(200)); i++) {
        const res = await fetch(`http://127.0.0.1:${server.address.port}/healthz`);
        const body = (await res.json()) as { status: string; heartbeatAgeMs: number };
        seen.add(res.status);
        expect(body.status).toBe(res.status === 200 ? 'ok' : 'stale');
        if (res.status === 503) expect(body.heartbeatAgeMs).toBeGreaterThan(200);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect([...seen].sort()).toEqual([200, 503]);
      const ready = await fetch(`http://127.0.0.1:${server.address.port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ ready: true, checks: { test: true } });
    } finally {
      await server.close();
    }
  });

  it('reports a worker that stops by itself, and not one closed on purpose', async () => {
    const failures: string[] = [];
    const options = { port: 0, host: '127.0.0.1', report: () => ({ ready: true, checks: {} }), onFailure: (reason: string) => failures.push(reason) };
    const closed = await HealthServer.start(options);
    await closed.close();
    const killed = await HealthServer.start(options);
    // Stands for a crash: the worker ends without close() being asked.
    await (killed as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    for (let i = 0; i < 100 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(failures).toEqual(['exited with code 1']);
    await expect(fetch(`http://127.0.0.1:${killed.address.port}/healthz`)).rejects.toThrow();
  });

  it('rejects when the port is taken, naming it', async () => {
    const first = await HealthServer.start({ port: 0, host: '127.0.0.1', report: () => ({ ready: true, checks: {} }) });
    try {
      await expect(HealthServer.start({ port: first.address.port, host: '127.0.0.1', report: () => ({ ready: true, checks: {} }) })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
