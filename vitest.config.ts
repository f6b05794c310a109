import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    // Integration tests start real HTTPS servers and child processes; generous but bounded.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
