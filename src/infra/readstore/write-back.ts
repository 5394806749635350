import { freezeOwned, ownedCopy } from '../frozen.ts';
import { summedTwins, twinCollections } from './counter-twins.ts';
import { fastUpdate } from './fast-path.ts';
import { idNamed, matchesFilter, onlyId, updatedDoc, upsertedDoc } from './updates.ts';
import { type AggregateLimits, type BatchOptions, type BulkOperation, type Collection, type Doc, DuplicateKeyError, type Filter, type FindOptions, type IndexDescription, type IndexOptions, type ReadStore, type Twins, type UpdateOperators, type UpdateResult } from './port.ts';

/** A unit's sums of twins: told which day counter collections it sums them for. */
interface TwinSums {
  take(day: string, twins: Twins): void;
}

const NOT_MATCHED: UpdateResult = { matchedCount: 0, modifiedCount: 0, upsertedId: null };


/**
 * Adds `by` to the number at a dotted path of a document this unit owns (missing: 0), making the objects on the
 * way; a frozen one on the way (a part shared with a stored document) is replaced by a copy first.
 */
function addAt(doc: Record<string, unknown>, path: string, by: number): void {
  if (!path.includes('.')) {
    doc[path] = ((doc[path] as number | undefined) ?? 0) + by;
    return;
  }
  const parts = path.split('.');
  let into = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!;
    const next = into[key];
    into = (next !== null && typeof next === 'object' ? (Object.isFrozen(next) ? (into[key] = { ...next }) : next) : (into[key] = {})) as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  into[last] = ((into[last] as number | undefined) ?? 0) + by;
}

/**
 * Whether a pending document is the unit's own (its copy, or new), which nobody else holds: writable, and changed
 * in place by the unit's next writes. A document a batch changes a thousand times is copied once per unit, not
 * once per write, and leaves no earlier versions behind for the garbage collector (a replay's unit lives long
 * enough for them to reach the old generation and fragment it). One is frozen when it is handed to a reader (who
 * may keep it) and when it is committed, and a pending document that may be shared is always frozen (a stored
 * one, an upsert's, mingo's result, one a caller wrote whole): a write after that works on a copy again.
 */
const isOwn = (doc: Doc | null): doc is Doc => doc !== null && !Object.isFrozen(doc);

/** Whether update operators name the `_id` (which only mingo's path refuses, as MongoDB does). */
const changesId = (operators: UpdateOperators): boolean => {
  for (const fields of Object.values(operators)) if (fields && '_id' in fields) return true;
  return false;
};

/** The filter a unit's write of `doc` replaces: the stored document unless that one has a later `_position`. */
const notNewerThan = (id: string, doc: Doc): Filter =>
  typeof doc._position === 'number' ? { _id: id, $or: [{ _position: { $lte: doc._position } }, { _position: { $exists: false } }] } : { _id: id };


/**
 * One collection of a write-back unit: writes addressed by `_id` change documents kept here; anything else
 * writes them to the store first, so it sees every earlier write.
 */
class WriteBackCollection<T extends Doc> implements Collection<T> {
  /** The documents written since the last commit, by id, as they are now (null: deleted). */
  private pending = new Map<string, T | null>();

  /** For a collection of day counters whose twins the unit sums: which twins (set by sumsTwins). */
  private summedTwins: Twins | undefined;
  /** For a twin collection the unit sums: its sums, written before it is read. */
  summing: (() => Promise<void>) | undefined;

  constructor(
    readonly name: string,
    private readonly inner: Collection<T>,
    /** Whether to keep a later version another process wrote (see ReadStore.shared). */
    private readonly keepLater: boolean,
    /** The unit's sums of twins, when it makes them (a replay into empty collections). */
    private readonly twinSums: TwinSums | undefined,
  ) {}

