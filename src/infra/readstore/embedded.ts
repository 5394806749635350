import { MINGO_OPTIONS } from './mingo-options.ts';
import { Query } from 'mingo';
import { randomUUID } from 'node:crypto';
import { existsSync, renameSync } from 'node:fs';
import { compileMatch, fastSort, isAscii, sortOrder } from './fast-path.ts';
import { isPlainValue, onlyId, updatedDoc, upsertedDoc } from './updates.ts';
import { freezeOwned, frozenCopy } from '../frozen.ts';
import { SortedIndex } from './sorted-index.ts';
import { aggregateInProcess, aggregateWithin } from './in-process-aggregate.ts';
import { StringSharer } from './shared-strings.ts';
import { type IndexSpec, readSnapshotFile, writeSnapshotFile } from './snapshot-file.ts';
import { type AggregateLimits, type BatchOptions, type BulkOperation, type Collection, type Doc, DuplicateKeyError, type Filter, type FindOptions, type IndexDescription, type IndexOptions, type ReadStore, type UpdateOperators, type UpdateResult } from './port.ts';

/** Documents an in-batches read matches and sorts before it lets other work run. */
const SCAN_SLICE = 4096;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
function* inBatches<T>(docs: T[], size: number): Generator<T[]> {
  for (let start = 0; start < docs.length; start += size) yield docs.slice(start, start + size);
}

const getPath = (doc: Record<string, unknown>, path: string): unknown =>
  path.includes('.') ? path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), doc) : doc[path];


/** What a field gives an index: each element of an array (multikey; an empty one as missing), or the value. */
const valuesOf = (doc: Doc, field: string): unknown[] => {
  const value = getPath(doc, field);
  return Array.isArray(value) ? (value.length ? value : [undefined]) : [value];
};

/**
 * Whether a dotted path reaches an array before its last step: MongoDB then matches the value of each element
 * (`{'lines.sku': 'A'}` finds a document whose `lines` is a list holding one), which an equality index keyed by the
 * path's value alone does not have.
 */
function throughArray(doc: Doc, path: string): boolean {
  const parts = path.split('.');
  let value: unknown = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    if (value === null || typeof value !== 'object') return false;
    value = (value as Record<string, unknown>)[parts[i]!];
    if (Array.isArray(value)) return true;
  }
  return false;
}

/** The ids holding one key: most keys (a name, a date) have one, kept as the id itself, not a set of one. */
type Holders = string | Set<string>;
type PlainKey = string | number | boolean | null;
const NO_IDS: ReadonlySet<string> = new Set();

function addHolder<K>(entries: Map<K, Holders>, key: K, id: string): void {
  const holders = entries.get(key);
  if (holders === undefined) entries.set(key, id);
  else if (typeof holders !== 'string') holders.add(id);
  else if (holders !== id) entries.set(key, new Set([holders, id]));
}

function removeHolder<K>(entries: Map<K, Holders>, key: K, id: string): void {
  const holders = entries.get(key);
  if (holders === undefined) return;
  if (typeof holders === 'string') {
    if (holders === id) entries.delete(key);
    return;
  }
  holders.delete(id);
  if (holders.size === 1) entries.set(key, holders.values().next().value!);
  else if (holders.size === 0) entries.delete(key);
}

/**
 * Adds an id to a key's ids while an index is loaded (see EqualityIndex.addAll): a list, not a set, for a key held by
 * more than one document; the set made from it at the end drops an id listed twice (an element twice in an array).
 */
function gatherHolder(entries: Map<PlainKey, Holders>, key: PlainKey, id: string): void {
  const holders = (entries as Map<PlainKey, Holders | string[]>).get(key);
  if (holders === undefined) entries.set(key, id);
  else if (typeof holders === 'string') (entries as Map<PlainKey, Holders | string[]>).set(key, [holders, id]);
  else (holders as string[]).push(id);
}

