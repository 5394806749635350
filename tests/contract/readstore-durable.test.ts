import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteBackedStore } from '../../src/infra/readstore/durable.ts';
import { readStoreContract } from './readstore.contract.ts';

readStoreContract('SQLite-backed (integration state)', async () => new SqliteBackedStore(join(mkdtempSync(join(tmpdir(), 'crm-state-')), 'state.sqlite')));

describe('SQLite-backed store persistence', () => {
  it('every write is in SQLite at once: a reopened store has it, without a flush', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-state-')), 'events.sqlite');
    const first = new SqliteBackedStore(path);
    await first.collection('_consumers').updateOne({ _id: 'erp' }, { $set: { position: 41 } }, { upsert: true });
    await first.collection('_consumers').updateOne({ _id: 'erp' }, { $set: { position: 42 } }, { upsert: true });
    await first.collection('_inbox').bulkWrite([{ insertOne: { document: { _id: 'a' } } }, { insertOne: { document: { _id: 'b' } } }]);
    await first.collection('_inbox').deleteOne({ _id: 'a' });
    await first.collection('_inbox').updateMany({}, { $set: { seen: true } });
    const second = new SqliteBackedStore(path);
    expect(await second.collection('_consumers').findOne({ _id: 'erp' })).toEqual({ _id: 'erp', position: 42 });
    expect(await second.collection('_inbox').find({})).toEqual([{ _id: 'b', seen: true }]);
    await second.collection('_inbox').drop();
    expect(await new SqliteBackedStore(path).collection('_inbox').countDocuments({})).toBe(0);
    await first.close();
    await second.close();
  });
});
