import { defineConfig } from 'vitest/config';

// Integration suites need real servers (Kafka, FerretDB, EventStoreDB); .ci/run starts them.
export default defineConfig({
  test: {
    include: ['tests/integration/**/*.test.ts', 'tests/contract/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
