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
