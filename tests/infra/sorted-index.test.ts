import { Query } from 'mingo';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { prng } from '../../src/cli/seed-data.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import type { Doc } from '../../src/infra/readstore/port.ts';
import { SortedIndex } from '../../src/infra/readstore/sorted-index.ts';

/** A page read through the sorted index must be the page mingo (MongoDB's semantics) gives over the same documents. */
const random = prng(7);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const sortValues = [undefined, null, 0, 1, 2.5, -3, 10, 'a', 'B', 'b', 'ab', '2026-11-01T08:00:00.000Z', '2026-11-30T08:00:00.000Z', '华东', '华北', '', true, false];
const groups = ['g1', 'g2', 'g3'];

const randomDoc = (id: string, arrays: boolean): Doc => {
  const doc: Doc = { _id: id, g: pick(groups), n: Math.floor(random() * 100) };
  const value = arrays && random() < 0.02 ? pick([['a'], { x: 1 }]) : pick(sortValues);
  if (value !== undefined) doc.s = value;
  return doc;
};

const randomFilter = (): Record<string, unknown> =>
  pick([
    {},
    { g: pick(groups) },
    { n: { $lt: Math.floor(random() * 100) } },
    { g: pick(groups), n: { $gte: Math.floor(random() * 100) } },
    { $or: [{ g: 'g1' }, { n: { $gt: 90 } }] },
    { s: { $gt: 1 } },
    { s: { $gte: 'a', $lt: 'b' } },
    { s: { $lte: 2.5 } },
    { s: { $gt: '2026-11-01T08:00:00.000Z' } },
    { s: { $gt: -3, $lte: 10 } },
    { s: { $lt: '华' } },
    { s: { $gt: 1, $gte: 2 } },
    { s: { $gte: '' }, n: { $lt: 50 } },
  ]);

afterEach(() => vi.restoreAllMocks());

describe('the embedded read store sorted index', () => {
  it('pages and ranges exactly as mingo sorts and matches, through inserts, updates, replacements and deletes', async () => {
    const walks = vi.spyOn(SortedIndex.prototype, 'ids');
    const ranges = vi.spyOn(SortedIndex.prototype, 'idsInRange');
    let compared = 0;
    for (let round = 0; round < 40; round++) {
      const arrays = round % 4 === 3; // now and then a value the index cannot place: it must decline, not answer wrongly
      const store = new EmbeddedReadStore();
      const collection = store.collection('c');
      const ids: string[] = [];
      // The sorted index is built by the first sorted query: in half the rounds before the documents arrive (then
      // every insert keeps it), in the other half after the inserts (built in one go, then kept by the changes).
      const buildIt = () => collection.find({}, { sort: { s: 1 }, limit: 1 });
      if (round % 2 === 0) {
        await collection.createIndex({ s: 1 });
        await buildIt();
      }
      await collection.createIndex({ g: 1 });
      for (let i = 0; i < 200 + Math.floor(random() * 400); i++) {
        const id = `d${String(Math.floor(random() * 100_000)).padStart(5, '0')}`;
        if (ids.includes(id)) continue;
        ids.push(id);
        await collection.insertOne(randomDoc(id, arrays));
      }
      if (round % 2 === 1) {
        await collection.createIndex({ s: 1 });
        await buildIt();
      }
      for (let i = 0; i < 300; i++) {
        const id = pick(ids);
        const change = random();
        if (change < 0.4) await collection.updateOne({ _id: id }, { $set: { s: randomDoc(id, arrays).s ?? null } });
        else if (change < 0.55) await collection.updateOne({ _id: id }, { $unset: { s: '' } });
        else if (change < 0.75) await collection.replaceOne({ _id: id }, randomDoc(id, arrays), { upsert: true });
        else if (change < 0.85) await collection.updateMany({ g: pick(groups), n: { $lt: 5 } }, { $inc: { n: 1 } });
        else await collection.deleteOne({ _id: id });
      }
      const all = await collection.find({});
      for (let q = 0; q < 25; q++) {
        const filter = randomFilter();
        const direction = pick([1, -1] as const);
        const withId = random() < 0.8;
        // Sorted by another field, a range on `s` is answered from the index's range instead of a walk.
        const byOther = random() < 0.3;
        const sort: Record<string, 1 | -1> = byOther ? { n: direction, _id: direction } : withId ? { s: direction, _id: direction } : { s: direction };
        const limit = 1 + Math.floor(random() * 60);
        const skip = random() < 0.3 ? Math.floor(random() * 10) : 0;
        const got = await collection.find(filter, { sort, limit, skip });
        const expected = new Query(filter).find<Doc>(all).sort(sort).skip(skip).limit(limit).all();
        const label = `${JSON.stringify(filter)} ${JSON.stringify(sort)} skip ${skip} limit ${limit}`;
        // Without the _id tie-break MongoDB leaves ties in any order: compare the sort values, and the set of ids.
        if (withId || byOther) expect(got.map((d) => d._id), label).toEqual(expected.map((d) => d._id));
        else expect(got.map((d) => d.s ?? null), label).toEqual(expected.map((d) => d.s ?? null));
        compared += 1;
      }
    }
    expect(compared).toBe(1000);
    expect(walks.mock.calls.length).toBeGreaterThan(300);
    expect(ranges.mock.calls.length).toBeGreaterThan(50);
  });

  it('keeps its order through a snapshot', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const snapshotPath = join(mkdtempSync(join(tmpdir(), 'crm-sorted-')), 'read-models.snapshot');
    const store = new EmbeddedReadStore({ snapshotPath });
    await store.collection('c').createIndex({ s: 1 });
    for (const [id, s] of [['a', 3], ['b', 1], ['c', 2]] as const) await store.collection('c').insertOne({ _id: id, s });
    await store.close();
    const walks = vi.spyOn(SortedIndex.prototype, 'ids');
    const reopened = new EmbeddedReadStore({ snapshotPath });
    expect((await reopened.collection('c').find({}, { sort: { s: -1, _id: -1 }, limit: 2 })).map((d) => d._id)).toEqual(['a', 'c']);
    expect(walks).toHaveBeenCalledTimes(1);
  });
});
