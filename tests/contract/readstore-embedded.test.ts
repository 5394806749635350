import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { type BulkOperation, type Collection, type Doc, DuplicateKeyError, QueryTimeLimitError } from '../../src/infra/readstore/port.ts';
import { readStoreContract } from './readstore.contract.ts';

readStoreContract('embedded (mingo)', async () => new EmbeddedReadStore());

/** How many turns of the event loop other work got while `work` ran. */
async function turnsDuring<R>(work: () => Promise<R>): Promise<{ result: R; turns: number }> {
  let turns = 0;
  let running = true;
  const other = (async () => {
    while (running) {
      turns += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const result = await work();
  running = false;
  await other;
  return { result, turns };
}

describe('embedded read store persistence', () => {
  it('keeps documents and indexes across a restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-rs-')), 'read.snapshot');
    const first = new EmbeddedReadStore({ snapshotPath: path });
    await first.collection('things').createIndex({ code: 1 }, { unique: true });
    await first.collection('things').insertOne({ _id: 'a', code: 'X', n: 1 });
    await first.close();
    const second = new EmbeddedReadStore({ snapshotPath: path });
    expect(await second.collection('things').findOne({ code: 'X' })).toEqual({ _id: 'a', code: 'X', n: 1 });
    await expect(second.collection('things').insertOne({ _id: 'b', code: 'X' })).rejects.toMatchObject({ code: 11000 });
    await second.close();
  });

  it('writes the snapshot on its own shortly after a change', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-rs-')), 'read.snapshot');
    const store = new EmbeddedReadStore({ snapshotPath: path, snapshotDelayMs: 10 });
    await store.collection('things').insertOne({ _id: 'a' });
    await new Promise((r) => setTimeout(r, 100));
    const reader = new EmbeddedReadStore({ snapshotPath: path });
    expect(await reader.collection('things').countDocuments()).toBe(1);
  });
});

describe('embedded read store: reading in batches', () => {
  const filled = async (count: number) => {
    const store = new EmbeddedReadStore();
    const things = store.collection<{ _id: string; n: number; name: string }>('things');
    await things.bulkWrite(Array.from({ length: count }, (_, i) => ({ insertOne: { document: { _id: `t${i}`, n: (i * 7919) % count, name: `thing ${i}` } } })));
    return things;
  };

  it('lets other work run while it scans, before its first batch', async () => {
    const things = await filled(40_000);
    const batches = things.findInBatches({ n: { $gte: 0 } }, { sort: { name: 1, _id: 1 }, batchSize: 100 })[Symbol.asyncIterator]();
    const { result: first, turns: turnsBeforeFirst } = await turnsDuring(() => batches.next());
    expect(first.value).toHaveLength(100);
    // 40,000 documents in slices of 4,096: other work ran between the slices, not only after the whole scan.
    expect(turnsBeforeFirst).toBeGreaterThanOrEqual(9);
  });

  it('answers the collection as it stood when the read began, whatever is written meanwhile', async () => {
    const things = await filled(10_000);
    const seen = new Map<string, number>();
    let batch = 0;
    for await (const docs of things.findInBatches({}, { sort: { n: 1, _id: 1 }, batchSize: 1_000 })) {
      for (const doc of docs) seen.set(doc._id, doc.n);
      if (batch++ === 0) {
        await things.updateMany({}, { $inc: { n: 1_000_000 } });
        await things.insertOne({ _id: 'late', n: -1, name: 'late' });
      }
    }
    expect(seen.size).toBe(10_000);
    expect([...seen.values()].every((n) => n < 10_000)).toBe(true);
  });
});