const othersThan = (holders: Holders | undefined, id: string): boolean =>
  holders !== undefined && (typeof holders === 'string' ? holders !== id : [...holders].some((holder) => holder !== id));

/**
 * An equality index over one or more fields. A field holding an array indexes each element (multikey),
 * as MongoDB does. Used by find/count/update when the filter gives plain equality on all its fields.
 * A single field's plain values are the keys themselves (sharing the documents' strings); compound keys and
 * objects are keyed by their JSON, in a map of their own.
 */
class EqualityIndex {
  readonly fields: string[];
  private readonly plain = new Map<PlainKey, Holders>();
  private readonly encoded = new Map<string, Holders>();
  /** The dotted fields, and how many documents held reach an array along one (while any do, it answers no filter). */
  private readonly dotted: string[];
  private throughArrays = 0;
  constructor(readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.keys);
    this.dotted = this.fields.filter((field) => field.includes('.'));
  }

  /** Whether the document reaches an array along one of the dotted fields. */
  reachesArray(doc: Doc): boolean {
    return this.dotted.length > 0 && this.dotted.some((field) => throughArray(doc, field));
  }

  /** Calls `visit` with the map, the key and the document's id for each entry the document has in this index. */
  private eachKey(doc: Doc, visit: (entries: Map<PlainKey, Holders>, key: PlainKey, id: string) => void): void {
    if (this.fields.length === 1) {
      // One field: no list of values made for the usual single value.
      const value = getPath(doc, this.fields[0]!);
      if (!Array.isArray(value)) this.visitValue(value, doc._id, visit);
      else if (value.length === 0) this.visitValue(undefined, doc._id, visit);
      else for (const item of value) this.visitValue(item, doc._id, visit);
      return;
    }
    let keys: unknown[][] = [[]];
    for (const field of this.fields) {
      const values = valuesOf(doc, field);
      keys = keys.flatMap((prefix) => values.map((v) => [...prefix, v ?? null]));
    }
    for (const key of keys) visit(this.encoded, JSON.stringify(key), doc._id);
  }

  /** A single field's value as its entry: the plain value itself, anything else by its JSON. */
  private visitValue(value: unknown, id: string, visit: (entries: Map<PlainKey, Holders>, key: PlainKey, id: string) => void): void {
    const key = value ?? null;
    if (isPlainValue(key)) visit(this.plain, key, id);
    else visit(this.encoded, JSON.stringify([key]), id);
  }

  add(doc: Doc, collection: string): void {
    if (this.spec.unique)
      this.eachKey(doc, (entries, key) => {
        if (othersThan(entries.get(key), doc._id)) throw new DuplicateKeyError(collection, this.spec.name, entries === this.plain ? [key] : JSON.parse(key as string));
      });
    this.eachKey(doc, addHolder);
    if (this.reachesArray(doc)) this.throughArrays += 1;
  }

  /**
   * Indexes many documents into this empty index (a load into an empty collection): a key's ids are
   * gathered in a list and made a set once at the end, which costs a tenth of adding them to a set one by one (a
   * status or an owner has tens of thousands). A unique index, or one that holds entries, adds them one by one.
   */
  addAll(docs: Iterable<Doc>, collection: string): void {
    if (this.spec.unique || this.plain.size !== 0 || this.encoded.size !== 0) {
      for (const doc of docs) this.add(doc, collection);
      return;
    }
    if (this.fields.length === 1) this.gatherAll(docs, this.fields[0]!);
    else
      for (const doc of docs) {
        this.eachKey(doc, gatherHolder);
        if (this.reachesArray(doc)) this.throughArrays += 1;
      }
    for (const entries of [this.plain, this.encoded] as Map<PlainKey, Holders | string[]>[])
      for (const [key, holders] of entries) {
        if (!Array.isArray(holders)) continue;
        const ids = new Set(holders);
        entries.set(key, ids.size === 1 ? holders[0]! : ids);
      }
  }

  /**
   * addAll's gathering for a single field: a document whose value is plain (most) in a loop of its own, with no
   * callback between it and the map; any other (an array, an object) as eachKey gives it.
   */
  private gatherAll(docs: Iterable<Doc>, field: string): void {
    const dotted = field.includes('.');
    for (const doc of docs) {
      if (dotted && throughArray(doc, field)) this.throughArrays += 1;
      const value = dotted ? getPath(doc, field) : doc[field];
      if (value === undefined) gatherHolder(this.plain, null, doc._id);
      else if (isPlainValue(value)) gatherHolder(this.plain, value, doc._id);
      else this.eachKey(doc, gatherHolder);
    }
  }

  remove(doc: Doc): void {
    this.eachKey(doc, removeHolder);
    if (this.reachesArray(doc)) this.throughArrays -= 1;
  }

  clear(): void {
    this.plain.clear();
    this.encoded.clear();
    this.throughArrays = 0;
  }

  /** The candidate ids for a filter, or undefined when this index cannot answer it. */
  candidates(filter: Filter): ReadonlySet<string> | undefined {
    if (this.throughArrays > 0) return undefined;
    const values: PlainKey[] = [];
    for (const field of this.fields) {
      let condition = filter[field];
      if (condition && typeof condition === 'object' && !Array.isArray(condition) && '$eq' in condition && Object.keys(condition).length === 1)
        condition = (condition as { $eq: unknown }).$eq;
      if (!isPlainValue(condition) || condition === null) return undefined;
      values.push(condition);
    }
    const holders = values.length === 1 ? this.plain.get(values[0]!) : this.encoded.get(JSON.stringify(values));
    return holders === undefined ? NO_IDS : typeof holders === 'string' ? new Set([holders]) : holders;
  }
}

