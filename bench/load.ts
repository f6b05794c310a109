import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Closed-loop load: `concurrency` workers over as many keep-alive TLS connections, each sending
 * its next request when the previous answer arrives, for `seconds` after `warmupSeconds`.
 */
export async function runLoad(options: {
  url: string;
  ca: Buffer;
  body: (i: number) => string;
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
}): Promise<LoadResult> {
  const pool = new Pool(options.url, {
    connections: options.concurrency,
    pipelining: 1,
    connect: { ca: options.ca, servername: 'localhost' },
  });
  let i = 0;
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let done = false;
  const worker = async (): Promise<void> => {
    while (!done) {
      const payload = options.body(i++);
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: '/validate', method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
        const text = await res.body.text();
        // Both reviews are allowed by the rules: anything else is an error of the run.
        if (res.statusCode !== 200 || !text.includes('"allowed":true')) errors++;
      } catch {
        errors++;
      }
      if (measuring) latencies.push(performance.now() - t0);
    }
  };
  const workers = Array.from({ length: options.concurrency }, worker);
  await new Promise((r) => setTimeout(r, options.warmupSeconds * 1000));
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, options.seconds * 1000));
  measuring = false;
  const seconds = (performance.now() - start) / 1000;
  const requests = latencies.length;
  done = true;
  await Promise.all(workers);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { requests, errors, seconds, rps: requests / seconds, p50Ms: q(0.5), p99Ms: q(0.99) };
}

/**
 * Closed-loop load of exactly `total` requests over `concurrency` keep-alive connections, in
 * batches of `every`: after each batch `onProgress` is awaited with no request in flight, so a
 * measurement taken there sees a quiet server.
 */
export async function runCount(options: {
  url: string;
  ca: Buffer;
  body: (i: number) => string;
  concurrency: number;
  total: number;
  every: number;
  onProgress: (done: number) => Promise<void>;
}): Promise<{ errors: number; seconds: number }> {
  const pool = new Pool(options.url, { connections: options.concurrency, pipelining: 1, connect: { ca: options.ca, servername: 'localhost' } });
  let sent = 0;
  let errors = 0;
  const start = performance.now();
  while (sent < options.total) {
    const end = Math.min(options.total, sent + options.every);
    const worker = async (): Promise<void> => {
      while (sent < end) {
        const i = sent++;
        try {
          const res = await pool.request({ path: '/validate', method: 'POST', headers: { 'content-type': 'application/json' }, body: options.body(i) });
          const text = await res.body.text();
          if (res.statusCode !== 200 || !text.includes('"allowed":true')) errors++;
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    await options.onProgress(end);
  }
  await pool.close();
  return { errors, seconds: (performance.now() - start) / 1000 };
}