describe('embedded read store: the snapshot file', () => {
  it('is written in the background, frame by frame, and read back whole', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-rs-')), 'read.snapshot');
    const store = new EmbeddedReadStore({ snapshotPath: path, snapshotDelayMs: 2 ** 30 });
    await store.collection('things').createIndex({ code: 1 }, { unique: true });
    await store.collection('things').bulkWrite(Array.from({ length: 30_000 }, (_, i) => ({ insertOne: { document: { _id: `t${i}`, code: `C${i}`, text: 'x'.repeat(50) } } })));
    const { turns } = await turnsDuring(() => store.flush());
    // 30,000 documents in frames of 1,000: other work ran between the frames.
    expect(turns).toBeGreaterThanOrEqual(25);
    const reader = new EmbeddedReadStore({ snapshotPath: path });
    expect(await reader.collection('things').countDocuments()).toBe(30_000);
    await expect(reader.collection('things').insertOne({ _id: 'dup', code: 'C7' })).rejects.toMatchObject({ code: 11000 });
  });

  it('keeps the cut taken when the write began, whatever changes meanwhile, and writes the changes next', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-rs-')), 'read.snapshot');
    const store = new EmbeddedReadStore({ snapshotPath: path, snapshotDelayMs: 2 ** 30 });
    const things = store.collection('things');
    await things.bulkWrite(Array.from({ length: 5_000 }, (_, i) => ({ insertOne: { document: { _id: `t${i}`, n: 0 } } })));
    const first = store.flush();
    await things.updateMany({}, { $set: { n: 1 } });
    await first;
    const cut = new EmbeddedReadStore({ snapshotPath: path });
    expect(await cut.collection('things').countDocuments({ n: 0 })).toBe(5_000);
    await store.flush();
    const later = new EmbeddedReadStore({ snapshotPath: path });
    expect(await later.collection('things').countDocuments({ n: 1 })).toBe(5_000);
  });

  /** The prototype of node:fs/promises' file handles, whose writes the snapshot makes. */
  const fileHandlePrototype = async (dir: string) => {
    const handle = await open(join(dir, 'probe'), 'w');
    await handle.close();
    return Object.getPrototypeOf(handle) as { writev(buffers: Uint8Array[], position?: number): Promise<{ bytesWritten: number }> };
  };

  it('goes on where a write took fewer bytes than it was given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-rs-'));
    const prototype = await fileHandlePrototype(dir);
    const writev = prototype.writev;
    let shortWrites = 0;
    // Every write takes at most 1,000 bytes of the first buffer it is given.
    vi.spyOn(prototype, 'writev').mockImplementation(function (this: unknown, buffers: Uint8Array[]) {
      if (buffers[0]!.length > 1_000) shortWrites += 1;
      return writev.call(this, [buffers[0]!.subarray(0, 1_000)]);
    });
    const store = new EmbeddedReadStore({ snapshotPath: join(dir, 'read.snapshot'), snapshotDelayMs: 2 ** 30 });
    await store.collection('things').bulkWrite(Array.from({ length: 2_500 }, (_, i) => ({ insertOne: { document: { _id: `t${i}`, text: `${i} ${'x'.repeat(40)}` } } })));
    await store.flush();
    vi.restoreAllMocks();
    expect(shortWrites).toBeGreaterThan(10);
    const reader = new EmbeddedReadStore({ snapshotPath: join(dir, 'read.snapshot') });
    expect(await reader.collection('things').countDocuments()).toBe(2_500);
    expect(await reader.collection('things').findOne({ _id: 't2499' })).toEqual({ _id: 't2499', text: `2499 ${'x'.repeat(40)}` });
  });

  it('fails the flush where a write fails while the next frame is made, keeping the snapshot before it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-rs-'));
    const path = join(dir, 'read.snapshot');
    const store = new EmbeddedReadStore({ snapshotPath: path, snapshotDelayMs: 2 ** 30 });
    const things = store.collection('things');
    await things.insertOne({ _id: 'first' });
    await store.flush();
    await things.bulkWrite(Array.from({ length: 5_000 }, (_, i) => ({ insertOne: { document: { _id: `t${i}` } } })));
    const prototype = await fileHandlePrototype(dir);
    const writev = prototype.writev;
    let writes = 0;
    vi.spyOn(prototype, 'writev').mockImplementation(function (this: unknown, buffers: Uint8Array[]) {
      writes += 1;
      return writes === 3 ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })) : writev.call(this, buffers);
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(store.flush()).rejects.toMatchObject({ code: 'ENOSPC' });
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('unhandledRejection', onUnhandled);
      vi.restoreAllMocks();
    }
    expect(unhandled).toEqual([]);
    // The snapshot before it is whole; the next flush writes the changes.
    expect(await new EmbeddedReadStore({ snapshotPath: path }).collection('things').countDocuments()).toBe(1);
    await store.flush();
    expect(await new EmbeddedReadStore({ snapshotPath: path }).collection('things').countDocuments()).toBe(5_001);
  });

  it('reads a snapshot written by the previous version (one serialised object)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-rs-')), 'read.snapshot');
    writeFileSync(path, serialize({ version: 1, collections: [{ name: 'things', docs: [{ _id: 'a', code: 'X' }], indexes: [{ name: 'code_1', keys: { code: 1 }, unique: true }] }] }));
    const store = new EmbeddedReadStore({ snapshotPath: path });
    expect(await store.collection('things').findOne({ code: 'X' })).toEqual({ _id: 'a', code: 'X' });
    await expect(store.collection('things').insertOne({ _id: 'b', code: 'X' })).rejects.toMatchObject({ code: 11000 });
  });

  it('sets a snapshot cut short aside and starts empty', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-rs-')), 'read.snapshot');
    const store = new EmbeddedReadStore({ snapshotPath: path });
    await store.collection('things').bulkWrite(Array.from({ length: 3_000 }, (_, i) => ({ insertOne: { document: { _id: `t${i}` } } })));
    await store.close();
    const whole = readFileSync(path);
    writeFileSync(path, whole.subarray(0, whole.length - 10));
    const kept: string[] = [];
    const reader = new EmbeddedReadStore({ snapshotPath: path, onUnreadableSnapshot: (_error, keptAs) => kept.push(keptAs) });
    expect(await reader.collection('things').countDocuments()).toBe(0);
    expect(kept).toHaveLength(1);
  });
});

