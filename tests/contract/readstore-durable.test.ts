import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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

  it('writes made together share one commit, and each is answered only once it is in SQLite', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-state-')), 'events.sqlite');
    const store = new SqliteBackedStore(path);
    const framesBefore = walFrames(path);
    // 50 consumers' inbox entries, then their checkpoints, written in the same turns: two commits, not a hundred.
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await store.collection('_inbox').insertOne({ _id: `c${i}:e1` });
        await store.collection('_consumers').updateOne({ _id: `c${i}` }, { $set: { position: 1 } }, { upsert: true });
      }),
    );
    // A commit appends at least one page to the write-ahead log: one commit per write would have added 100 or more.
    expect(walFrames(path) - framesBefore).toBeLessThan(20);
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT count(*) FROM integration_state').pluck().get()).toBe(100);
    reader.close();
    await store.close();
  });

  it("on the event log's file, a commit leaves the log's checkpoints to the log's store, where alone it checkpoints its own", async () => {
    // One commit of about 1,500 pages: past SQLite's automatic checkpoint (1,000 pages), under the log's backstop.
    const write = (store: SqliteBackedStore) => Promise.all(Array.from({ length: 1_200 }, (_, i) => store.collection('_inbox').insertOne({ _id: `e${i}`, payload: `${i}`.padEnd(5_000, 'x') })));
    const alonePath = join(mkdtempSync(join(tmpdir(), 'crm-state-')), 'integration.sqlite');
    const alone = new SqliteBackedStore(alonePath);
    const path = join(mkdtempSync(join(tmpdir(), 'crm-state-')), 'events.sqlite');
    const sharing = new SqliteBackedStore(path, 'normal', { sharesEventLog: { writeTurn: async () => {} } });
    await write(alone);
    await write(sharing);
    // Checkpointed at the commit: the pages are in the database file. Not: they are still only in the write-ahead log.
    expect(statSync(alonePath).size).toBeGreaterThan(6_000_000);
    expect(statSync(path).size).toBeLessThan(100_000);
    expect(walFrames(path)).toBeGreaterThan(1_400);
    await alone.close();
    await sharing.close();
  });
});

/** How many pages the database's write-ahead log holds (each commit appends the pages it changed). */
function walFrames(path: string): number {
  const size = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
  return size <= 32 ? 0 : Math.round((size - 32) / (4096 + 24));
}
