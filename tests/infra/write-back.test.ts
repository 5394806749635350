import { describe, expect, it } from 'vitest';
import { prng } from '../../src/cli/seed-data.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { type Doc, DuplicateKeyError, type ReadStore, type UpdateOperators } from '../../src/infra/readstore/port.ts';
import { WriteBackStore } from '../../src/infra/readstore/write-back.ts';
import { countAt, twoRunnersCount } from '../support/rolling-deploy.ts';

/**
 * A write-back unit must answer every read and every write result exactly as the store does when each write goes
 * straight to it, and leave the store holding the same documents after its commit.
 */
const random = prng(7);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const ids = ['a', 'b', 'c', 'd', 'e'];
const doc = (): Doc => ({ _id: pick(ids), group: pick(['x', 'y']), n: Math.floor(random() * 5), tags: [pick(['t', 'u'])], ...(random() < 0.5 ? { deep: { m: 1, k: pick(['p', 'q']) } } : {}) });
type Operation = (store: ReadStore) => Promise<unknown>;
const counter = (store: ReadStore) => store.collection('counters');
const operations: (() => Operation)[] = [
  () => {
    const id = pick(ids);
    return (store) => counter(store).findOne({ _id: id });
  },
  () => {
    const group = pick(['x', 'y']);
    return (store) => counter(store).find({ group }, { sort: { _id: 1 } });
  },
  () => {
    const group = pick(['x', 'y']);
    return (store) => counter(store).countDocuments({ group });
  },
  () => {
    const replacement = doc();
    const upsert = random() < 0.7;
    return (store) => counter(store).replaceOne({ _id: replacement._id }, replacement, { upsert });
  },
  () => {
    const id = pick(ids);
    const by = Math.floor(random() * 3);
    const upsert = random() < 0.7;
    const group = pick(['x', 'y']);
    return (store) => counter(store).updateOne({ _id: id }, { $inc: { n: by }, $set: { group }, $addToSet: { tags: 'v' } }, { upsert });
  },
  () => {
    const id = pick(ids);
    return (store) => counter(store).updateOne({ _id: id }, { $set: { n: 0 } });
  },
  () => {
    // Nested parts and arrays, which a document the unit changes in place may share with one it handed out.
    const id = pick(ids);
    const k = pick(['p', 'q', 'r']);
    const upsert = random() < 0.3;
    const change = pick<UpdateOperators>([{ $set: { 'deep.k': k } }, { $inc: { 'deep.m': 2 } }, { $unset: { 'deep.k': '' } }, { $push: { tags: k } }, { $pull: { tags: 't' } }, { $set: { deep: { k } } }]);
    return (store) => counter(store).updateOne({ _id: id }, change, { upsert });
  },
  () => {
    // A counter's guard: by _id and a condition; an upsert that misses an existing document is a duplicate key.
    const id = pick(ids);
    const below = Math.floor(random() * 6);
    const upsert = random() < 0.7;
    return (store) => counter(store).updateOne({ _id: id, n: { $lt: below } }, { $inc: { n: 1 } }, { upsert }).catch((error: Error) => error.name);
  },
  () => {
    const id = pick(ids);
    return (store) => counter(store).deleteOne({ _id: id });
  },
  () => {
    const inserted = doc();
    return (store) => counter(store).insertOne(inserted).then(() => 'inserted', (error: Error) => error.name);
  },
  () => {
    const group = pick(['x', 'y']);
    return (store) => counter(store).updateMany({ group }, { $inc: { n: 10 } });
  },
  () => {
    const group = pick(['x', 'y']);
    return (store) => counter(store).deleteMany({ group });
  },
  () => {
    // A report counter's change: the unit's incrementCounter must do what the guarded upsert does in the store.
    const id = pick(ids);
    const position = Math.floor(random() * 8);
    const by = Math.floor(random() * 3) - 1;
    const group = pick(['x', 'y']);
    return async (store) => {
      const counters = counter(store);
      if (counters.incrementCounter) return counters.incrementCounter(id, { group }, { n: by, 'deep.m': 1 }, position);
      await counters.updateOne({ _id: id, _position: { $lt: position } }, { $inc: { n: by, 'deep.m': 1 }, $set: { group, _position: position } }, { upsert: true }).catch((error: unknown) => {
        if (!(error instanceof DuplicateKeyError)) throw error;
      });
      return undefined;
    };
  },
];

