import { execSync } from 'node:child_process';
import { describe, it } from 'vitest';
import { KurrentEventStore } from '../../src/infra/eventstore/kurrent.ts';
import { serverUrl, skipReason } from '../support/servers.ts';
import { waitUntil } from '../support/wait.ts';
import { eventStoreContract } from './eventstore.contract.ts';

// No EventStoreDB server can be built on the CI machines (tests/infra/kurrent-adapter.test.ts runs this contract
// against a stand-in that answers as the server does). On a laptop:
//   docker compose up -d eventstore
//   EVENTSTORE_URL=kurrentdb://localhost:2113?tls=false EVENTSTORE_RESTART='docker compose restart eventstore' npm run test:integration
// EVENTSTORE_RESTART, when given, restarts the server where the contract asks for a restart (the server's cache
// of recent event ids is then empty); without it the contract reconnects only.
const url = serverUrl('EVENTSTORE_URL');
const restartCommand = process.env.EVENTSTORE_RESTART;
if (url)
  eventStoreContract(`EventStoreDB at ${url}`, async () => KurrentEventStore.connect(url), {
    refusesIdsReusedAcrossStreams: false,
    restart: async (store) => {
      await store.close();
      if (restartCommand) execSync(restartCommand, { stdio: 'inherit' });
      const reconnected = KurrentEventStore.connect(url);
      await waitUntil(async () => (await reconnected.headPosition().then(() => true, () => false)), 60_000);
      return reconnected;
    },
  });
else describe('event store contract: EventStoreDB', () => it.skip(skipReason('EVENTSTORE_URL'), () => {}));
