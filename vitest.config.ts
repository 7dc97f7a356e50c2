import { defineConfig } from 'vitest/config';

// Integration tests start real containers and processes; two cores cannot run many at once,
// so files run with limited parallelism and generous timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // CI only: one retry for a test that failed, so a rare scheduling flake on two shared cores
    // (a spawned CLI losing a race with a concurrent file) does not block a landing. The JSON
    // report still records the retry; locally every failure shows at once.
    retry: process.env.CI ? 1 : 0,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: process.env.CI ? { json: 'test-results/vitest.json' } : undefined,
  },
});
