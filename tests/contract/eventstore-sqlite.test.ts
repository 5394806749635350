import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EventIdConflictError, EventStoreOutcomeUnknownError, type EventToAppend, type RecordedEvent, WrongExpectedRevisionError } from '../../src/infra/eventstore/port.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { SqliteBackedStore } from '../../src/infra/readstore/durable.ts';
import { WalCheckpointer } from '../../src/infra/eventstore/wal-checkpointer.ts';
import { eventStoreContract } from './eventstore.contract.ts';

/** The metadata of every event these tests append. */
const metadata = { actor: 't', at: '2026-11-30T00:00:00.000Z', correlationId: 'c', schemaVersion: 1 };
/** An event to append, of a type and with data. */
const eventOf = (type: string, data: Record<string, unknown>): EventToAppend => ({ id: randomUUID(), type, data, metadata });

const paths = new WeakMap<object, string>();
eventStoreContract(
  'sqlite file',
  async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const store = new SqliteEventStore({ path });
    paths.set(store, path);
    return store;
  },
  {
    restart: async (store) => {
      await store.close();
      const path = paths.get(store)!;
      const reopened = new SqliteEventStore({ path });
      paths.set(reopened, path);
      return reopened;
    },
  },
);

// The log's checkpoints in a thread of their own from the first append (a store that writes little starts none).
eventStoreContract(
  'sqlite file, checkpoints in a thread',
  async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const store = new SqliteEventStore({ path, checkpointThreadAfter: 0 });
    paths.set(store, path);
    return store;
  },
  {
    restart: async (store) => {
      await store.close();
      const path = paths.get(store)!;
      const reopened = new SqliteEventStore({ path, checkpointThreadAfter: 0 });
      paths.set(reopened, path);
      return reopened;
    },
  },
);

// Appends written by a thread of their own over a connection of their own, as the service writes them.
eventStoreContract(
  'sqlite file, writes in a thread',
  async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const store = new SqliteEventStore({ path, writerThread: true });
    paths.set(store, path);
    return store;
  },
  {
    restart: async (store) => {
      await store.close();
      const path = paths.get(store)!;
      const reopened = new SqliteEventStore({ path, writerThread: true });
      paths.set(reopened, path);
      return reopened;
    },
  },
);

describe('the sqlite store checkpoints its log from a thread of its own', () => {
  const big = (n: number): EventToAppend => eventOf('Happened', { n, text: 'x'.repeat(1_000) });
  const appendMegabytes = async (store: SqliteEventStore) => {
    for (let group = 0; group < 8; group++) await Promise.all(Array.from({ length: 100 }, (_, i) => store.append(`thing-${group}-${i}`, [big(i)], 'no_stream')));
  };

  it('copies the log into the database file while the writer goes on (the writer alone would wait for 1,000 pages)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const alone = new SqliteEventStore({ path: `${path}.alone`, checkpointThreadAfter: Infinity });
    const threaded = new SqliteEventStore({ path, checkpointThreadAfter: 0 });
    const initial = statSync(path).size;
    expect(statSync(`${path}.alone`).size).toBe(initial);
    await appendMegabytes(alone);
    await appendMegabytes(threaded);
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(initial + 1_000_000), { timeout: 5_000, interval: 50 });
    // The same 800 events, about 2 MB of log: below SQLite's own threshold, nothing copied yet.
    expect(statSync(`${path}.alone`).size).toBe(initial);
    await Promise.all([alone.close(), threaded.close()]);
    const reopened = new SqliteEventStore({ path });
    expect((await reopened.readAll()).length).toBe(800);
    await reopened.close();
  });
});

describe('the checkpoint thread', () => {
  it('says when it ends by itself (the writer then checkpoints as before), and not when it is stopped', async () => {
    const failed = vi.fn();
    WalCheckpointer.start(join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'missing.sqlite'), { onStopped: failed });
    await vi.waitFor(() => expect(failed).toHaveBeenCalledTimes(1), { timeout: 5_000, interval: 20 });

    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const store = new SqliteEventStore({ path });
    const stopped = vi.fn();
    const thread = WalCheckpointer.start(path, { onStopped: stopped, everyMs: 10 })!;
    await new Promise((resolve) => setTimeout(resolve, 100));
    await thread.stop();
    await store.close();
    expect(stopped).not.toHaveBeenCalled();
  });
});

