import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration and e2e files each use their own database and Redis prefix, so files may run in parallel.
    fileParallelism: true,
    pool: 'forks',
  },
});