/**
 * The document a replacement stores under `id`: a frozen one already under that id (a write-back unit's commit
 * hands its own frozen copies) as is, any other as a frozen copy with the id.
 */
const storedReplacement = <T extends Doc>(replacement: T, id: string): T =>
  Object.isFrozen(replacement) && replacement._id === id ? replacement : frozenCopy({ ...replacement, _id: id });

/** A page sorted by one indexed field walks its sorted index when a filter's candidates are more than this many per page row. */
const walkWhen = (candidates: number, total: number, wanted: number): boolean => candidates * candidates > wanted * total;

class EmbeddedCollection<T extends Doc> implements Collection<T> {
  /** Stored documents, deeply frozen: handed to readers as they are, replaced (never changed) by a write. */
  docs = new Map<string, T>();
  readonly indexes = new Map<string, EqualityIndex>();
  /** The documents in the order of singly indexed fields that queries sort by or ask ranges of. */
  readonly sorted = new Map<string, SortedIndex>();

  constructor(
    readonly name: string,
    private readonly changed: () => void,
  ) {}

  /** The ids the smallest usable equality index gives for a filter, if one can. */
  private indexed(filter: Filter): ReadonlySet<string> | undefined {
    let best: ReadonlySet<string> | undefined;
    for (const index of this.indexes.values()) {
      const ids = index.candidates(filter);
      if (ids && (!best || ids.size < best.size)) best = ids;
    }
    return best;
  }

  /** Documents that may match: from the smallest usable index, by _id, or all. */
  private candidates(filter: Filter): Iterable<T> {
    const id = filter._id;
    if (isPlainValue(id) && id !== null) {
      const doc = this.docs.get(String(id));
      return doc ? [doc] : [];
    }
    const best = this.indexed(filter);
    if (!best) return this.inRange(filter) ?? this.docs.values();
    const docs: T[] = [];
    for (const docId of best) {
      const doc = this.docs.get(docId);
      if (doc) docs.push(doc);
    }
    return docs;
  }