const isDeeplyFrozen = (value: unknown): boolean =>
  typeof value !== 'object' || value === null || (Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen));

describe('write-back unit of work', () => {
  it('answers and ends exactly as writing straight to the store does', async () => {
    for (let round = 0; round < 600; round++) {
      const direct = new EmbeddedReadStore();
      const underneath = new EmbeddedReadStore();
      for (const store of [direct, underneath]) await counter(store).createIndex({ group: 1 });
      const unit = new WriteBackStore(underneath);
      // What the unit answered, as it was then: a reader may keep it, and the unit's later writes must not change it.
      const answered: { value: object; then: string }[] = [];
      for (let step = 0; step < 12; step++) {
        const operation = pick(operations)();
        const answer = await operation(unit);
        expect(answer, `round ${round} step ${step}`).toEqual(await operation(direct));
        if (answer && typeof answer === 'object') answered.push({ value: answer, then: JSON.stringify(answer) });
      }
      await unit.commit();
      expect(await counter(underneath).find({}, { sort: { _id: 1 } })).toEqual(await counter(direct).find({}, { sort: { _id: 1 } }));
      for (const { value, then } of answered) expect(JSON.stringify(value), `round ${round}`).toBe(then);
      for (const stored of await counter(underneath).find({})) expect(isDeeplyFrozen(stored)).toBe(true);
    }
  });

  it('writes each document once, however often a batch changes it', async () => {
    const underneath = new EmbeddedReadStore();
    let writes = 0;
    const collection = underneath.collection('counters');
    const bulkWrite = collection.bulkWrite.bind(collection);
    collection.bulkWrite = async (operations) => {
      writes += operations.length;
      await bulkWrite(operations);
    };
    // (Into an empty collection, the unit hands its documents over whole: each counts as one write.)
    const adoptAll = collection.adoptAll!.bind(collection);
    collection.adoptAll = (docs) => {
      writes += docs.size;
      return adoptAll(docs);
    };
    const unit = new WriteBackStore(underneath);
    for (let i = 0; i < 1000; i++) await unit.collection('counters').updateOne({ _id: `day-${i % 3}` }, { $inc: { n: 1 } }, { upsert: true });
    expect(await underneath.collection('counters').countDocuments({})).toBe(0);
    await unit.commit();
    expect(writes).toBe(3);
    expect(await underneath.collection('counters').find({}, { sort: { _id: 1 } })).toEqual([
      { _id: 'day-0', n: 334 },
      { _id: 'day-1', n: 333 },
      { _id: 'day-2', n: 333 },
    ]);
  });

  it('looks up a document it has not written at once where the store can say (storedNow), through findOne where it cannot', async () => {
    for (const immediate of [true, false]) {
      const underneath = new EmbeddedReadStore();
      await underneath.collection('docs').insertOne({ _id: 'stored', n: 1, _position: 1 });
      const collection = underneath.collection('docs');
      let promised = 0;
      const findOne = collection.findOne.bind(collection);
      collection.findOne = (...args) => {
        promised += 1;
        return findOne(...args);
      };
      if (!immediate) collection.storedNow = undefined;
      const unit = new WriteBackStore(underneath);
      const docs = unit.collection('docs');
      expect(await docs.findOne({ _id: 'stored' })).toEqual({ _id: 'stored', n: 1, _position: 1 });
      expect(await docs.findOne({ _id: 'missing' })).toBeNull();
      expect(await docs.updateOne({ _id: 'stored' }, { $inc: { n: 1 } })).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
      expect(await docs.replaceOne({ _id: 'other' }, { _id: 'other', n: 5 }, { upsert: true })).toMatchObject({ upsertedId: 'other' });
      expect(docs.incrementCounter!('stored', { kind: 'k' }, { n: 2 }, 2)).toBeUndefined();
      expect(await docs.deleteOne({ _id: 'missing' })).toEqual({ deletedCount: 0 });
      await unit.commit();
      expect(await underneath.collection('docs').find({}, { sort: { _id: 1 } })).toEqual([
        { _id: 'other', n: 5 },
        { _id: 'stored', n: 4, _position: 2, kind: 'k' },
      ]);
      // (One lookup per document the unit had not written, each a promise only where the store cannot answer at once.)
      expect(promised).toBe(immediate ? 0 : 5);
    }
  });

  it('hands its documents over whole to an empty collection, indexed and frozen; writes them one by one otherwise', async () => {
    const underneath = new EmbeddedReadStore();
    await underneath.collection('people').createIndex({ city: 1 });
    let adopted = 0;
    let written = 0;
    for (const name of ['people', 'others']) {
      const collection = underneath.collection(name);
      const adoptAll = collection.adoptAll!.bind(collection);
      collection.adoptAll = (docs) => {
        const taken = adoptAll(docs);
        if (taken) adopted += docs.size;
        return taken;
      };
      const bulkWrite = collection.bulkWrite.bind(collection);
      collection.bulkWrite = async (operations) => {
        written += operations.length;
        await bulkWrite(operations);
      };
    }
    await underneath.collection('others').insertOne({ _id: 'there', n: 1 });
    const unit = new WriteBackStore(underneath);
    for (const [id, city] of [['a', 'Wuxi'], ['b', 'Suzhou'], ['c', 'Wuxi']] as const) await unit.collection('people').replaceOne({ _id: id }, { _id: id, city }, { upsert: true });
    await unit.collection('others').insertOne({ _id: 'new', n: 2 });
    await unit.commit();
    expect(adopted).toBe(3);
    expect(written).toBe(1);
    expect((await underneath.collection('people').find({ city: 'Wuxi' }, { sort: { _id: 1 } })).map((doc) => doc._id)).toEqual(['a', 'c']);
    const stored = await underneath.collection('people').findOne({ _id: 'b' });
    expect(Object.isFrozen(stored)).toBe(true);
    // The unit's next writes start afresh: the store's documents are not changed through it.
    await unit.collection('people').updateOne({ _id: 'b' }, { $set: { city: 'Wuxi' } });
    expect((await underneath.collection('people').findOne({ _id: 'b' }))?.city).toBe('Suzhou');
    await unit.commit();
    expect((await underneath.collection('people').find({ city: 'Wuxi' })).length).toBe(3);
    expect(stored?.city).toBe('Suzhou');
    // A deletion among the pending documents: written as usual.
    await unit.collection('people').deleteOne({ _id: 'a' });
    await unit.commit();
    expect(await underneath.collection('people').countDocuments({})).toBe(2);
  });

  it('changes its own documents in place, yet never one it was given or handed out', async () => {
    const underneath = new EmbeddedReadStore();
    await underneath.collection('docs').insertOne({ _id: 'stored', deep: { m: 1 }, tags: ['t'], _position: 0 });
    const storedBefore = await underneath.collection('docs').findOne({ _id: 'stored' });
    const unit = new WriteBackStore(underneath);
    const docs = unit.collection('docs');
    const given = { _id: 'given', deep: { m: 1 }, tags: ['t'], _position: 0 };
    await docs.insertOne(given);
    const change = { $inc: { 'deep.m': 1, n: 1 }, $push: { tags: 'u' }, $set: { 'deep.k': 'x' } };
    for (const id of ['given', 'stored']) await docs.updateOne({ _id: id }, change);
    const seen = await docs.findOne({ _id: 'given' });
    expect(isDeeplyFrozen(seen)).toBe(true);
    for (const id of ['given', 'stored']) {
      await docs.updateOne({ _id: id }, change);
      await docs.incrementCounter!(id, {}, { 'deep.m': 10 }, 1);
    }
    expect(given).toEqual({ _id: 'given', deep: { m: 1 }, tags: ['t'], _position: 0 });
    expect(seen).toEqual({ _id: 'given', deep: { m: 2, k: 'x' }, tags: ['t', 'u'], _position: 0, n: 1 });
    expect(storedBefore).toEqual({ _id: 'stored', deep: { m: 1 }, tags: ['t'], _position: 0 });
    const expected = { deep: { m: 13, k: 'x' }, tags: ['t', 'u', 'u'], n: 2, _position: 1 };
    expect(await docs.findOne({ _id: 'given' })).toEqual({ _id: 'given', ...expected });
    await unit.commit();
    for (const id of ['given', 'stored']) {
      const stored = await underneath.collection('docs').findOne({ _id: id });
      expect(stored).toEqual({ _id: id, ...expected });
      expect(isDeeplyFrozen(stored)).toBe(true);
    }
  });

  it('takes a document written whole as it is, frozen in place with its parts: its writer cannot change it afterwards', async () => {
    const underneath = new EmbeddedReadStore();
    const unit = new WriteBackStore(underneath);
    const docs = unit.collection('docs');
    const inserted = { _id: 'inserted', deep: { m: 1 }, tags: ['t'] };
    const replacement = { _id: 'replaced', deep: { m: 2 }, tags: ['u'] };
    await docs.insertOne(inserted);
    await docs.replaceOne({ _id: 'replaced' }, replacement, { upsert: true });
    for (const written of [inserted, replacement]) {
      expect(isDeeplyFrozen(written)).toBe(true);
      expect(await docs.findOne({ _id: written._id })).toBe(written);
      expect(() => {
        (written.deep as { m: number }).m = 9;
      }).toThrow(TypeError);
    }
    // A replacement without its id is copied (the id is added to the copy, not to the caller's object).
    const withoutId = { deep: { m: 3 } } as unknown as Doc;
    await docs.replaceOne({ _id: 'copied' }, withoutId, { upsert: true });
    expect(withoutId).toEqual({ deep: { m: 3 } });
    expect(Object.isFrozen(withoutId)).toBe(false);
    await unit.commit();
    expect(await underneath.collection('docs').find({}, { sort: { _id: 1 } })).toEqual([
      { _id: 'copied', deep: { m: 3 } },
      { _id: 'inserted', deep: { m: 1 }, tags: ['t'] },
      { _id: 'replaced', deep: { m: 2 }, tags: ['u'] },
    ]);
  });

  it('in a store other processes write, never replaces a document with an older version of it', async () => {
    const underneath = new EmbeddedReadStore();
    const shared: ReadStore = Object.assign(Object.create(underneath) as ReadStore, { shared: true });
    await twoRunnersCount(shared, 'counters');
    expect(await underneath.collection('counters').findOne({ _id: 'day' })).toEqual({ _id: 'day', n: 10, _position: 10 });
    // Its other documents are written all the same.
    const more = new WriteBackStore(shared);
    await more.collection('counters').replaceOne({ _id: 'other' }, { _id: 'other', _position: 3 }, { upsert: true });
    // An event the counter has already counted is refused in the unit as in the store.
    await expect(countAt(more, 'counters', 4)).rejects.toBeInstanceOf(DuplicateKeyError);
    await more.commit();
    expect(await underneath.collection('counters').find({}, { sort: { _id: 1 } })).toEqual([
      { _id: 'day', n: 10, _position: 10 },
      { _id: 'other', _position: 3 },
    ]);
  });

  it('in a shared store, a collision on another unique index is still an error', async () => {
    const underneath = new EmbeddedReadStore();
    const shared: ReadStore = Object.assign(Object.create(underneath) as ReadStore, { shared: true });
    await underneath.collection('orders').createIndex({ number: 1 }, { unique: true });
    await underneath.collection('orders').insertOne({ _id: 'a', number: 'SO-1', _position: 1 });
    const unit = new WriteBackStore(shared);
    await unit.collection('orders').replaceOne({ _id: 'b' }, { _id: 'b', number: 'SO-1', _position: 2 }, { upsert: true });
    await expect(unit.commit()).rejects.toBeInstanceOf(DuplicateKeyError);
  });
});