  /** The unit sums this collection's twins when it makes sums (a field compared per call, after the first). */
  sumsTwins(twins: Twins): boolean {
    if (!this.twinSums) return false;
    if (this.summedTwins !== twins && this.summedTwins !== 'balance') this.twinSums.take(this.name, (this.summedTwins = twins));
    return true;
  }

  /**
   * Hands the pending documents over to an empty collection of a store that takes them whole (adoptAll): the
   * pending map becomes the collection's, with no write per document (a replay's commit into its empty
   * collections took 1.3–1.5 s on the 100k benchmark log, against 1.7–2.0 s). Only documents, each holding its id
   * (no deletion), and never where a later version written by another process must be kept.
   */
  private adopted(): boolean {
    if (this.keepLater || !this.inner.adoptAll) return false;
    // (One pass: a document frozen before a deletion turns up is frozen by the bulk write all the same.)
    for (const [id, doc] of this.pending) {
      if (doc === null || doc._id !== id) return false;
      freezeOwned(doc);
    }
    if (!this.inner.adoptAll(this.pending as Map<string, T>)) return false;
    this.pending = new Map();
    return true;
  }

  /** Replaces documents (whole, by id) and writes them, with what was pending, to the store. */
  async replaceAll(docs: readonly T[]): Promise<void> {
    for (const doc of docs) this.pending.set(doc._id, doc);
    await this.commit();
  }

  /**
   * The pending document by id (null: deleted), or the stored one when this unit has not written it; the
   * pending one without a promise to wait for.
   */
  private current(id: string): T | null | Promise<T | null> {
    const pending = this.pending.get(id);
    return pending !== undefined ? pending : this.stored(id);
  }

  /** The stored document (the unit has not written it): at once where the store can say, else its promise. */
  private stored(id: string): T | null | Promise<T | null> {
    return this.inner.storedNow ? this.inner.storedNow(id) : this.inner.findOne({ _id: id });
  }

  /** A pending document as a reader gets it: frozen, and no longer changed in place (a stored one is as it came). */
  private handedOut(id: string): T | null | Promise<T | null> {
    const pending = this.pending.get(id);
    if (pending === undefined) return this.stored(id);
    if (isOwn(pending)) freezeOwned(pending);
    return pending;
  }

  /** Sets a pending document: one of the unit's own (writable), or one that may be shared (frozen, or a deletion). */
  private keep(id: string, doc: T | null): void {
    this.pending.set(id, doc);
  }

  /**
   * Writes the pending documents to the store in one bulk write: deletions first, then each document once. In a
   * shared store, a document that records the last event applied to it (`_position`) replaces only an older or
   * equal one: where another runner (a rolling deploy) has written a later version meanwhile, that one stays.
   */
  async commit(): Promise<void> {
    if (this.pending.size === 0) return;
    if (this.adopted()) return;
    const deletions: BulkOperation[] = [];
    const writes: BulkOperation[] = [];
    for (const [id, doc] of this.pending) {
      if (doc) writes.push({ replaceOne: { filter: this.keepLater ? notNewerThan(id, doc) : { _id: id }, replacement: freezeOwned(doc), upsert: true } });
      else deletions.push({ deleteOne: { filter: { _id: id } } });
    }
    this.pending.clear();
    const operations = [...deletions, ...writes];
    try {
      await this.inner.bulkWrite(operations);
    } catch (error) {
      if (!this.keepLater || !(error instanceof DuplicateKeyError)) throw error;
      // Perhaps a later version is stored: the writes go one by one (idempotent, so those made before the collision
      // are harmless), and one that collides with a later version leaves it; any other collision is one.
      for (const operation of operations) {
        try {
          await this.inner.bulkWrite([operation]);
        } catch (collision) {
          if (!(collision instanceof DuplicateKeyError) || !(await this.laterStored(operation))) throw collision;
        }
      }
    }
  }

  /** Whether the store holds a later version of the document a replacement writes. */
  private async laterStored(operation: BulkOperation): Promise<boolean> {
    if (!('replaceOne' in operation)) return false;
    const position = operation.replaceOne.replacement._position;
    if (typeof position !== 'number') return false;
    const stored = await this.inner.findOne({ _id: operation.replaceOne.replacement._id });
    return typeof stored?._position === 'number' && stored._position > position;
  }