  /**
   * The documents a range condition on a sorted field admits ({$gte, $lt} and the like, over numbers, or over
   * ASCII strings such as ISO days, where JavaScript's order is MongoDB's), or undefined when no field has one.
   */
  private inRange(filter: Filter): T[] | undefined {
    for (const [field, condition] of Object.entries(filter)) {
      if (!condition || typeof condition !== 'object' || Array.isArray(condition)) continue;
      const bounds = condition as Record<string, unknown>;
      const operators = Object.keys(bounds);
      if (operators.length === 0 || !operators.every((op) => ['$gt', '$gte', '$lt', '$lte'].includes(op))) continue;
      if (('$gt' in bounds && '$gte' in bounds) || ('$lt' in bounds && '$lte' in bounds)) continue;
      const lower = bounds.$gte ?? bounds.$gt;
      const upper = bounds.$lt ?? bounds.$lte;
      const values = [lower, upper].filter((v) => v !== undefined);
      const kind = typeof values[0];
      if (!values.every((v) => typeof v === kind && (kind === 'number' || (kind === 'string' && isAscii(v as string))))) continue;
      // Only a range condition builds (or reads) the field's sorted index.
      const index = this.sortedBy(field);
      if (!index?.complete) continue;
      const docs: T[] = [];
      const range = { lower: lower as number | string | undefined, lowerOpen: bounds.$gt !== undefined, upper: upper as number | string | undefined, upperClosed: bounds.$lte !== undefined };
      for (const id of index.idsInRange(range)) docs.push(this.docs.get(id)!);
      return docs;
    }
    return undefined;
  }

  /** Whether a candidate document matches the filter (the candidates already answer a plain `_id`). */
  private predicate(filter: Filter): (doc: T) => boolean {
    const keys = Object.keys(filter);
    if (keys.length === 0 || (keys.length === 1 && keys[0] === '_id' && isPlainValue(filter._id))) return () => true;
    let query: Query | undefined;
    const test = compileMatch(filter);
    return (doc) => test(doc) ?? (query ??= new Query(filter, MINGO_OPTIONS)).test(doc);
  }

  private matching(filter: Filter): T[] {
    const id = onlyId(filter);
    if (id !== undefined) {
      const doc = this.docs.get(id);
      return doc ? [doc] : [];
    }
    const test = this.predicate(filter);
    const result: T[] = [];
    for (const doc of this.candidates(filter)) if (test(doc)) result.push(doc);
    return result;
  }

  storedNow(id: string): T | null {
    return this.docs.get(id) ?? null;
  }

  async findOne(filter: Filter, options: Pick<FindOptions, 'projection' | 'sort'> = {}): Promise<T | null> {
    const id = options.projection ? undefined : onlyId(filter);
    if (id !== undefined) return this.docs.get(id) ?? null;
    const [doc] = await this.find(filter, { ...options, limit: 1 });
    return doc ?? null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    const start = options.skip ?? 0;
    const end = options.limit ? start + options.limit : undefined;
    const walked = options.sort && this.walk(filter, options.sort, end);
    if (walked) return this.projected(walked.slice(start, end), options);
    const docs = this.matching(filter);
    // Sorting plain values is done here (top-k for a page), mingo's cursor only for what it alone can order.
    const ordered = options.sort ? fastSort(docs, options.sort, end) : docs;
    if (ordered) return this.projected(ordered.slice(start, end), options);
    let cursor = new Query({}, MINGO_OPTIONS).find<T>(docs, options.projection as never);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return freezeOwned(cursor.all());
  }

  /** The stored (frozen) documents themselves, or with a projection the frozen parts of them it keeps. */
  private projected(docs: T[], options: FindOptions): T[] {
    return options.projection ? freezeOwned(new Query({}, MINGO_OPTIONS).find<T>(docs, options.projection as never).all()) : docs;
  }

