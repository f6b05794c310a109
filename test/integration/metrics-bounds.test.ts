import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHandlers } from '../../src/admission/registry.ts';
import { review, startTestServer, type TestServer } from '../helpers/server.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('metric labels come from bounded sets', () => {
  let server: TestServer;
  let pool: Pool;
  beforeAll(async () => {
    server = await startTestServer({ handlers: defaultHandlers() });
    pool = new Pool(server.url, { connections: 8, pipelining: 1, connect: { ca: server.ca, servername: 'localhost' } });
  });
  afterAll(async () => {
    await pool.close();
    await server.close();
  });

  /** Sends n reviews, 8 at a time; kindOf(i) gives the i-th request's kind. */
  async function send(n: number, kindOf: (i: number) => { group: string; version: string; kind: string }): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        // Every kind of the cycle below meets every operation and both endpoints.
        const body = review({ kind: kindOf(i), namespace: 'team-a', operation: (['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const)[Math.floor(i / 5) % 4] });
        const res = await pool.request({ path: Math.floor(i / 20) % 2 ? '/validate' : '/mutate', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        await res.body.dump();
        expect(res.statusCode).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  async function reviewSeries(): Promise<{ series: string[]; bytes: number }> {
    const text = (await server.get('/metrics').expect(200)).text;
    return { series: text.split('\n').filter((l) => l.startsWith('netfence_admission_reviews_total{')), bytes: text.length };
  }

  it('a flood of made-up kinds leaves the series count, the scrape size and the heap flat', async () => {
    const known = [
      { group: '', version: 'v1', kind: 'Pod' },
      { group: 'apps', version: 'v1', kind: 'Deployment' },
      { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
      { group: 'example.com', version: 'v1', kind: 'Widget' },
      { group: 'apps', version: 'v2beta9', kind: 'Deployment' },
    ];
    // Baseline: every label combination an ordinary cluster produces, already counted.
    await send(1_000, (i) => known[i % known.length]!);
    const baseHeap = heapUsed();
    const base = await reviewSeries();
    // Kinds nobody handles are counted together as `other`.
    expect(base.series.some((l) => l.includes('kind="other"'))).toBe(true);
    expect(base.series.some((l) => l.includes('kind="apps/v1/Deployment"'))).toBe(true);
    expect(base.series.some((l) => l.includes('example.com'))).toBe(false);

    // The same number of requests again with known kinds: what the heap does on its own.
    await send(1_000, (i) => known[i % known.length]!);
    const controlHeap = heapUsed();

    // Made-up kinds, groups and versions (also of kinds netfence handles), each one new.
    const flood = 10_000;
    await send(flood, (i) =>
      i % 3 === 0
        ? { group: `g${i}.example.com`, version: 'v1', kind: `Kind${i}` }
        : i % 3 === 1
          ? { group: 'apps', version: `v${i}`, kind: 'Deployment' }
          : { group: '', version: 'v1', kind: `Pod${'x'.repeat(i % 50)}${i}` },
    );
    const floodHeap = heapUsed();
    const after = await reviewSeries();

    expect(after.series.length).toBe(base.series.length);
    expect(after.bytes / base.bytes).toBeLessThan(1.05);
    // 10,000 new series would be megabytes; the flood may cost no more than a small fraction
    // of the heap beyond what the control run cost.
    const growth = (floodHeap - Math.max(baseHeap, controlHeap)) / baseHeap;
    console.log(JSON.stringify({ baseHeap, controlHeap, floodHeap, growth, series: after.series.length, bytes: [base.bytes, after.bytes] }));
    expect(growth).toBeLessThan(0.05);
  }, 120_000);
});
