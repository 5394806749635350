import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/integration/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Every temporary directory under one for the run (TMPDIR), removed at its end.
    globalSetup: ['tests/support/temp-root.ts'],
    // Test files share a worker's loaded modules instead of importing the whole app again each (that import took
    // 133–223 s of a CI run's unit suite, 14 s shared). Safe because src keeps no module state (ARCHITECTURE.md:
    // no global state) and every test file builds its own app, stores and data directory; spies are restored
    // after each test so none reaches the next file.
    isolate: false,
    restoreMocks: true,
  },
});