describe('embedded read store: a caller-composed aggregation', () => {
  it('stops past its time limit; no pipeline or filter runs a script', async () => {
    const store = new EmbeddedReadStore();
    const docs = store.collection('rows');
    await docs.bulkWrite(Array.from({ length: 5_000 }, (_, i) => ({ insertOne: { document: { _id: `r${i}`, n: i, tags: Array.from({ length: 20 }, (_, t) => t) } } })));
    const heavy = [{ $unwind: '$tags' }, { $group: { _id: '$tags', total: { $sum: '$n' } } }];
    await expect(docs.aggregate(heavy, { maxTimeMs: 0 })).rejects.toBeInstanceOf(QueryTimeLimitError);
    expect(await docs.aggregate(heavy, { maxTimeMs: 60_000 })).toHaveLength(20);
    // Scripts are off for such a pipeline (the API refuses them before; this is the store's own guard).
    for (const script of [[{ $match: { $where: () => true } }], [{ $match: {} }, { $match: { $where: () => true } }], [{ $project: { x: { $function: { body: () => 1, args: [], lang: 'js' } } } }]]) {
      await expect(docs.aggregate(script, { maxTimeMs: 60_000 })).rejects.toThrow(/scriptEnabled/);
      await expect(docs.aggregate(script)).rejects.toThrow(/scriptEnabled/);
    }
    await expect(docs.find({ $where: () => true } as never)).rejects.toThrow(/scriptEnabled/);
    await store.close();
  });
});

describe('an equality index on a dotted field, where the path passes through a list', () => {
  const queries = [{ 'pair.a': 1 }, { 'pair.a': 5 }, { 'pair.a': null }, { 'pair.a': 1, kind: 'k' }];
  /** Each query's ids, from a collection indexed on `pair.a` (and on it with `kind`) and from one with no index. */
  const answers = async (indexed: Collection<Doc>, plain: Collection<Doc>) => {
    for (const query of queries) {
      const ids = async (collection: Collection<Doc>) => (await collection.find(query as never)).map((doc) => doc._id).sort();
      expect(await ids(indexed), JSON.stringify(query)).toEqual(await ids(plain));
      expect(await indexed.countDocuments(query as never)).toBe(await plain.countDocuments(query as never));
    }
  };
  const documents = [
    { _id: 'list', kind: 'k', pair: [{ a: 1 }, { a: 5 }] },
    { _id: 'object', kind: 'k', pair: { a: 1 } },
    { _id: 'scalar', kind: 'k', pair: 7 },
    { _id: 'missing', kind: 'k' },
    { _id: 'deep', kind: 'k', pair: { a: 5 } },
  ];

  it('answers as a collection without it does (MongoDB matches each element of the list), loaded or written, as the list comes and goes', async () => {
    for (const loaded of [true, false]) {
      const store = new EmbeddedReadStore();
      const indexed = store.collection('indexed');
      await indexed.createIndex({ 'pair.a': 1 });
      await indexed.createIndex({ 'pair.a': 1, kind: 1 });
      const plain = store.collection('plain');
      for (const collection of [indexed, plain])
        if (loaded) await collection.bulkWrite(documents.map((document) => ({ insertOne: { document } })));
        else for (const document of documents) await collection.insertOne(document);
      await answers(indexed, plain);
      // A scalar becomes a list, the list an object; then the lists go.
      for (const collection of [indexed, plain]) await collection.updateOne({ _id: 'scalar' }, { $set: { pair: [{ a: 1 }] } });
      await answers(indexed, plain);
      for (const collection of [indexed, plain]) await collection.updateOne({ _id: 'list' }, { $set: { pair: { a: 5 } } });
      await answers(indexed, plain);
      for (const collection of [indexed, plain]) await collection.deleteOne({ _id: 'scalar' });
      await answers(indexed, plain);
      expect((await indexed.find({ 'pair.a': 5 } as never)).map((doc) => doc._id).sort()).toEqual(['deep', 'list']);
    }
  });

  it('answers so after a restart from the snapshot', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-rs-')), 'read.snapshot');
    const store = new EmbeddedReadStore({ snapshotPath: path });
    await store.collection('indexed').createIndex({ 'pair.a': 1 });
    for (const name of ['indexed', 'plain']) await store.collection(name).bulkWrite(documents.map((document) => ({ insertOne: { document } })));
    await store.close();
    const restarted = new EmbeddedReadStore({ snapshotPath: path });
    await answers(restarted.collection('indexed'), restarted.collection('plain'));
    expect((await restarted.collection('indexed').find({ 'pair.a': 1 } as never)).map((doc) => doc._id).sort()).toEqual(['list', 'object']);
  });
});

