import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { compactHeap } from '../../src/infra/heap.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { StringSharer } from '../../src/infra/readstore/shared-strings.ts';

/** Documents as V8's deserializer gives them back: every occurrence of a string is a copy of its own. */
const asDeserialized = <T>(value: T): T => deserialize(serialize(value)) as T;

const heapUsedMb = () => {
  compactHeap();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

describe('sharing the repeated strings of documents read from a snapshot', () => {
  it('leaves every document equal to what was written, nested parts and arrays included', () => {
    const random = (seed: number) => {
      const pick = <T>(values: readonly T[]) => values[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % values.length]!;
      return {
        _id: `d${seed}`,
        id: `d${seed}`,
        ownerId: pick(['o1', 'o2', 'o3']),
        notes: pick(['', 'x'.repeat(100), null, 'short']),
        amount: { value: seed % 1000, currency: pick(['CNY', 'USD']) },
        tags: [pick(['a', 'b']), pick(['a', 'c']), [pick(['n', 'm'])], { deep: pick(['p', 'q']) }],
        history: [{ stage: pick(['s1', 's2']), at: `2026-01-0${seed % 9}` }, { stage: pick(['s1', 's2']), at: null }],
        count: seed,
        flag: seed % 2 === 0,
      };
    };
    const written = Array.from({ length: 5_000 }, (_, i) => random(i + 1));
    const read = asDeserialized(written);
    const sharer = new StringSharer();
    expect(read.map((doc) => sharer.share(doc))).toEqual(written);
  });

  it("keeps one copy of a field's few values and of the values a document repeats", () => {
    // Each string made on its own, as events parsed one by one give them (V8 serializes one string once per occurrence).
    const id = (i: number) => `document-${String(i).padStart(30, '0')}`;
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
    const written = Array.from({ length: 200_000 }, (_, i) => ({ _id: id(i), id: id(i), ownerId: `owner-${String(i % 20).padStart(30, '0')}`, createdAt: at(i), updatedAt: at(i) }));
    /** The heap the documents read back take, shared or not (the same reading, so the same garbage, either way). */
    const heapOf = (share: boolean) => {
      const base = heapUsedMb();
      const docs = asDeserialized(written);
      const sharer = new StringSharer();
      if (share) for (const doc of docs) sharer.share(doc);
      const taken = heapUsedMb() - base;
      expect(docs).toHaveLength(written.length);
      return taken;
    };
    serialize(written); // flattens the strings made by concatenation: the first measure would count that too
    const copies = heapOf(false);
    const shared = heapOf(true);
    // Three copies per document go (its id, its owner, its second time): about 56 + 56 + 40 bytes each, 29 MB in all.
    expect(copies - shared).toBeGreaterThan(20);
  });

  it('is what the embedded store does when it reads its snapshot, and tells how many documents it read', async () => {
    const snapshotPath = join(mkdtempSync(join(tmpdir(), 'crm-shared-')), 'read-models.snapshot');
    const written = new EmbeddedReadStore({ snapshotPath });
    const docs = Array.from({ length: 3_000 }, (_, i) => ({ _id: `c${i}`, id: `c${i}`, ownerId: `o${i % 7}`, contacts: [{ id: `p${i}`, name: `Contact ${i}` }] }));
    await written.collection('customers').bulkWrite(docs.map((document) => ({ insertOne: { document } })));
    await written.collection('contacts').insertOne({ _id: 'p1', customerId: 'c1' });
    await written.close();
    const loaded: { documents: number; ms: number }[] = [];
    const read = new EmbeddedReadStore({ snapshotPath, onSnapshotLoaded: (done) => void loaded.push(done) });
    expect(loaded).toEqual([{ documents: 3_001, ms: expect.any(Number) }]);
    expect(await read.collection('customers').find({}, { sort: { _id: 1 } })).toEqual([...docs].sort((a, b) => a._id.localeCompare(b._id)));
    expect(await read.collection('customers').countDocuments({ ownerId: 'o3' })).toBe(docs.filter((doc) => doc.ownerId === 'o3').length);
    await read.close();
  });
});
