import { performance } from 'node:perf_hooks';

/** Median and p99 of `fn` over `runs` calls, after `warmup` calls (microseconds). */
export function timeIt(fn: (i: number) => unknown, runs = 2000, warmup = 500): { medianUs: number; p99Us: number } {
  let sink: unknown;
  for (let i = 0; i < warmup; i++) sink = fn(i);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    sink = fn(i);
    samples.push((performance.now() - t0) * 1000);
  }
  if (sink === Symbol.for('never')) console.log(sink);
  samples.sort((a, b) => a - b);
  return { medianUs: samples[samples.length >> 1]!, p99Us: samples[Math.floor(samples.length * 0.99)]! };
}

export function fmtUs(r: { medianUs: number; p99Us: number }): string {
  return `median ${(r.medianUs / 1000).toFixed(3)} ms, p99 ${(r.p99Us / 1000).toFixed(3)} ms`;
}
