import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CollectionSubjectKeys, SqliteSubjectKeys, type SubjectKeys } from '../../src/infra/personal-data/keys.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';
import { serverUrl, skipReason } from '../support/servers.ts';

/** The key store of crypto-shredding: every adapter keeps the same promises. */
function subjectKeysContract(name: string, open: () => SubjectKeys | Promise<SubjectKeys>) {
  describe(`subject keys: ${name}`, () => {
    it('makes a key on first use only, keeps it, and after erasure keeps a tombstone and never makes another', async () => {
      const keys = await open();
      expect(await keys.get('contact-1', false)).toBeUndefined();
      const made = await keys.get('contact-1', true);
      expect(made && 'key' in made && made.key.length).toBe(32);
      expect(await keys.get('contact-1', true)).toEqual(made);
      expect(await keys.erase('contact-1', '2026-12-02T00:00:00.000Z')).toBe(true);
      expect(await keys.get('contact-1', true)).toEqual({ erasedAt: '2026-12-02T00:00:00.000Z' });
      expect(await keys.erase('contact-1', '2026-12-03T00:00:00.000Z')).toBe(false);
      expect(await keys.get('contact-1', false)).toEqual({ erasedAt: '2026-12-02T00:00:00.000Z' });
      // A subject erased before it ever had a key stays without one.
      expect(await keys.erase('contact-2', '2026-12-02T00:00:00.000Z')).toBe(false);
      expect(await keys.get('contact-2', true)).toEqual({ erasedAt: '2026-12-02T00:00:00.000Z' });
      await keys.close();
    });

    it('reads many subjects\' keys and tombstones at once, leaving out those never given a key', async () => {
      const keys = await open();
      const one = await keys.get('contact-1', true);
      const two = await keys.get('contact-2', true);
      await keys.erase('contact-2', '2026-12-02T00:00:00.000Z');
      const many = await keys.getMany(['contact-1', 'contact-2', 'contact-3']);
      expect(many).toEqual(new Map([['contact-1', one], ['contact-2', { erasedAt: '2026-12-02T00:00:00.000Z' }]]));
      expect(two && 'key' in two).toBe(true);
      expect(await keys.getMany([])).toEqual(new Map());
      await keys.close();
    });
  });
}
subjectKeysContract('SQLite', () => new SqliteSubjectKeys(':memory:'));
subjectKeysContract('a collection (MongoDB in production)', () => new CollectionSubjectKeys(new EmbeddedReadStore().collection('_subjectKeys')));
const mongoUrl = serverUrl('MONGO_URL');
if (mongoUrl)
  subjectKeysContract(`a collection at ${mongoUrl}`, async () => {
    const store = await MongoReadStore.connect(mongoUrl, { database: 'crm_contract_keys' });
    const collection = store.collection('_subjectKeys');
    await collection.drop();
    const keys = new CollectionSubjectKeys(collection);
    return { get: keys.get.bind(keys), getMany: keys.getMany.bind(keys), erase: keys.erase.bind(keys), close: () => store.close() };
  });
else describe('subject keys: MongoDB', () => it.skip(skipReason('MONGO_URL'), () => {}));

describe("subject keys in the event log's file", () => {
  it("make a key without checkpointing the log's pages on their own commit (the log's store checkpoints them)", async () => {
    const written = async (sharesEventLog: boolean) => {
      const path = join(mkdtempSync(join(tmpdir(), 'crm-keys-')), 'events.sqlite');
      const keys = new SqliteSubjectKeys(path, { sharesEventLog: sharesEventLog ? { writeTurn: async () => {} } : undefined });
      // The log's writer, between two of its thread's checkpoints: about 1,500 pages in the write-ahead log.
      const log = new Database(path);
      log.pragma('wal_autocheckpoint = 0');
      log.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, data TEXT)');
      const insert = log.prepare('INSERT INTO events (data) VALUES (?)');
      log.transaction(() => {
        for (let i = 0; i < 1_200; i++) insert.run('x'.repeat(5_000));
      })();
      await keys.get('contact-1', true);
      const size = statSync(path).size;
      expect(await keys.getMany(['contact-1'])).toHaveProperty('size', 1);
      await keys.close();
      log.close();
      return size;
    };
    // SQLite's own automatic checkpoint (1,000 pages) would copy them into the file at the key's commit.
    expect(await written(false)).toBeGreaterThan(6_000_000);
    expect(await written(true)).toBeLessThan(100_000);
  });
});
