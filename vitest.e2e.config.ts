import { defineConfig } from 'vitest/config';

// The end-to-end suite: one real control plane (test/e2e/global-setup.ts) shared by scenarios
// that run in order, in one worker.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
