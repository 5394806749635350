import Database from 'better-sqlite3';
import { deserialize, serialize } from 'node:v8';
import { leaveCheckpointsToTheLog, type SharedLogFile } from '../eventstore/wal-checkpointer.ts';
import { EmbeddedReadStore } from './embedded.ts';
import type { BulkOperation, Collection, Doc, Filter, FindOptions, IndexOptions, ReadStore, UpdateOperators, UpdateResult } from './port.ts';

/**
 * Integration state (the Kafka relay's checkpoint, consumers' checkpoints, the inbox of `onceByEventId`) in the
 * embedded default: queried in memory like the read models, but every write goes straight to a SQLite table, in
 * the event log's own file when the log is embedded. It is therefore never lost with the read-model snapshot,
 * and a power cut that takes the log's last commits takes the checkpoints written after them too (one write-ahead
 * log, committed in order), so a checkpoint cannot survive the events it counted.
 */
export class SqliteBackedStore implements ReadStore {
  private readonly memory = new EmbeddedReadStore();
  private readonly db: Database.Database;
  private readonly put: Database.Statement<[string, string, Buffer]>;
  private readonly remove: Database.Statement<[string, string]>;
  private readonly removeAll: Database.Statement<[string]>;
  private readonly wrapped = new Map<string, Collection<Doc>>();

  /** The embedded event log whose file this is, if it is (see `SharedLogFile`). */
  private readonly sharedLog: SharedLogFile | undefined;

