import { defineConfig } from 'vitest/config';

// The end-to-end suite: binaries built once (test/e2e/global-setup.ts); each test file starts
// its own control plane (helpers.ts useControlPlane) and runs its scenarios in order, and
// files run in parallel, two at a time on CI's two cores.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    sequence: { concurrent: false },
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
