import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Collection, type Doc, DuplicateKeyError, type ReadStore } from '../../src/infra/readstore/port.ts';

type Customer = Doc & { name: string; city?: string; revenue?: number; tags?: string[]; owner?: { id: string }; rules?: unknown };

export interface ReadStoreTraits {
  /** Whether `$pull` takes a condition (`{$in: […]}`); FerretDB v1 does not, so projections keep to `$pullAll`. */
  pullConditions?: boolean;
}

/** The contract every read-store adapter must pass (embedded/mingo and MongoDB/FerretDB). */
export function readStoreContract(name: string, create: () => Promise<ReadStore>, traits: ReadStoreTraits = {}): void {
  describe(`read store contract: ${name}`, () => {
    let store: ReadStore;
    let customers: Collection<Customer>;
    beforeEach(async () => {
      store = await create();
      customers = store.collection<Customer>(`customers_${randomUUID().slice(0, 8)}`);
      await customers.bulkWrite([
        { insertOne: { document: { _id: 'c1', name: 'Acme', city: 'Shanghai', revenue: 300, tags: ['a', 'vip'], owner: { id: 'u1' } } } },
        { insertOne: { document: { _id: 'c2', name: 'Beta', city: 'Beijing', revenue: 100, tags: ['b'], owner: { id: 'u2' } } } },
        { insertOne: { document: { _id: 'c3', name: '华为', city: 'Shenzhen', revenue: 200, tags: ['vip'], owner: { id: 'u1' } } } },
        { insertOne: { document: { _id: 'c4', name: 'delta', revenue: 200 } } },
      ]);
    });
    afterEach(async () => {
      await customers.drop();
      await store.close();
    });
    const ids = (docs: Doc[]) => docs.map((d) => d._id);

    it('finds by equality, operators, nested paths and array membership', async () => {
      expect(ids(await customers.find({ city: 'Shanghai' }))).toEqual(['c1']);
      expect(ids(await customers.find({ revenue: { $gte: 200 } }, { sort: { _id: 1 } }))).toEqual(['c1', 'c3', 'c4']);
      expect(ids(await customers.find({ 'owner.id': 'u1' }, { sort: { _id: 1 } }))).toEqual(['c1', 'c3']);
      expect(ids(await customers.find({ tags: 'vip' }, { sort: { _id: 1 } }))).toEqual(['c1', 'c3']);
      expect(ids(await customers.find({ city: { $in: ['Beijing', 'Shenzhen'] } }, { sort: { _id: 1 } }))).toEqual(['c2', 'c3']);
      expect(ids(await customers.find({ city: { $exists: false } }))).toEqual(['c4']);
      expect(ids(await customers.find({ $or: [{ name: 'Beta' }, { revenue: 300 }] }, { sort: { _id: 1 } }))).toEqual(['c1', 'c2']);
      expect(ids(await customers.find({ name: { $regex: 'ACM', $options: 'i' } }))).toEqual(['c1']);
      expect(ids(await customers.find({ name: { $regex: '华' } }))).toEqual(['c3']);
      expect(await customers.findOne({ _id: 'nope' })).toBeNull();
    });

    it('sorts on several keys, skips, limits and projects', async () => {
      const page = await customers.find({}, { sort: { revenue: -1, _id: 1 }, skip: 1, limit: 2, projection: { name: 1 } });
      expect(page).toEqual([
        { _id: 'c3', name: '华为' },
        { _id: 'c4', name: 'delta' },
      ]);
      const one = await customers.findOne({ revenue: 200 }, { sort: { _id: -1 } });
      expect(one?._id).toBe('c4');
    });

    it('reads every match in order, in batches, whatever the size of the collection', async () => {
      const collect = async (filter: Record<string, unknown>, sort: Record<string, 1 | -1>, batchSize: number) => {
        const batches: string[][] = [];
        for await (const batch of customers.findInBatches(filter, { sort, batchSize })) batches.push(ids(batch));
        return batches;
      };
      // Ties (revenue 200) in _id order; a missing value sorts first ascending, last descending.
      expect(await collect({}, { revenue: -1, _id: -1 }, 3)).toEqual([['c1', 'c4', 'c3'], ['c2']]);
      expect(await collect({}, { city: 1, _id: 1 }, 2)).toEqual([['c4', 'c2'], ['c1', 'c3']]);
      expect(await collect({ revenue: { $gte: 200 } }, { name: 1, _id: 1 }, 10)).toEqual([['c1', 'c4', 'c3']]);
      expect(await collect({ city: 'Nowhere' }, { _id: 1 }, 10)).toEqual([]);
      // More documents than one scan slice: still one ordered answer, every document once.
      const many = store.collection<Doc & { n: number; even: boolean }>(`many_${randomUUID().slice(0, 8)}`);
      await many.bulkWrite(Array.from({ length: 9_000 }, (_, i) => ({ insertOne: { document: { _id: `m${String(i).padStart(5, '0')}`, n: (i * 7919) % 9_000, even: i % 2 === 0 } } })));
      const seen: number[] = [];
      let batches = 0;
      for await (const batch of many.findInBatches({ even: true }, { sort: { n: -1, _id: 1 }, batchSize: 1_000 })) {
        batches += 1;
        seen.push(...batch.map((doc) => doc.n));
      }
      expect(batches).toBe(5);
      expect(seen).toHaveLength(4_500);
      expect(seen).toEqual([...seen].sort((a, b) => b - a));
      await many.drop();
    });

    it('counts', async () => {
      expect(await customers.countDocuments()).toBe(4);
      expect(await customers.countDocuments({ revenue: 200 })).toBe(2);
    });

    it('aggregates with $match $group $sum $count $sort $project $unwind', async () => {
      const byOwner = await customers.aggregate<{ _id: string; total: number; n: number }>([
        { $match: { 'owner.id': { $exists: true } } },
        { $group: { _id: '$owner.id', total: { $sum: '$revenue' }, n: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ]);
      expect(byOwner).toEqual([
        { _id: 'u1', total: 500, n: 2 },
        { _id: 'u2', total: 100, n: 1 },
      ]);
      const tags = await customers.aggregate<{ _id: string; n: number }>([
        { $unwind: '$tags' },
        { $group: { _id: '$tags', n: { $sum: 1 } } },
        { $sort: { n: -1, _id: 1 } },
        { $limit: 2 },
        { $project: { _id: 1, n: 1 } },
      ]);
      expect(tags).toEqual([
        { _id: 'vip', n: 2 },
        { _id: 'a', n: 1 },
      ]);
    });

    it('lists the indexes it made (not the one on _id); none for a collection that does not exist', async () => {
      await customers.createIndex({ city: 1 });
      await customers.createIndex({ name: 1, revenue: -1 }, { unique: true, name: 'name_revenue' });
      const listed = (await customers.listIndexes()).sort((a, b) => a.name.localeCompare(b.name));
      expect(listed).toEqual([
        { name: 'city_1', keys: { city: 1 }, unique: false },
        { name: 'name_revenue', keys: { name: 1, revenue: -1 }, unique: true },
      ]);
      expect(await store.collection(`missing_${randomUUID().slice(0, 8)}`).listIndexes()).toEqual([]);
    });

    it('runs a caller-composed aggregation within limits: fields left out first are gone from every stage, through sub-documents and arrays', async () => {
      await customers.bulkWrite([{ insertOne: { document: { _id: 'c5', name: 'Echo', revenue: 50, custom: { score: 7, tier: 'x' }, people: [{ name: 'p', mobile: '1' }] } } }]);
      const leftOut = { $project: { revenue: 0, 'custom.score': 0, 'people.mobile': 0 } };
      const rows = await customers.aggregate<Doc>([{ $match: { _id: 'c5' } }, leftOut], { maxTimeMs: 5_000 });
      expect(rows).toEqual([{ _id: 'c5', name: 'Echo', custom: { tier: 'x' }, people: [{ name: 'p' }] }]);
      const sums = await customers.aggregate<Doc>([leftOut, { $group: { _id: null, revenue: { $sum: '$revenue' }, score: { $sum: '$custom.score' } } }], { maxTimeMs: 5_000 });
      expect(sums).toEqual([{ _id: null, revenue: 0, score: 0 }]);
      // The stored documents keep every field.
      expect(await customers.findOne({ _id: 'c5' })).toMatchObject({ revenue: 50, custom: { score: 7 }, people: [{ mobile: '1' }] });
    });

    it('updates arrays with $push and $addToSet with $each, and $pullAll', async () => {
      await customers.updateOne({ _id: 'c1' }, { $push: { tags: { $each: ['x', 'y'] } } });
      await customers.updateOne({ _id: 'c1' }, { $addToSet: { tags: { $each: ['y', 'z', 'a'] } } });
      expect((await customers.findOne({ _id: 'c1' }))!.tags).toEqual(['a', 'vip', 'x', 'y', 'z']);
      await customers.updateOne({ _id: 'c1' }, { $pullAll: { tags: ['x', 'z', 'absent'] } });
      expect((await customers.findOne({ _id: 'c1' }))!.tags).toEqual(['a', 'vip', 'y']);
      // Documents pushed with $each keep their field names, dots and all.
      await customers.updateOne({ _id: 'c2' }, { $push: { rules: { $each: [{ 'custom.creditLimit': 'hidden' }] } } });
      expect((await customers.findOne({ _id: 'c2' }))!.rules).toEqual([{ 'custom.creditLimit': 'hidden' }]);
    });

    it.skipIf(traits.pullConditions === false)('updates arrays with $pull and a condition', async () => {
      await customers.updateOne({ _id: 'c1' }, { $pull: { tags: { $in: ['a', 'absent'] } } });
      expect((await customers.findOne({ _id: 'c1' }))!.tags).toEqual(['vip']);
    });

    it('an upsert whose conditions miss an existing document is a duplicate key, and changes nothing', async () => {
      await customers.updateOne({ _id: 'counter', _position: { $lt: 5 } }, { $inc: { n: 1 }, $set: { _position: 5 } }, { upsert: true });
      await expect(customers.updateOne({ _id: 'counter', _position: { $lt: 5 } }, { $inc: { n: 1 }, $set: { _position: 5 } }, { upsert: true })).rejects.toBeInstanceOf(DuplicateKeyError);
      await customers.updateOne({ _id: 'counter', _position: { $lt: 6 } }, { $inc: { n: 1 }, $set: { _position: 6 } }, { upsert: true });
      expect(await customers.findOne({ _id: 'counter' })).toEqual({ _id: 'counter', n: 2, _position: 6 });
      await expect(customers.replaceOne({ _id: 'c1', name: 'Not Acme' }, { _id: 'c1', name: 'Replaced' }, { upsert: true })).rejects.toBeInstanceOf(DuplicateKeyError);
      expect((await customers.findOne({ _id: 'c1' }))!.name).toBe('Acme');
    });

    it('updates with $set $unset $inc $min $max $push $pull $addToSet', async () => {
      const result = await customers.updateOne(
        { _id: 'c2' },
        { $set: { city: 'Tianjin', 'owner.id': 'u9' }, $inc: { revenue: 5 }, $push: { tags: 'new' }, $addToSet: { more: 'x' } },
      );
      expect(result).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
      await customers.updateOne({ _id: 'c2' }, { $pull: { tags: 'b' }, $unset: { city: '' }, $min: { low: 3 }, $max: { high: 9 } });
      await customers.updateOne({ _id: 'c2' }, { $addToSet: { more: 'x' }, $min: { low: 5 }, $max: { high: 1 } });
      expect(await customers.findOne({ _id: 'c2' })).toEqual({
        _id: 'c2',
        name: 'Beta',
        revenue: 105,
        tags: ['new'],
        owner: { id: 'u9' },
        more: ['x'],
        low: 3,
        high: 9,
      });
      expect(await customers.updateOne({ _id: 'missing' }, { $set: { a: 1 } })).toMatchObject({ matchedCount: 0 });
    });

    it('upserts: inserts from the filter, applies $setOnInsert only on insert', async () => {
      const first = await customers.updateOne(
        { _id: 'c9' },
        { $setOnInsert: { createdAt: 't1' }, $set: { name: 'New' }, $inc: { visits: 1 } },
        { upsert: true },
      );
      expect(first.upsertedId).toBe('c9');
      await customers.updateOne({ _id: 'c9' }, { $setOnInsert: { createdAt: 't2' }, $inc: { visits: 1 } }, { upsert: true });
      expect(await customers.findOne({ _id: 'c9' })).toEqual({ _id: 'c9', name: 'New', createdAt: 't1', visits: 2 });
    });

    it('updates and deletes many', async () => {
      const updated = await customers.updateMany({ revenue: 200 }, { $set: { flagged: true } });
      expect(updated).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
      expect(await customers.countDocuments({ flagged: true })).toBe(2);
      expect(await customers.deleteOne({ flagged: true })).toEqual({ deletedCount: 1 });
      expect(await customers.deleteMany({ revenue: { $lt: 1000 } })).toEqual({ deletedCount: 3 });
      expect(await customers.countDocuments()).toBe(0);
    });

    it('replaces a document', async () => {
      await customers.replaceOne({ _id: 'c1' }, { _id: 'c1', name: 'Acme 2' });
      expect(await customers.findOne({ _id: 'c1' })).toEqual({ _id: 'c1', name: 'Acme 2' });
    });

    it('keeps field names with dots or a leading $ inside stored values', async () => {
      const rules = { customers: { 'custom.creditLimit': 'hidden', phone: 'readonly' }, $note: ['a.b'] };
      await customers.insertOne({ _id: 'd1', name: 'Dotted', rules });
      await customers.updateOne({ _id: 'c1' }, { $set: { rules, 'owner.rules': { 'x.y': 1 } } });
      await customers.bulkWrite([{ insertOne: { document: { _id: 'd2', name: 'Bulk', rules } } }]);
      expect(await customers.findOne({ _id: 'd1' })).toEqual({ _id: 'd1', name: 'Dotted', rules });
      expect(await customers.findOne({ _id: 'c1' })).toMatchObject({ rules, owner: { id: 'u1', rules: { 'x.y': 1 } } });
      expect((await customers.find({ _id: { $in: ['d1', 'd2'] } }, { sort: { _id: 1 } })).map((d) => d.rules)).toEqual([rules, rules]);
    });

    it('a result cannot change the store: a copy (MongoDB) or read-only (embedded), and so is what was written', async () => {
      const doc = await customers.findOne({ _id: 'c1' });
      try {
        doc!.tags!.push('mutated');
      } catch (error) {
        expect(error).toBeInstanceOf(TypeError);
      }
      const [listed] = await customers.find({ _id: 'c1' }, { sort: { name: 1 } });
      try {
        (listed as { name: string }).name = 'Mutated';
      } catch (error) {
        expect(error).toBeInstanceOf(TypeError);
      }
      const written = { _id: 'w1', name: 'Written', address: { city: 'Suzhou' }, tags: ['x'] };
      await customers.insertOne(written);
      written.address.city = 'Changed';
      written.tags.push('changed');
      await customers.updateOne({ _id: 'c1' }, { $set: { address: written.address } });
      written.address.city = 'Changed again';
      expect(await customers.findOne({ _id: 'w1' })).toEqual({ _id: 'w1', name: 'Written', address: { city: 'Suzhou' }, tags: ['x'] });
      expect(await customers.findOne({ _id: 'c1' })).toMatchObject({ name: 'Acme', tags: ['a', 'vip'], address: { city: 'Changed' } });
    });

    it('enforces unique indexes and refuses duplicate _id', async () => {
      await customers.createIndex({ name: 1 }, { unique: true });
      await expect(customers.insertOne({ _id: 'c5', name: 'Acme' })).rejects.toMatchObject({ code: 11000 });
      await expect(customers.updateOne({ _id: 'c2' }, { $set: { name: 'Acme' } })).rejects.toMatchObject({ code: 11000 });
      expect((await customers.findOne({ _id: 'c2' }))!.name).toBe('Beta');
      await expect(customers.insertOne({ _id: 'c1', name: 'Other' })).rejects.toMatchObject({ code: 11000 });
    });

    it('answers the same through an index as without one, also for array fields', async () => {
      await customers.createIndex({ 'owner.id': 1 });
      await customers.createIndex({ tags: 1 });
      await customers.createIndex({ city: 1, revenue: -1 });
      expect(ids(await customers.find({ 'owner.id': 'u1' }, { sort: { _id: 1 } }))).toEqual(['c1', 'c3']);
      expect(ids(await customers.find({ tags: 'vip', revenue: 300 }))).toEqual(['c1']);
      expect(ids(await customers.find({ city: 'Shenzhen', revenue: 200 }))).toEqual(['c3']);
      await customers.updateOne({ _id: 'c3' }, { $set: { 'owner.id': 'u2' }, $pull: { tags: 'vip' } });
      expect(ids(await customers.find({ 'owner.id': 'u1' }))).toEqual(['c1']);
      expect(ids(await customers.find({ tags: 'vip' }))).toEqual(['c1']);
      expect(await customers.countDocuments({ 'owner.id': 'u2' })).toBe(2);
    });
  });
}

export { DuplicateKeyError };