  /** The store itself, with what is pending written first. */
  private async written(): Promise<Collection<T>> {
    if (this.summing) await this.summing();
    await this.commit();
    return this.inner;
  }

  async findOne(filter: Filter, options?: Pick<FindOptions, 'projection' | 'sort'>): Promise<T | null> {
    const id = onlyId(filter);
    if (id !== undefined && !options?.projection && !this.summing) return this.handedOut(id);
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

  async aggregate<R>(pipeline: Record<string, unknown>[], limits?: AggregateLimits): Promise<R[]> {
    return (await this.written()).aggregate<R>(pipeline, limits);
  }

  /** Takes the document as it is (see WriteBackStore). */
  async insertOne(document: T): Promise<void> {
    if ((await this.current(document._id)) !== null) throw new DuplicateKeyError(this.name, '_id_', { _id: document._id });
    this.keep(document._id, freezeOwned(document));
  }

  /** Takes the replacement as it is when it has the id (see WriteBackStore); a copy of one without. */
  async replaceOne(filter: Filter, replacement: T, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    const id = onlyId(filter);
    if (id === undefined || (replacement._id !== undefined && replacement._id !== id)) return (await this.written()).replaceOne(filter, replacement, options);
    const current = await this.current(id);
    if (!current && !options.upsert) return NOT_MATCHED;
    if (replacement._id === id) this.keep(id, freezeOwned(replacement));
    else {
      const next = ownedCopy(replacement);
      next._id = id;
      this.keep(id, next);
    }
    return current ? { matchedCount: 1, modifiedCount: 1, upsertedId: null } : { ...NOT_MATCHED, upsertedId: id };
  }

  /** By `_id`, with or without other conditions (a counter's `_position` guard): the conditions are checked here. */
  async updateOne(filter: Filter, update: UpdateOperators, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    const id = idNamed(filter);
    if (id === undefined) return (await this.written()).updateOne(filter, update, options);
    const pending = this.pending.get(id);
    const known = pending !== undefined ? pending : this.stored(id);
    const found = known instanceof Promise ? await known : known;
    const current = found && (onlyId(filter) !== undefined || matchesFilter(found, filter)) ? found : null;
    if (!current) {
      if (!options.upsert) return NOT_MATCHED;
      // As MongoDB: the document the upsert would insert has the id of one the conditions did not match.
      if (found) throw new DuplicateKeyError(this.name, '_id_', { _id: id });
      this.keep(id, upsertedDoc<T>(filter, update));
      return { ...NOT_MATCHED, upsertedId: id };
    }
    // In place on a document the unit owns, else on a shallow copy (frozen parts are copied before they change).
    const { $setOnInsert: _ignored, ...operators } = update;
    const own = current === pending && isOwn(current);
    const next = own ? current : { ...current };
    const modified = changesId(operators) ? undefined : fastUpdate(next, operators);
    if (modified === undefined) {
      // mingo's operators (or a change of the _id, refused there): on a frozen document, into a frozen new one.
      if (own) freezeOwned(current);
      const updated = updatedDoc(current, update);
      if (updated) this.keep(id, updated);
      return { matchedCount: 1, modifiedCount: updated ? 1 : 0, upsertedId: null };
    }
    if (modified && !own) this.keep(id, next);
    return { matchedCount: 1, modifiedCount: modified ? 1 : 0, upsertedId: null };
  }

  /** Synchronous when the unit holds the counter already (most calls of a batch): no promise to make or wait for. */
  incrementCounter(id: string, key: Record<string, string>, inc: Record<string, number>, position: number): Promise<void> | undefined {
    const doc = this.pending.get(id);
    if (doc !== undefined) return this.countInto(id, doc, isOwn(doc), key, inc, position);
    const stored = this.stored(id);
    return stored instanceof Promise ? stored.then((found) => this.countInto(id, found, false, key, inc, position)) : this.countInto(id, stored, false, key, inc, position);
  }

  /** Counts into the counter as the unit sees it (changed in place when the unit owns it, else on a copy), or a new one. */
  private countInto(id: string, found: Record<string, unknown> | null, own: boolean, key: Record<string, string>, inc: Record<string, number>, position: number): undefined {
    let doc = found;
    if (doc) {
      // Counted already (or not a counter, which the guarded update would not match either).
      if (typeof doc._position !== 'number' || doc._position >= position) return;
      if (!own) {
        doc = { ...doc };
        this.keep(id, doc as T);
      }
    } else {
      doc = { _id: id };
      this.keep(id, doc as T);
    }
    for (const field in key) doc[field] = key[field];
    for (const path in inc) addAt(doc, path, inc[path]!);
    doc._position = position;
    return undefined;
  }

  async updateMany(filter: Filter, update: UpdateOperators): Promise<UpdateResult> {
    return (await this.written()).updateMany(filter, update);
  }

  async deleteOne(filter: Filter): Promise<{ deletedCount: number }> {
    const id = onlyId(filter);
    if (id === undefined) return (await this.written()).deleteOne(filter);
    const current = await this.current(id);
    if (current) this.keep(id, null);
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

  async listIndexes(): Promise<IndexDescription[]> {
    return this.inner.listIndexes();
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
 *
 * A document written whole (insertOne, or replaceOne with its `_id`) is taken as it is and frozen in place, parts
 * and all, not copied: its writer (a projection, which builds each version anew) must not change it afterwards,
 * and cannot (a change throws). Those copies were a tenth of what a replay's thread allocated on the 100k
 * benchmark log; without them it spent about 0.9 s of CPU less (17.0 s against 18.0 s to the last batch).
 */
export class WriteBackStore implements ReadStore {
  private readonly collections = new Map<string, WriteBackCollection<Doc>>();

  /** The collections of day counters whose twins this unit sums, with which twins. */
  private readonly summed = new Map<string, Twins>();
  private readonly twinSums: TwinSums | undefined;

  /**
   * `sumsTwins`: the unit applies a replay into empty collections (nothing else writes them meanwhile), so the
   * twins of day counters are summed from them when it commits (see `Collection.sumsTwins`), each twin document
   * written once instead of counted with each event.
   */
  constructor(
    private readonly inner: ReadStore,
    options: { sumsTwins?: boolean } = {},
  ) {
    this.twinSums = options.sumsTwins ? { take: (day, twins) => this.take(day, twins) } : undefined;
  }

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    return this.ofUnit(name) as unknown as Collection<T>;
  }

  private ofUnit(name: string): WriteBackCollection<Doc> {
    let collection = this.collections.get(name);
    if (!collection) this.collections.set(name, (collection = new WriteBackCollection(name, this.inner.collection(name), this.inner.shared === true, this.twinSums)));
    return collection;
  }

  /** Sums the twins of a day counter collection from now on: a read of a twin writes their sums first. */
  private take(day: string, twins: Twins): void {
    this.summed.set(day, twins);
    for (const twin of twinCollections(day, twins)) this.ofUnit(twin).summing = () => this.writeTwins(day);
  }

  /** Writes the twins of a day counter collection, summed from all its counters (those written, and pending). */
  private async writeTwins(day: string): Promise<void> {
    const twins = this.summed.get(day)!;
    await this.ofUnit(day).commit();
    const sums = summedTwins(day, twins, await this.inner.collection(day).find({}));
    for (const name of twinCollections(day, twins)) await this.ofUnit(name).replaceAll(sums.get(name)!);
  }

  /** Writes every pending document to the store, and the twins it sums. */
  async commit(): Promise<void> {
    for (const collection of [...this.collections.values()]) await collection.commit();
    for (const day of this.summed.keys()) await this.writeTwins(day);
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