  /**
   * The first `end` matches in the order of `sort`, walking the sorted index of its first field (`{field: d}` or
   * `{field: d, _id: d}`) and stopping once the page is full; undefined when there is no such index, or when an
   * equality index narrows the filter to so few candidates that sorting them is cheaper.
   */
  private walk(filter: Filter, sort: Record<string, 1 | -1>, end: number | undefined): T[] | undefined {
    const keys = Object.keys(sort);
    const field = keys[0]!;
    const direction = sort[field]!;
    if (keys.length > 2 || (keys.length === 2 && (keys[1] !== '_id' || sort._id !== direction))) return undefined;
    const index = this.sortedBy(field);
    if (!index?.complete || (isPlainValue(filter._id) && filter._id !== null)) return undefined;
    const among = this.indexed(filter);
    if (among && !walkWhen(among.size, this.docs.size, end ?? this.docs.size)) return undefined;
    const test = this.predicate(filter);
    const page: T[] = [];
    for (const id of index.ids(direction)) {
      if (among && !among.has(id)) continue;
      const doc = this.docs.get(id)!;
      if (!test(doc)) continue;
      page.push(doc);
      if (page.length === end) break;
    }
    return page;
  }

  /**
   * Reads in slices: a slice of candidates is matched and sorted, then the event loop serves others before the
   * next one; the sorted slices are then merged batch by batch. Stored documents are never changed in place (a
   * write stores a new object), so the references taken at the start are a consistent cut of the collection.
   */
  async *findInBatches(filter: Filter, options: BatchOptions): AsyncIterable<T[]> {
    const candidates = [...this.candidates(filter)];
    const test = this.predicate(filter);
    const order = sortOrder(options.sort ?? {});
    const runs: { doc: T; values: unknown[] }[][] = [];
    for (let start = 0; start < candidates.length; start += SCAN_SLICE) {
      const run: { doc: T; values: unknown[] }[] = [];
      for (let i = start; i < Math.min(start + SCAN_SLICE, candidates.length); i++) {
        const doc = candidates[i]!;
        if (!test(doc)) continue;
        const values = order.valuesOf(doc);
        // An object or array sort value: mingo orders the whole answer at once.
        if (!values) return yield* inBatches(await this.find(filter, options), options.batchSize);
        run.push({ doc, values });
      }
      run.sort((a, b) => order.compare(a.values, b.values));
      if (run.length) runs.push(run);
      await nextTurn();
    }
    const heads = runs.map(() => 0);
    let batch: T[] = [];
    for (;;) {
      let best = -1;
      for (let r = 0; r < runs.length; r++)
        if (heads[r]! < runs[r]!.length && (best < 0 || order.compare(runs[r]![heads[r]!]!.values, runs[best]![heads[best]!]!.values) < 0)) best = r;
      if (best >= 0) batch.push(runs[best]![heads[best]!++]!.doc);
      if (batch.length === options.batchSize || (best < 0 && batch.length)) {
        yield this.projected(batch, options);
        batch = [];
      }
      if (best < 0) return;
    }
  }

  async countDocuments(filter: Filter = {}): Promise<number> {
    return Object.keys(filter).length === 0 ? this.docs.size : this.matching(filter).length;
  }

  async aggregate<R>(pipeline: Record<string, unknown>[], limits?: AggregateLimits): Promise<R[]> {
    const first = pipeline[0] as { $match?: Filter } | undefined;
    const source = first?.$match ? this.matching(first.$match) : [...this.docs.values()];
    const rest = first?.$match ? pipeline.slice(1) : pipeline;
    return freezeOwned(limits ? aggregateWithin(source, rest, limits) : aggregateInProcess(source, rest)) as R[];
  }

  /** Stores `next` in place of `previous`, keeping every index consistent; all or nothing. */
  private store(next: T, previous: T | undefined): void {
    // Only the indexes whose fields the write changed are touched (a write sharing a field's value with the
    // document it replaces, as copy on write does, leaves that value where it is).
    const changed: EqualityIndex[] = [];
    for (const index of this.indexes.values())
      if (!previous || index.fields.some((field) => getPath(previous, field) !== getPath(next, field)) || index.reachesArray(previous) !== index.reachesArray(next)) changed.push(index);
    if (previous) for (const index of changed) index.remove(previous);
    const added: EqualityIndex[] = [];
    try {
      for (const index of changed) {
        index.add(next, this.name);
        added.push(index);
      }
    } catch (error) {
      for (const index of added) index.remove(next);
      if (previous) for (const index of changed) index.add(previous, this.name);
      throw error;
    }
    for (const sorted of this.sorted.values()) {
      if (previous && getPath(previous, sorted.field) === getPath(next, sorted.field)) continue;
      if (previous) sorted.remove(previous);
      sorted.add(next);
    }
    this.docs.set(next._id, next);
    this.changed();
  }

