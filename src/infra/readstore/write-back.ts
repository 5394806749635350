import { frozenCopy } from '../frozen.ts';
import { onlyId, updatedDoc, upsertedDoc } from './updates.ts';
import { type BatchOptions, type BulkOperation, type Collection, type Doc, DuplicateKeyError, type Filter, type FindOptions, type IndexOptions, type ReadStore, type UpdateOperators, type UpdateResult } from './port.ts';

const NOT_MATCHED: UpdateResult = { matchedCount: 0, modifiedCount: 0, upsertedId: null };


/**
 * One collection of a write-back unit: writes addressed by `_id` change documents kept here; anything else
 * writes them to the store first, so it sees every earlier write.
 */
class WriteBackCollection<T extends Doc> implements Collection<T> {
  /** The documents written since the last commit, by id, as they are now (null: deleted). */
  private readonly pending = new Map<string, T | null>();

  constructor(
    readonly name: string,
    private readonly inner: Collection<T>,
  ) {}

  /** The document as this unit sees it. */
  private async current(id: string): Promise<T | null> {
    const pending = this.pending.get(id);
    return pending !== undefined ? pending : this.inner.findOne({ _id: id });
  }

  /** Writes the pending documents to the store in one bulk write: deletions first, then each document once. */
  async commit(): Promise<void> {
    if (this.pending.size === 0) return;
    const deletions: BulkOperation[] = [];
    const writes: BulkOperation[] = [];
    for (const [id, doc] of this.pending) {
      if (doc) writes.push({ replaceOne: { filter: { _id: id }, replacement: doc, upsert: true } });
      else deletions.push({ deleteOne: { filter: { _id: id } } });
    }
    this.pending.clear();
    await this.inner.bulkWrite([...deletions, ...writes]);
  }

  /** The store itself, with what is pending written first. */
  private async written(): Promise<Collection<T>> {
    await this.commit();
    return this.inner;
  }

  async findOne(filter: Filter, options?: Pick<FindOptions, 'projection' | 'sort'>): Promise<T | null> {
    const id = onlyId(filter);
    if (id !== undefined && !options?.projection) return this.current(id);
    return (await this.written()).findOne(filter, options);
  }

  async find(filter: Filter, options?: FindOptions): Promise<T[]> {
    return (await this.written()).find(filter, options);
  }

  async *findInBatches(filter: Filter, options: BatchOptions): AsyncIterable<T[]> {
    yield* (await this.written()).findInBatches(filter, options);
  }

  async countDocuments(filter?: Filter): Promise<number> {
    return (await this.written()).countDocuments(filter);
  }

  async aggregate<R>(pipeline: Record<string, unknown>[]): Promise<R[]> {
    return (await this.written()).aggregate<R>(pipeline);
  }

  async insertOne(document: T): Promise<void> {
    if ((await this.current(document._id)) !== null) throw new DuplicateKeyError(this.name, '_id_', { _id: document._id });
    this.pending.set(document._id, frozenCopy(document));
  }

  async replaceOne(filter: Filter, replacement: T, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    const id = onlyId(filter);
    if (id === undefined || (replacement._id !== undefined && replacement._id !== id)) return (await this.written()).replaceOne(filter, replacement, options);
    const current = await this.current(id);
    if (!current && !options.upsert) return NOT_MATCHED;
    this.pending.set(id, frozenCopy({ ...replacement, _id: id }));
    return current ? { matchedCount: 1, modifiedCount: 1, upsertedId: null } : { ...NOT_MATCHED, upsertedId: id };
  }

  async updateOne(filter: Filter, update: UpdateOperators, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    const id = onlyId(filter);
    if (id === undefined) return (await this.written()).updateOne(filter, update, options);
    const current = await this.current(id);
    if (!current) {
      if (!options.upsert) return NOT_MATCHED;
      this.pending.set(id, upsertedDoc<T>(filter, update));
      return { ...NOT_MATCHED, upsertedId: id };
    }
    const next = updatedDoc(current, update);
    if (next) this.pending.set(id, next);
    return { matchedCount: 1, modifiedCount: next ? 1 : 0, upsertedId: null };
  }

  async updateMany(filter: Filter, update: UpdateOperators): Promise<UpdateResult> {
    return (await this.written()).updateMany(filter, update);
  }

  async deleteOne(filter: Filter): Promise<{ deletedCount: number }> {
    const id = onlyId(filter);
    if (id === undefined) return (await this.written()).deleteOne(filter);
    const current = await this.current(id);
    if (current) this.pending.set(id, null);
    return { deletedCount: current ? 1 : 0 };
  }

  async deleteMany(filter: Filter): Promise<{ deletedCount: number }> {
    return (await this.written()).deleteMany(filter);
  }

  async bulkWrite(operations: BulkOperation[]): Promise<void> {
    await (await this.written()).bulkWrite(operations);
  }

  async createIndex(keys: Record<string, 1 | -1>, options?: IndexOptions): Promise<string> {
    return (await this.written()).createIndex(keys, options);
  }

  async drop(): Promise<void> {
    this.pending.clear();
    await this.inner.drop();
  }
}

/**
 * A unit of work over a read store, for applying a batch of events: each document the batch changes (a
 * counter `$inc`-ed by a thousand events, a customer changed and then given contacts) is written once, by
 * `commit`, instead of once per event. Reads by `_id` see the unit's own writes; any other read or write of a
 * collection writes the collection's pending documents first, so every query answers as if each write had
 * gone straight to the store. Nothing reaches the store for a unit that is dropped before its commit, except
 * what such a query wrote (a replay of the same events is harmless: projections are idempotent).
 */
export class WriteBackStore implements ReadStore {
  private readonly collections = new Map<string, WriteBackCollection<Doc>>();

  constructor(private readonly inner: ReadStore) {}

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    let collection = this.collections.get(name);
    if (!collection) this.collections.set(name, (collection = new WriteBackCollection(name, this.inner.collection(name))));
    return collection as unknown as Collection<T>;
  }

  /** Writes every pending document to the store. */
  async commit(): Promise<void> {
    for (const collection of this.collections.values()) await collection.commit();
  }

  async flush(): Promise<void> {
    await this.commit();
    await this.inner.flush();
  }

  async ping(): Promise<void> {
    await this.inner.ping();
  }

  /** Commits; the store underneath stays open (it is not this unit's). */
  async close(): Promise<void> {
    await this.commit();
  }
}
