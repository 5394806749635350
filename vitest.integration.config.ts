import { defineConfig } from 'vitest/config';

// Integration suites against real servers. `npm run test:integration` starts Kafka and FerretDB through
// .ci/servers.sh and sets KAFKA_BROKERS and MONGO_URL; a missing server then fails the run
// (CRM_REQUIRE_SERVERS=1) instead of skipping. Files run one at a time: one of them stops the broker.
export default defineConfig({
  test: {
    include: ['tests/integration/**/*.test.ts', 'tests/contract/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // Every temporary directory under one for the run, removed at its end.
    globalSetup: ['tests/support/temp-root.ts'],
    env: { CRM_REQUIRE_SERVERS: '1' },
  },
});