  private remove(doc: T): void {
    for (const index of this.indexes.values()) index.remove(doc);
    for (const sorted of this.sorted.values()) sorted.remove(doc);
    this.docs.delete(doc._id);
    this.changed();
  }

  /** An upsert whose filter did not match inserts a new document: as in MongoDB, not over one with its id. */
  private refuseExisting(id: string): void {
    if (this.docs.has(id)) throw new DuplicateKeyError(this.name, '_id_', { _id: id });
  }

  async insertOne(document: T): Promise<void> {
    if (this.docs.has(document._id)) throw new DuplicateKeyError(this.name, '_id_', { _id: document._id });
    this.store(frozenCopy(document), undefined);
  }

  async replaceOne(filter: Filter, replacement: T, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    const [current] = this.matching(filter);
    if (!current) {
      if (!options.upsert) return { matchedCount: 0, modifiedCount: 0, upsertedId: null };
      const id = replacement._id ?? (isPlainValue(filter._id) ? String(filter._id) : randomUUID());
      this.refuseExisting(id);
      this.store(storedReplacement(replacement, id), undefined);
      return { matchedCount: 0, modifiedCount: 0, upsertedId: id };
    }
    this.store(storedReplacement(replacement, current._id), current);
    return { matchedCount: 1, modifiedCount: 1, upsertedId: null };
  }

  async updateOne(filter: Filter, update: UpdateOperators, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    const [current] = this.matching(filter);
    if (!current) {
      if (!options.upsert) return { matchedCount: 0, modifiedCount: 0, upsertedId: null };
      const doc = upsertedDoc<T>(filter, update);
      this.refuseExisting(doc._id);
      this.store(doc, undefined);
      return { matchedCount: 0, modifiedCount: 0, upsertedId: doc._id };
    }
    const next = updatedDoc(current, update);
    if (next) this.store(next, current);
    return { matchedCount: 1, modifiedCount: next ? 1 : 0, upsertedId: null };
  }

  async updateMany(filter: Filter, update: UpdateOperators): Promise<UpdateResult> {
    const docs = this.matching(filter);
    let modifiedCount = 0;
    for (const current of docs) {
      const next = updatedDoc(current, update);
      if (next) {
        this.store(next, current);
        modifiedCount += 1;
      }
    }
    return { matchedCount: docs.length, modifiedCount, upsertedId: null };
  }

  async deleteOne(filter: Filter): Promise<{ deletedCount: number }> {
    const [doc] = this.matching(filter);
    if (doc) this.remove(doc);
    return { deletedCount: doc ? 1 : 0 };
  }

  async deleteMany(filter: Filter): Promise<{ deletedCount: number }> {
    const docs = this.matching(filter);
    for (const doc of docs) this.remove(doc);
    return { deletedCount: docs.length };
  }

  async bulkWrite(operations: BulkOperation[]): Promise<void> {
    if (this.loadedIntoEmpty(operations)) return;
    for (const operation of operations) {
      if ('insertOne' in operation) await this.insertOne(operation.insertOne.document as T);
      else if ('updateOne' in operation) {
        const { filter, update, upsert } = operation.updateOne;
        await this.updateOne(filter, update, { upsert: upsert ?? false });
      } else if ('updateMany' in operation) await this.updateMany(operation.updateMany.filter, operation.updateMany.update);
      else if ('replaceOne' in operation) {
        const { filter, replacement, upsert } = operation.replaceOne;
        await this.replaceOne(filter, replacement as T, { upsert: upsert ?? false });
      } else if ('deleteOne' in operation) await this.deleteOne(operation.deleteOne.filter);
      else await this.deleteMany(operation.deleteMany.filter);
    }
  }

