import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { eventStoreContract } from './eventstore.contract.ts';

eventStoreContract('sqlite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-es-'));
  return new SqliteEventStore({ path: join(dir, 'events.sqlite') });
});

eventStoreContract('sqlite in memory', async () => new SqliteEventStore({ path: ':memory:' }));