// Nothing to restart: the log lives as long as the store.
eventStoreContract('sqlite in memory', async () => new SqliteEventStore({ path: ':memory:' }), { restart: async (store) => store });

for (const writerThread of [false, true])
describe(`the sqlite store serves streams it read from memory, exactly${writerThread ? ', its appends written in a thread' : ''}`, () => {
  const event = (type = 'Happened', n = 0): EventToAppend => eventOf(type, { n });
  const types = (events: readonly RecordedEvent[]) => events.map((e) => `${e.type}${(e.data as { n: number }).n}`);

  it('sees appends made through another store on the same file (another process) on the next read', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const mine = new SqliteEventStore({ path, writerThread });
    const theirs = new SqliteEventStore({ path });
    await mine.append('thing-1', [event('A')], 'no_stream');
    await mine.append('thing-2', [event('B')], 'no_stream');
    expect(types(await mine.readStream('thing-1'))).toEqual(['A0']);
    expect(types(await mine.readStream('thing-2'))).toEqual(['B0']);
    await theirs.append('thing-1', [event('C')], 0n);
    expect(types(await mine.readStream('thing-1'))).toEqual(['A0', 'C0']);
    // Its own append after a foreign one: the expected revision is checked against the file, not the memory.
    await theirs.append('thing-2', [event('D')], 0n);
    await expect(mine.append('thing-2', [event('E')], 0n)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect(types(await mine.readStream('thing-2'))).toEqual(['B0', 'D0']);
    await mine.close();
    await theirs.close();
  });

  it('an atomic append that fails leaves the cache exact: positions it rolled back, taken by another writer, are seen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const mine = new SqliteEventStore({ path, writerThread });
    const theirs = new SqliteEventStore({ path });
    await mine.append('thing-0', [event('A')], 'no_stream');
    expect(await mine.readStream('thing-1')).toEqual([]);
    await expect(mine.appendAtomically([{ streamId: 'thing-2', events: [event('B')], expected: 'no_stream' }, { streamId: 'thing-3', events: [event('C')], expected: 5n }])).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    await theirs.append('thing-1', [event('D')], 'no_stream');
    expect(types(await mine.readStream('thing-1'))).toEqual(['D0']);
    expect(await mine.readStream('thing-2')).toEqual([]);
    await mine.close();
    await theirs.close();
  });

  it('knows which streams exist without a query, exactly: one created by another store is read in full and refused to no_stream; a reopened store knows every stream of the file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const mine = new SqliteEventStore({ path, writerThread });
    const theirs = new SqliteEventStore({ path });
    expect(await mine.readStream('thing-new')).toEqual([]);
    await theirs.append('thing-new', [event('A')], 'no_stream');
    await expect(mine.append('thing-new', [event('B')], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect(types(await mine.readStream('thing-new'))).toEqual(['A0']);
    await Promise.all(Array.from({ length: 3000 }, (_, i) => theirs.append(`many-${i}`, [event('M', i)], 'no_stream')));
    const reopened = new SqliteEventStore({ path });
    for (const i of [0, 1234, 2999]) expect(types(await reopened.readStream(`many-${i}`))).toEqual([`M${i}`]);
    expect(types(await mine.readStream('many-2999'))).toEqual(['M2999']);
    // A store for a batch job (no stream cache) learns the streams only when it first needs them: one that only
    // reads the log never reads them all; its first append still knows every stream, also those written since.
    const batch = new SqliteEventStore({ path, cachedStreams: 0 });
    const known = () => (batch as unknown as { bloom?: unknown }).bloom;
    expect((await batch.readAll({ maxCount: 10 })).length).toBe(10);
    expect(known()).toBeUndefined();
    await theirs.append('many-3000', [event('M', 3000)], 'no_stream');
    await expect(batch.append('many-3000', [event('B')], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    await expect(batch.append('thing-new', [event('B')], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect(known()).toBeDefined();
    expect((await batch.append('batch-1', [event('B')], 'no_stream')).nextExpectedRevision).toBe(0n);
    expect(known()).toBeDefined();
    await Promise.all([mine.close(), theirs.close(), reopened.close(), batch.close()]);
  });

  it('answers partial reads from the whole stream, hands out frozen events, and keeps at most the streams it is told', async () => {
    const store = new SqliteEventStore({ path: ':memory:', cachedStreams: 2 });
    await store.append('thing-1', [event('A', 0), event('A', 1), event('A', 2)], 'no_stream');
    const whole = await store.readStream('thing-1');
    expect(Object.isFrozen(whole) && Object.isFrozen(whole[0]!.data)).toBe(true);
    expect(() => ((whole[0]!.data as { n: number }).n = 9)).toThrow(TypeError);
    expect(await store.readStream('thing-1')).toBe(whole);
    expect(types(await store.readStream('thing-1', { fromRevision: 1n, maxCount: 1 }))).toEqual(['A1']);
    expect(types(await store.readStream('thing-1', { fromRevision: 2n }))).toEqual(['A2']);
    await store.append('thing-2', [event('B')], 'no_stream');
    await store.append('thing-3', [event('C')], 'no_stream');
    await store.readStream('thing-2');
    await store.readStream('thing-3'); // thing-1, read least recently, leaves the memory
    expect(await store.readStream('thing-1')).not.toBe(whole);
    expect(types(await store.readStream('thing-1'))).toEqual(['A0', 'A1', 'A2']);
    await store.close();
  });
});

for (const writerThread of [false, true])
describe(`the sqlite store commits concurrent appends together${writerThread ? ', in its writer thread' : ''}`, () => {
  const event = (n: number): EventToAppend => eventOf('Counted', { n });
  /** Where a group is committed: the writer thread, or the store's own connection. */
  const committer = (store: SqliteEventStore) => (store as unknown as Record<'writerThread' | 'appender', { commit(group: unknown[]): unknown }>)[writerThread ? 'writerThread' : 'appender'];
  const fileStore = () => new SqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite'), writerThread });

  it('32 writers: nothing lost or doubled, each append checked against its own expected revision, fewer commits than appends', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const store = new SqliteEventStore({ path, writerThread });
    const commits = vi.spyOn(committer(store), 'commit');
    let conflicts = 0;
    let sharedWins = 0;
    const writer = async (w: number) => {
      for (let i = 0; i < 40; i++) {
        // Its own stream: every append must land, in order.
        const own = await store.append(`own-${w}`, [event(i)], i === 0 ? 'no_stream' : BigInt(i - 1));
        expect(own.nextExpectedRevision).toBe(BigInt(i));
        // A stream all writers contend for: read, then append expecting what was read; a stale writer is refused.
        const seen = await store.readStream('shared-1');
        try {
          await store.append('shared-1', [event(w)], seen.length ? seen[seen.length - 1]!.revision : 'no_stream');
          sharedWins += 1;
        } catch (error) {
          expect(error).toBeInstanceOf(WrongExpectedRevisionError);
          conflicts += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, (_, w) => writer(w)));
    for (let w = 0; w < 32; w++) expect((await store.readStream(`own-${w}`)).map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const shared = await store.readStream('shared-1');
    expect(shared.map((e) => e.revision)).toEqual(shared.map((_, i) => BigInt(i)));
    expect(shared.length).toBe(sharedWins);
    expect(conflicts).toBeGreaterThan(0);
    expect(sharedWins + conflicts).toBe(32 * 40);
    const all = await store.readAll();
    expect(all.length).toBe(32 * 40 + sharedWins);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(commits.mock.calls.length).toBeLessThan((32 * 40 + 32 * 40) / 4);
    // Reopened: the same log (every acknowledged append was committed).
    await store.close();
    const reopened = new SqliteEventStore({ path });
    expect((await reopened.readAll()).length).toBe(all.length);
    expect((await reopened.verifyChain()).ok).toBe(true);
    await reopened.close();
  });

  it('an append that fails in a group leaves the others in it', async () => {
    const store = fileStore();
    const commits = vi.spyOn(committer(store), 'commit');
    const reused = event(0);
    await store.append('first-1', [reused], 'no_stream');
    const results = await Promise.allSettled([
      store.append('a-1', [event(1)], 'no_stream'),
      store.append('b-1', [event(2)], 5n),
      store.append('c-1', [{ ...reused, type: 'Other' }], 'no_stream'),
      store.append('d-1', [event(3), event(4)], 'no_stream'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(EventIdConflictError);
    expect((await store.readAll()).map((e) => e.streamId)).toEqual(['first-1', 'a-1', 'd-1', 'd-1']);
    expect(commits).toHaveBeenCalledTimes(2);
    expect((await store.verifyChain()).ok).toBe(true);
    await store.close();
  });
});

describe('the sqlite store whose writer thread stops', () => {
  it('answers the appends it had sent as of unknown outcome, and writes the next ones on its own connection', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const store = new SqliteEventStore({ path, writerThread: true });
    await store.append('before-1', [eventOf('Counted', { n: 0 })], 'no_stream');
    const { worker } = (store as unknown as { writerThread: { worker: { postMessage(message: unknown): void; terminate(): Promise<number> } } }).writerThread;
    // The group is sent, and held on its way, so the thread cannot answer it before it stops. Sent as it was, a thread
    // quick enough committed and answered between the send and the termination (seen in CI). Holding the write lock
    // from another connection instead would stop the thread inside a failing SQLite call, which aborts the whole
    // process (better-sqlite3 throws its error into the terminated thread; WiseLibs/better-sqlite3#842).
    const held: Array<{ kind: string }> = [];
    worker.postMessage = (message) => void held.push(message as { kind: string });
    const lost = store.append('lost-1', [eventOf('Counted', { n: 1 })], 'no_stream');
    await vi.waitFor(() => expect(held.map((message) => message.kind)).toEqual(['commit']));
    await worker.terminate();
    await expect(lost).rejects.toBeInstanceOf(EventStoreOutcomeUnknownError);
    expect((store as unknown as { writerThread?: unknown }).writerThread).toBeUndefined();
    // The caller finds out by reading: the thread never had the group, so it is not in the log, which is whole.
    expect(await store.readStream('lost-1')).toEqual([]);
    const after = await store.append('after-1', [eventOf('Counted', { n: 2 })], 'no_stream');
    expect(after.nextExpectedRevision).toBe(0n);
    expect((await store.readAll()).map((e) => e.streamId)).toEqual(['before-1', 'after-1']);
    expect((await store.verifyChain()).ok).toBe(true);
    await store.close();
  });
});

describe('the sqlite store reads a filter through its index or by walking the positions, with the same answers', () => {
  it('a dense, a rare and a mixed filter, by categories and types, paged at several sizes over many windows of positions', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    // 30,000 events: nine in ten of category dense, one in 600 rare, the rest mid; two types.
    const categoryOf = (n: number) => (n % 600 === 7 ? 'rare' : n % 10 === 3 ? 'mid' : 'dense');
    for (let chunk = 0; chunk < 300; chunk++) {
      const byStream = new Map<string, EventToAppend[]>();
      for (let n = chunk * 100; n < (chunk + 1) * 100; n++) {
        const stream = `${categoryOf(n)}-${n % 7}`;
        byStream.set(stream, [...(byStream.get(stream) ?? []), eventOf(n % 3 ? 'Kept' : 'Other', { n })]);
      }
      for (const [stream, events] of byStream) await store.append(stream, events, 'any');
    }
    const all = await store.readAll();
    expect(all).toHaveLength(30_000);
    const filters = [{ categories: ['dense'] }, { categories: ['rare'] }, { categories: ['rare', 'mid'] }, { categories: ['dense', 'mid'], eventTypes: ['Other'] }, { eventTypes: ['Kept'] }];
    for (const filter of filters) {
      const expected = all.filter((e) => (!filter.categories || filter.categories.includes(e.streamId.split('-')[0]!)) && (!('eventTypes' in filter) || filter.eventTypes!.includes(e.type)));
      for (const maxCount of [7, 2_000, 5_000, undefined]) {
        const read: RecordedEvent[] = [];
        for (let after = 0n; ; ) {
          const page = await store.readAll({ after, filter, ...(maxCount ? { maxCount } : {}) });
          read.push(...page);
          if (!maxCount || page.length < maxCount) break;
          after = page[page.length - 1]!.position;
          if (read.length > 40 && maxCount === 7) break; // the first pages are enough at this size
        }
        const want = maxCount === 7 ? expected.slice(0, read.length) : expected;
        expect(read.map((e) => e.position), JSON.stringify({ filter, maxCount })).toEqual(want.map((e) => e.position));
      }
    }
    // Both ways were taken: the rare filter through the index, the dense ones by walking.
    const plans = [...(store as unknown as { filteredReads: Map<string, unknown> }).filteredReads.keys()];
    expect(plans.some((key) => key.endsWith(':true'))).toBe(true);
    expect(plans.some((key) => key.endsWith(':false'))).toBe(true);
    await store.close();
  });
});

describe('the sqlite store rings a doorbell on appends, without reading them', () => {
  const event = (): EventToAppend => eventOf('Happened', {});

  it("rings at once for its own appends, after a poll for another connection's, and no more once closed", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const watched = new SqliteEventStore({ path, crossProcessPollMs: 20 });
    const other = new SqliteEventStore({ path });
    let rings = 0;
    const watch = watched.watchAppends(() => void (rings += 1));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(rings).toBe(0);
    await watched.append('thing-1', [event()], 'no_stream');
    expect(rings).toBe(1);
    await other.append('thing-2', [event()], 'no_stream');
    await vi.waitFor(() => expect(rings).toBe(2), { timeout: 2_000, interval: 10 });
    await watch.close();
    await watched.append('thing-3', [event()], 'no_stream');
    await other.append('thing-4', [event()], 'no_stream');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(rings).toBe(2);
    await Promise.all([watched.close(), other.close()]);
  });
});

describe("other connections to the log's file take turns with its writer thread", () => {
  it('a turn is given once no group is out, and no group is sent while one waits', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const log = new SqliteEventStore({ path, writerThread: true });
    await log.append('warm-1', [eventOf('Counted', { n: 0 })], 'no_stream'); // the thread is running
    const out = () => (log as unknown as { committing: Set<unknown> }).committing.size;
    const order: string[] = [];
    const first = Promise.all(Array.from({ length: 3 }, (_, i) => log.append(`first-${i}`, [eventOf('Counted', { n: i })], 'no_stream').then(() => order.push(`first-${i}`))));
    await new Promise((resolve) => setImmediate(resolve));
    expect(out()).toBe(1);
    const turn = log.writeTurn().then(() => order.push(`turn (groups out: ${out()})`));
    await new Promise((resolve) => setImmediate(resolve));
    const later = log.append('later-1', [eventOf('Counted', { n: 9 })], 'no_stream').then(() => order.push('later-1'));
    await Promise.all([first, turn, later]);
    expect(order).toEqual(['first-0', 'first-1', 'first-2', 'turn (groups out: 0)', 'later-1']);
    // With no group out, the turn is at once.
    expect(out()).toBe(0);
    await log.writeTurn();
    await log.close();
  });

  it('a write of the integration state during a create load never meets the lock held, so it never waits for it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-es-')), 'events.sqlite');
    const log = new SqliteEventStore({ path, writerThread: true });
    await log.append('warm-1', [eventOf('Counted', { n: 0 })], 'no_stream');
    const state = new SqliteBackedStore(path, 'normal', { sharesEventLog: log });
    // A connection that waits for no lock: a write that met it held would be refused (SQLITE_BUSY).
    (state as unknown as { db: Database.Database }).db.pragma('busy_timeout = 0');
    let loading = true;
    const load = (async () => {
      for (let round = 0; loading && round < 2_000; round++) await Promise.all(Array.from({ length: 32 }, (_, w) => log.append(`load-${randomUUID()}`, [eventOf('Counted', { n: w })], 'no_stream')));
    })();
    for (let i = 0; i < 400; i++) await state.collection('_consumers').updateOne({ _id: 'erp' }, { $set: { position: i } }, { upsert: true });
    loading = false;
    await load;
    expect(await state.collection('_consumers').findOne({ _id: 'erp' })).toEqual({ _id: 'erp', position: 399 });
    await state.close();
    await log.close();
  });
});