  /**
   * A bulk write that only puts new documents, by id, into this empty collection (a replay's commit, a staged
   * load): the documents are taken first, then each index is built over all of them in turn, one index's map at a
   * time rather than every index for each document. False, with nothing changed, where the operations need the
   * general path (any other operation, an id twice, a document a unique index refuses): it then answers as it would.
   */
  private loadedIntoEmpty(operations: readonly BulkOperation[]): boolean {
    if (this.docs.size !== 0 || this.sorted.size !== 0 || operations.length < 2) return false;
    const docs = new Map<string, T>();
    for (const operation of operations) {
      let doc: T;
      if ('insertOne' in operation) doc = frozenCopy(operation.insertOne.document as T);
      else if ('replaceOne' in operation && operation.replaceOne.upsert) {
        const id = onlyId(operation.replaceOne.filter);
        const replacement = operation.replaceOne.replacement as T;
        if (id === undefined || (replacement._id !== undefined && replacement._id !== id)) return false;
        doc = storedReplacement(replacement, id);
      } else return false;
      if (docs.has(doc._id)) return false;
      docs.set(doc._id, doc);
    }
    return this.adoptAll(docs);
  }

  /**
   * The map becomes this empty collection's documents, not copied entry by entry; each index is built over them in
   * turn (see loadedIntoEmpty).
   */
  adoptAll(docs: Map<string, T>): boolean {
    if (this.docs.size !== 0 || this.sorted.size !== 0) return false;
    const built: EqualityIndex[] = [];
    try {
      for (const index of this.indexes.values()) {
        built.push(index);
        index.addAll(docs.values(), this.name);
      }
    } catch (error) {
      // The indexes were empty: emptied again, the general path finds the offending write.
      for (const index of built) index.clear();
      if (error instanceof DuplicateKeyError) return false;
      throw error;
    }
    this.docs = docs;
    this.changed();
    return true;
  }

  async createIndex(keys: Record<string, 1 | -1>, options: IndexOptions = {}): Promise<string> {
    const name = options.name ?? Object.entries(keys).map(([field, direction]) => `${field}_${direction}`).join('_');
    if (this.indexes.has(name)) return name;
    const index = new EqualityIndex({ name, keys, unique: options.unique ?? false });
    for (const doc of this.docs.values()) index.add(doc, this.name);
    this.indexes.set(name, index);
    this.changed();
    return name;
  }

  async listIndexes(): Promise<IndexDescription[]> {
    return [...this.indexes.values()].map(({ spec }) => ({ name: spec.name, keys: { ...spec.keys }, unique: spec.unique ?? false }));
  }

  /**
   * The documents in the order of a singly indexed field: built the first time a query sorts by the field or
   * asks for a range of it (one sort of the collection), kept current by every write after. Fields only ever
   * filtered by equality never pay for one.
   */
  private sortedBy(field: string): SortedIndex | undefined {
    let sorted = this.sorted.get(field);
    if (sorted) return sorted;
    for (const index of this.indexes.values()) {
      if (index.fields.length !== 1 || index.fields[0] !== field) continue;
      sorted = new SortedIndex(field);
      sorted.load(this.docs.values());
      this.sorted.set(field, sorted);
      return sorted;
    }
    return undefined;
  }

  async drop(): Promise<void> {
    this.docs.clear();
    this.indexes.clear();
    this.sorted.clear();
    this.changed();
  }
}