describe('a bulk write into an empty embedded collection (a replay commit, a staged load)', () => {
  const documents = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ _id: `b${String(i).padStart(3, '0')}`, owner: `o${i % 3}`, code: `c${i}`, tags: [`t${i % 4}`, 'all'], pair: { a: i % 2, b: 'x' } }));
  const indexed = async (store: EmbeddedReadStore, name: string) => {
    const collection = store.collection<Doc & { owner: string; code: string; tags: string[] }>(name);
    await collection.createIndex({ owner: 1 });
    await collection.createIndex({ code: 1 }, { unique: true });
    await collection.createIndex({ tags: 1 });
    await collection.createIndex({ owner: 1, code: 1 });
    return collection;
  };
  const answers = async (collection: Awaited<ReturnType<typeof indexed>>) => ({
    all: await collection.find({}),
    owner: (await collection.find({ owner: 'o1' })).map((doc) => doc._id).sort(),
    tag: (await collection.find({ tags: 't2' })).map((doc) => doc._id).sort(),
    every: await collection.countDocuments({ tags: 'all' }),
    code: (await collection.findOne({ code: 'c7' }))?._id,
    compound: (await collection.find({ owner: 'o2', code: 'c5' })).map((doc) => doc._id),
  });

  it('stores what the same writes one by one store, and every index answers for all of them', async () => {
    const writes = documents(60).map((document, i): BulkOperation =>
      i % 2 ? { insertOne: { document } } : { replaceOne: { filter: { _id: document._id }, replacement: { ...document, _id: undefined as unknown as string }, upsert: true } },
    );
    const loaded = await indexed(new EmbeddedReadStore(), 'bulk');
    await loaded.bulkWrite(writes);
    const oneByOne = await indexed(new EmbeddedReadStore(), 'bulk');
    for (const write of writes) await oneByOne.bulkWrite([write]);
    const expected = await answers(oneByOne);
    expect(expected.owner).toHaveLength(20);
    expect(expected.every).toBe(60);
    expect(await answers(loaded)).toEqual(expected);
    expect(Object.isFrozen((await loaded.findOne({ _id: 'b000' }))!.tags)).toBe(true);
    // The unique index holds every loaded code.
    await expect(loaded.insertOne({ _id: 'x', owner: 'o0', code: 'c59', tags: [] })).rejects.toBeInstanceOf(DuplicateKeyError);
  });

  it('keys held by many documents, an element twice in one, empty, missing and object values: the same answers, and later writes keep each index right', async () => {
    const odd = (i: number) => ({
      _id: `m${String(i).padStart(3, '0')}`,
      ...(i % 5 ? { owner: i % 7 ? `o${i % 3}` : null } : {}),
      code: `c${i}`,
      tags: i % 6 === 0 ? [] : [`t${i % 4}`, `t${i % 4}`, 'all'],
      pair: i % 4 ? { a: i % 2, b: 'x' } : [{ a: 1 }, { a: 1 }],
    });
    const withPairs = async (store: EmbeddedReadStore) => {
      const collection = await indexed(store, 'many');
      await collection.createIndex({ pair: 1 });
      await collection.createIndex({ 'pair.a': 1 });
      return collection;
    };
    const more = async (collection: Awaited<ReturnType<typeof indexed>>) => ({
      ...(await answers(collection)),
      none: (await collection.find({ owner: null } as never)).map((doc) => doc._id).sort(),
      untagged: (await collection.find({ tags: null } as never)).map((doc) => doc._id).sort(),
      pair: (await collection.find({ pair: { a: 1, b: 'x' } } as never)).map((doc) => doc._id).sort(),
      listed: (await collection.find({ pair: { a: 1 } } as never)).map((doc) => doc._id).sort(),
      // A dotted field, numbers for keys. A quarter of the `pair`s are lists, so here the index leaves these filters to the
      // full match (the dotted-field tests above have it answer once no list is left).
      nested: (await collection.find({ 'pair.a': 1 } as never)).map((doc) => doc._id).sort(),
      nestedNone: (await collection.find({ 'pair.a': null } as never)).map((doc) => doc._id).sort(),
    });
    const writes = Array.from({ length: 300 }, (_, i): BulkOperation => ({ insertOne: { document: odd(i) } }));
    const loaded = await withPairs(new EmbeddedReadStore());
    await loaded.bulkWrite(writes);
    const oneByOne = await withPairs(new EmbeddedReadStore());
    for (const write of writes) await oneByOne.bulkWrite([write]);
    const expected = await more(oneByOne);
    expect(expected.tag.length).toBe(50);
    expect(expected.none.length).toBeGreaterThan(0);
    expect(expected.listed.length).toBe(75);
    expect(expected.nested.length).toBeGreaterThan(0);
    expect(await more(loaded)).toEqual(expected);
    // A key's many ids, loaded at once, are changed by later writes as any others.
    for (const collection of [loaded, oneByOne]) {
      await collection.updateOne({ _id: 'm001' }, { $set: { owner: 'o9', tags: ['t9'] } });
      await collection.deleteOne({ _id: 'm004' });
      await collection.insertOne({ _id: 'n1', owner: 'o1', code: 'n1', tags: ['all', 't0'] });
    }
    expect(await more(loaded)).toEqual(await more(oneByOne));
    expect((await loaded.find({ owner: 'o9' })).map((doc) => doc._id)).toEqual(['m001']);
  });

  it('one that breaks a unique index, or names an id twice, stops at that write with the ones before it kept, as one by one', async () => {
    const clash = documents(10).map((document): BulkOperation => ({ insertOne: { document } }));
    clash.splice(6, 0, { insertOne: { document: { ...documents(1)[0]!, _id: 'dup', code: 'c2' } } });
    const twice = documents(10).map((document): BulkOperation => ({ insertOne: { document } }));
    twice.splice(4, 0, { replaceOne: { filter: { _id: 'b001' }, replacement: { ...documents(2)[1]!, owner: 'again' }, upsert: true } });
    for (const writes of [clash, twice]) {
      const collection = await indexed(new EmbeddedReadStore(), 'bulk');
      const failed = await collection.bulkWrite(writes).catch((error: unknown) => error);
      expect(failed instanceof DuplicateKeyError || writes === twice).toBe(true);
      const oneByOne = await indexed(new EmbeddedReadStore(), 'bulk');
      for (const write of writes) if ((await oneByOne.bulkWrite([write]).catch((error: unknown) => error)) instanceof DuplicateKeyError) break;
      expect(await answers(collection)).toEqual(await answers(oneByOne));
    }
    // Nothing of the writes after a failure is left in an index, not even one built before the index that
    // failed: their codes are free.
    const collection = await indexed(new EmbeddedReadStore(), 'bulk');
    await collection.createIndex({ serial: 1 }, { unique: true });
    const serials = documents(10).map((document, i): BulkOperation => ({ insertOne: { document: { ...document, serial: i === 7 ? 3 : i } } }));
    await expect(collection.bulkWrite(serials)).rejects.toBeInstanceOf(DuplicateKeyError);
    expect(await collection.countDocuments({})).toBe(7);
    await collection.insertOne({ _id: 'later', owner: 'o9', code: 'c8', tags: [] });
    expect((await collection.find({ owner: 'o9' })).map((doc) => doc._id)).toEqual(['later']);
  });
});