  /** `sharesEventLog`: the file is that embedded event log's (see `SharedLogFile`). */
  constructor(path: string, durability: 'normal' | 'full' = 'normal', options: { sharesEventLog?: SharedLogFile } = {}) {
    this.sharedLog = options.sharesEventLog;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    if (options.sharesEventLog) leaveCheckpointsToTheLog(this.db);
    this.db.exec('CREATE TABLE IF NOT EXISTS integration_state (collection TEXT NOT NULL, id TEXT NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (collection, id)) WITHOUT ROWID');
    this.put = this.db.prepare('INSERT INTO integration_state (collection, id, doc) VALUES (?, ?, ?) ON CONFLICT (collection, id) DO UPDATE SET doc = excluded.doc');
    this.remove = this.db.prepare('DELETE FROM integration_state WHERE collection = ? AND id = ?');
    this.removeAll = this.db.prepare('DELETE FROM integration_state WHERE collection = ?');
    const load = this.db.prepare<[], { collection: string; doc: Buffer }>('SELECT collection, doc FROM integration_state');
    const byCollection = new Map<string, Doc[]>();
    for (const row of load.iterate()) {
      const docs = byCollection.get(row.collection) ?? [];
      docs.push(deserialize(row.doc) as Doc);
      byCollection.set(row.collection, docs);
    }
    for (const [name, docs] of byCollection) for (const doc of docs) void this.memory.collection(name).insertOne(doc);
  }

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    let collection = this.wrapped.get(name);
    if (!collection) this.wrapped.set(name, (collection = this.writeThrough(name)));
    return collection as unknown as Collection<T>;
  }

  /** The in-memory collection, with each write followed by the same write to SQLite for the documents it touched. */
  private writeThrough(name: string): Collection<Doc> {
    const inner = this.memory.collection(name);
    const sync = (ids: readonly string[]) => this.persist(name, ids);
    /** The ids a filter can touch: the one it names, or (any other filter) every document matching it. */
    const touched = async (filter: Filter): Promise<string[]> =>
      typeof filter._id === 'string' && Object.keys(filter).length === 1 ? [filter._id] : (await inner.find(filter, { projection: { _id: 1 } })).map((doc) => doc._id);
    const afterWrite = async <R>(ids: string[], run: () => Promise<R>): Promise<R> => {
      const result = await run();
      await sync(ids);
      return result;
    };
    return {
      findOne: (filter, options) => inner.findOne(filter, options),
      find: (filter: Filter, options?: FindOptions) => inner.find(filter, options),
      findInBatches: (filter, options) => inner.findInBatches(filter, options),
      countDocuments: (filter) => inner.countDocuments(filter),
      aggregate: (pipeline, limits) => inner.aggregate(pipeline, limits),
      insertOne: async (document) => afterWrite([document._id], () => inner.insertOne(document)),
      replaceOne: async (filter, replacement, options) => afterWrite([...new Set([...(await touched(filter)), replacement._id])], () => inner.replaceOne(filter, replacement, options)),
      updateOne: async (filter: Filter, update: UpdateOperators, options?: { upsert?: boolean }): Promise<UpdateResult> => {
        const before = await touched(filter);
        const result = await inner.updateOne(filter, update, options);
        await sync([...new Set([...before, ...(result.upsertedId ? [result.upsertedId] : [])])]);
        return result;
      },
      updateMany: async (filter, update) => afterWrite(await touched(filter), () => inner.updateMany(filter, update)),
      deleteOne: async (filter) => afterWrite(await touched(filter), () => inner.deleteOne(filter)),
      deleteMany: async (filter) => afterWrite(await touched(filter), () => inner.deleteMany(filter)),
      bulkWrite: async (operations: BulkOperation[]) => {
        for (const operation of operations) {
          if ('insertOne' in operation) await this.collection(name).insertOne(operation.insertOne.document);
          else if ('updateOne' in operation) await this.collection(name).updateOne(operation.updateOne.filter, operation.updateOne.update, { upsert: operation.updateOne.upsert ?? false });
          else if ('updateMany' in operation) await this.collection(name).updateMany(operation.updateMany.filter, operation.updateMany.update);
          else if ('replaceOne' in operation) await this.collection(name).replaceOne(operation.replaceOne.filter, operation.replaceOne.replacement, { upsert: operation.replaceOne.upsert ?? false });
          else if ('deleteOne' in operation) await this.collection(name).deleteOne(operation.deleteOne.filter);
          else if ('deleteMany' in operation) await this.collection(name).deleteMany(operation.deleteMany.filter);
        }
      },
      createIndex: (keys: Record<string, 1 | -1>, options?: IndexOptions) => inner.createIndex(keys, options),
      listIndexes: () => inner.listIndexes(),
      drop: async () => {
        await inner.drop();
        this.removeAll.run(name);
      },
    };
  }

  /** Documents written in memory since the last commit, by collection, and the writers waiting for that commit. */
  private dirty = new Map<string, Set<string>>();
  private waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  /**
   * Writes the touched documents as they are in memory now to SQLite, answering after the commit. The writes of
   * one event-loop turn share a transaction (a consumer's inbox entry and its checkpoint, several consumers'):
   * one commit instead of one per document.
   */
  private persist(name: string, ids: readonly string[]): Promise<void> {
    let touched = this.dirty.get(name);
    if (!touched) this.dirty.set(name, (touched = new Set()));
    for (const id of ids) touched.add(id);
    return new Promise((resolve, reject) => {
      if (this.waiting.push({ resolve, reject }) === 1) setImmediate(() => void this.commit());
    });
  }

  private async commit(): Promise<void> {
    const dirty = this.dirty;
    const waiting = this.waiting;
    this.dirty = new Map();
    this.waiting = [];
    if (waiting.length === 0) return;
    try {
      const rows: [string, string, Doc | null][] = [];
      for (const [name, ids] of dirty) for (const id of ids) rows.push([name, id, await this.memory.collection(name).findOne({ _id: id })]);
      await this.sharedLog?.writeTurn();
      if (!this.db.open) throw new Error('the integration state store is closed');
      this.db.transaction(() => {
        for (const [name, id, doc] of rows) {
          if (doc) this.put.run(name, id, serialize(doc));
          else this.remove.run(name, id);
        }
      })();
    } catch (error) {
      for (const waiter of waiting) waiter.reject(error);
      return;
    }
    for (const waiter of waiting) waiter.resolve();
  }

  async flush(): Promise<void> {
    await this.commit();
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    if (this.db.open) await this.commit();
    this.db.close();
  }
}