export interface EmbeddedReadStoreOptions {
  /** Where the snapshot lives; omitted: memory only. */
  snapshotPath?: string;
  /**
   * How long after a change the snapshot is written (ms); default 1000, and at least ten times as long as the last
   * one took to write (a large store under constant change spends at most a tenth of its time on snapshots; the
   * log has every event since, which a restart applies).
   */
  snapshotDelayMs?: number;
  /**
   * Told when the snapshot could not be read (cut short, corrupt): the store then starts empty, the unreadable
   * file is kept beside it as `<snapshot>.corrupt-<time>`, and the projections rebuild from the log.
   */
  onUnreadableSnapshot?: (error: Error, keptAs: string) => void;
  /** Told when a snapshot written in the background failed (the next change tries again); default: thrown. */
  onSnapshotFailed?: (error: Error) => void;
  /** Told when the snapshot was read at start: how many documents it held and how long it took (ms). */
  onSnapshotLoaded?: (loaded: { documents: number; ms: number }) => void;
}

/**
 * The embedded read store: documents in memory, queried with mingo (MongoDB's query language), kept across
 * restarts by an atomic snapshot file. The snapshot is a consistent cut of all collections, including the
 * projection checkpoints, so a restart resumes the projections exactly where the snapshot stood.
 */
export class EmbeddedReadStore implements ReadStore {
  private readonly collections = new Map<string, EmbeddedCollection<Doc>>();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;
  /** How long the last snapshot took to write (ms): the next waits ten times as long, so they take ≤ 10 % of the time. */
  private lastWriteMs = 0;

  constructor(private readonly options: EmbeddedReadStoreOptions = {}) {
    if (options.snapshotPath && existsSync(options.snapshotPath)) {
      try {
        this.load(options.snapshotPath);
      } catch (error) {
        this.collections.clear();
        const keptAs = `${options.snapshotPath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        renameSync(options.snapshotPath, keptAs);
        options.onUnreadableSnapshot?.(error as Error, keptAs);
      }
    }
  }

  /** Reads the snapshot, its documents sharing their repeated strings (a third less memory at 100k customers). */
  private load(path: string): void {
    const started = performance.now();
    const strings = new StringSharer();
    let documents = 0;
    for (const saved of readSnapshotFile(path)) {
      const collection = this.collection(saved.name) as EmbeddedCollection<Doc>;
      for (const doc of saved.docs) collection.docs.set(doc._id, freezeOwned(strings.share(doc)));
      for (const spec of saved.indexes) {
        const index = new EqualityIndex(spec);
        index.addAll(saved.docs, saved.name);
        collection.indexes.set(spec.name, index);
      }
      documents += saved.docs.length;
    }
    this.dirty = false;
    this.options.onSnapshotLoaded?.({ documents, ms: Math.round(performance.now() - started) });
  }

  private readonly changed = (): void => {
    this.dirty = true;
    if (!this.options.snapshotPath || this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writeSnapshot().catch((error: unknown) => {
        const failed = this.options.onSnapshotFailed;
        if (!failed) throw error;
        failed(error as Error);
      });
    }, Math.max(this.options.snapshotDelayMs ?? 1000, 10 * this.lastWriteMs));
    this.timer.unref();
  };

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new EmbeddedCollection<Doc>(name, this.changed);
      this.collections.set(name, collection);
    }
    return collection as unknown as Collection<T>;
  }

  /**
   * Writes the snapshot, one at a time. The cut is taken at once (stored documents are replaced on write, never
   * changed in place, so holding their references keeps it consistent, checkpoints included); the file is then
   * written in frames with turns of the event loop between them.
   */
  private async writeSnapshot(): Promise<void> {
    const path = this.options.snapshotPath;
    while (this.writing) await this.writing.catch(() => undefined);
    if (!path || !this.dirty) return;
    this.dirty = false;
    const cut = [...this.collections.values()].map((c) => ({ name: c.name, docs: [...c.docs.values()], indexes: [...c.indexes.values()].map((i) => i.spec) }));
    const started = performance.now();
    this.writing = writeSnapshotFile(path, cut, nextTurn).finally(() => {
      this.writing = undefined;
      this.lastWriteMs = performance.now() - started;
    });
    try {
      await this.writing;
    } catch (error) {
      this.dirty = true;
      throw error;
    }
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writeSnapshot();
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
