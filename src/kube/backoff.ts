import { KubeApiError } from './client.ts';

/** How the list-watch loops (the cluster view's reflectors, the reconciler's informers) wait after a failure. */
export interface BackoffOptions {
  /** Failures answered (or connections cut) wait this long, doubling per failure up to maxBackoffMs. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** A refused connection waits this long, every time. */
  refusedRetryMs: number;
}

/** Nothing listening at the API server's address: most likely an API server restarting. */
export const isRefused = (err: unknown): boolean => err instanceof KubeApiError && err.code === 'ECONNREFUSED';

/**
 * The wait after a failure, before jitter, given `steps`, the failures since the last healthy
 * contact that doubled the backoff; returns the steps to keep. A refused connection waits
 * refusedRetryMs and takes no step: retrying costs the API server nothing, and a backoff grown
 * through a long outage would leave the caches stale for as long again once it is back. Any
 * other failure (an error answered, a connection cut) doubles from min to max, counting the
 * steps taken before the refusals: an API server that answers errors between outages is not
 * hammered.
 */
export function retryDelay(err: unknown, steps: number, o: BackoffOptions): { delayMs: number; steps: number } {
  if (isRefused(err)) return { delayMs: o.refusedRetryMs, steps };
  return { delayMs: Math.min(o.minBackoffMs * 2 ** steps, o.maxBackoffMs), steps: steps + 1 };
}

/** ±50%, so that replicas (and resources) do not retry in step. */
export const jitter = (ms: number, random: () => number = Math.random): number => Math.round(ms * (0.5 + random()));

/** Before listing again after the n-th 410 in a row worth waiting for (n < 1: none): min doubling to max, jittered. */
export function expiredDelay(n: number, o: Pick<BackoffOptions, 'minBackoffMs' | 'maxBackoffMs'>): number {
  return n < 1 ? 0 : jitter(Math.min(o.minBackoffMs * 2 ** (n - 1), o.maxBackoffMs));
}
