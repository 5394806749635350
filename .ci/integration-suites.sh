#!/usr/bin/env bash
# The integration suites, run by `npm run test:integration` inside `.ci/servers.sh run` (KAFKA_BROKERS and
# MONGO_URL point at the real servers it started):
#   1. tests/integration and the adapter contract suites (EventStoreDB's skips unless EVENTSTORE_URL is set);
#   2. the projection tests and the HTTP suites with every read model in FerretDB (CRM_TEST_READSTORE=mongo).
#      The authorization matrix is left to the embedded run: it checks permissions, not storage, and takes
#      minutes per read store. Each file imports the app afresh here (--isolate): sharing a worker's modules, as
#      the unit suite does, has not been tried against FerretDB yet.
set -euo pipefail
cd "$(dirname "$0")/.."
npx vitest run --config vitest.integration.config.ts
CRM_TEST_READSTORE=mongo CRM_REQUIRE_SERVERS=1 npx vitest run --isolate tests/projections tests/api --exclude '**/authorization-matrix.test.ts'
