import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder holding the kube-apiserver and etcd binaries (built once, cached). */
    e2eBin: string;
  }
}

const HERE = fileURLToPath(new URL('.', import.meta.url));

/**
 * Builds (or finds in the cache) kube-apiserver and etcd once for the whole suite. Each test
 * file then starts a control plane of its own (helpers.ts `useControlPlane`), so that files
 * can run in parallel without seeing each other's webhooks and objects.
 */
export function setup(project: TestProject): void {
  const bin = execFileSync('bash', [join(HERE, 'cluster', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!;
  const version = (args: string[], file: string): string => execFileSync(join(bin, file), args, { encoding: 'utf8' }).split('\n')[0]!.trim();
  console.log(`e2e binaries: ${version(['--version'], 'kube-apiserver')} (kube-apiserver), ${version(['--version'], 'etcd')}, in ${bin}`);
  project.provide('e2eBin', bin);
}
