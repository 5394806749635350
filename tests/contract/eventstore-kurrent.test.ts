import { describe, it } from 'vitest';
import { KurrentEventStore } from '../../src/infra/eventstore/kurrent.ts';
import { serverUrl, skipReason } from '../support/servers.ts';
import { eventStoreContract } from './eventstore.contract.ts';

// No EventStoreDB server can be built on the CI machines; on a laptop: `docker compose up -d eventstore` and
// EVENTSTORE_URL=kurrentdb://localhost:2113?tls=false npm run test:integration
const url = serverUrl('EVENTSTORE_URL');
if (url) eventStoreContract(`EventStoreDB at ${url}`, async () => KurrentEventStore.connect(url), { refusesIdsReusedAcrossStreams: false });
else describe('event store contract: EventStoreDB', () => it.skip(skipReason('EVENTSTORE_URL'), () => {}));
