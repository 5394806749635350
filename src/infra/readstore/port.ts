/**
 * The read store port: a small subset of the MongoDB driver's Collection. Projections and queries are
 * written once in MongoDB's query language (keep to what FerretDB v1 supports, see ARCHITECTURE.md).
 */
export type Doc = { _id: string } & Record<string, unknown>;
export type Filter = Record<string, unknown>;
export type UpdateOperators = Partial<
  Record<'$set' | '$unset' | '$inc' | '$min' | '$max' | '$push' | '$pull' | '$pullAll' | '$addToSet' | '$setOnInsert', Record<string, unknown>>
>;
export type Sort = Record<string, 1 | -1>;
export type Projection = Record<string, 0 | 1>;

export interface FindOptions {
  sort?: Sort;
  skip?: number;
  limit?: number;
  projection?: Projection;
}

export interface UpdateResult {
  matchedCount: number;
  modifiedCount: number;
  upsertedId: string | null;
}

export type BulkOperation =
  | { insertOne: { document: Doc } }
  | { updateOne: { filter: Filter; update: UpdateOperators; upsert?: boolean } }
  | { updateMany: { filter: Filter; update: UpdateOperators } }
  | { replaceOne: { filter: Filter; replacement: Doc; upsert?: boolean } }
  | { deleteOne: { filter: Filter } }
  | { deleteMany: { filter: Filter } };

/** How `findInBatches` reads: the order (ties broken by `_id` are the caller's to ask for) and the batch size. */
export interface BatchOptions {
  sort?: Sort;
  batchSize: number;
  projection?: Projection;
}

/** An index as listIndexes describes it. */
export interface IndexDescription {
  name: string;
  keys: Record<string, 1 | -1>;
  unique: boolean;
}

export interface IndexOptions {
  unique?: boolean;
  name?: string;
}

/**
 * Documents a read returns are read-only: the embedded store hands out the (deeply frozen) documents it holds
 * instead of copying them; MongoDB returns copies. A caller that wants to change one builds a new object.
 */
export interface Collection<T extends Doc = Doc> {
  findOne(filter: Filter, options?: Pick<FindOptions, 'projection' | 'sort'>): Promise<T | null>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  /**
   * Every matching document in order, in batches of `batchSize`, for reads too large for one answer (exports).
   * An adapter must keep other requests served while it reads (MongoDB: a server cursor; embedded: the scan
   * and sort work in slices, yielding to the event loop between them).
   */
  findInBatches(filter: Filter, options: BatchOptions): AsyncIterable<T[]>;
  countDocuments(filter?: Filter): Promise<number>;
  /**
   * With `limits` (a pipeline a caller composed, e.g. an analyst's query): scripts are off and the run stops with
   * QueryTimeLimitError past `maxTimeMs` (MongoDB: `maxTimeMS`; embedded: checked as each document is read).
   */
  aggregate<R = Record<string, unknown>>(pipeline: Record<string, unknown>[], limits?: AggregateLimits): Promise<R[]>;
  insertOne(document: T): Promise<void>;
  replaceOne(filter: Filter, replacement: T, options?: { upsert?: boolean }): Promise<UpdateResult>;
  updateOne(filter: Filter, update: UpdateOperators, options?: { upsert?: boolean }): Promise<UpdateResult>;
  updateMany(filter: Filter, update: UpdateOperators): Promise<UpdateResult>;
  deleteOne(filter: Filter): Promise<{ deletedCount: number }>;
  deleteMany(filter: Filter): Promise<{ deletedCount: number }>;
  bulkWrite(operations: BulkOperation[]): Promise<void>;
  createIndex(keys: Record<string, 1 | -1>, options?: IndexOptions): Promise<string>;
  /**
   * A report counter's change (an adapter that can do it cheaper has it; without it, callers use updateOne): adds
   * `inc` to the document's fields (paths allowed), sets its key fields and `_position`, creating it if missing,
   * unless it has counted an event at or after `position` already. What
   * `updateOne({ _id, _position: { $lt: position } }, { $inc: inc, $set: { ...key, _position } }, { upsert: true })`
   * does with a duplicate key ignored. Done already when it returns no promise.
   */
  incrementCounter?(id: string, key: Record<string, string>, inc: Record<string, number>, position: number): Promise<void> | undefined;
  /**
   * The document with this id as stored, at once: what `findOne({ _id: id })` answers, without a promise (an adapter
   * that holds its documents in memory has it). A replay's unit of work looks up every document it has not written
   * yet so: on the 100k benchmark log, about 1.9 million lookups that each found nothing.
   */
  storedNow?(id: string): T | null;
  /**
   * Whether this collection of day-keyed counters has its twins (see `Twins`) summed from it by the store, once,
   * instead of being counted with each event: a replay's unit of work into empty collections says yes, and then
   * writes each twin document once, when it commits.
   */
  sumsTwins?(twins: Twins): boolean;
  /**
   * Takes these documents (by id; each deeply frozen, holding its id) into this collection, which must be empty: the
   * map becomes the collection's own, and its caller must not touch it again. A replay's unit commits its
   * documents so, without a write per document. False, with nothing changed, where it cannot (not empty, or a
   * unique index refuses a document): the caller then writes them as usual.
   */
  adoptAll?(docs: Map<string, T>): boolean;
  /** The indexes made with createIndex (not the implicit one on `_id`); none for a collection that does not exist. */
  listIndexes(): Promise<IndexDescription[]>;
  drop(): Promise<void>;
}

/**
 * The twins of a collection of day-keyed counters (`day` among its key fields): `monthly`, the same counters by
 * month in `<name>_monthly`; `balance`, also by year in `<name>_yearly` and without the day in `<name>_total`.
 */
export type Twins = 'monthly' | 'balance';

export interface ReadStore {
  collection<T extends Doc = Doc>(name: string): Collection<T>;
  /** Makes every write so far durable (the embedded adapter writes its snapshot; MongoDB: no-op). */
  flush(): Promise<void>;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Whether other processes may write the same documents (a server two runners share during a rolling deploy):
   * a write-back unit then never replaces a document with an older version of it.
   */
  readonly shared?: boolean;
}

/** A write broke a unique index (MongoDB error code 11000). */
export class DuplicateKeyError extends Error {
  readonly code = 11000;
  constructor(
    readonly collection: string,
    readonly index: string,
    readonly key: unknown,
  ) {
    super(`E11000 duplicate key error collection: ${collection} index: ${index} dup key: ${JSON.stringify(key)}`);
    this.name = 'DuplicateKeyError';
  }
}

/**
 * The read store cannot be reached right now (network, server down or restarting). Nothing about the request
 * or the event is wrong: retry later. The API answers 503 with Retry-After; projections pause and resume.
 */
/** Bounds on an aggregation a caller composed. */
export interface AggregateLimits {
  maxTimeMs: number;
}

/** An aggregation ran past the time its caller was allowed (AggregateLimits). */
export class QueryTimeLimitError extends Error {
  constructor(readonly maxTimeMs: number) {
    super(`The query ran longer than ${maxTimeMs} ms`);
    this.name = 'QueryTimeLimitError';
  }
}

export class ReadStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`The read store cannot be reached: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ReadStoreUnavailableError';
  }
}

/**
 * An index cannot be created because one of that name or those keys exists with other options: a projection
 * changed its indexes without a new version (the runner names the projection to bump).
 */
export class IndexConflictError extends Error {
  constructor(
    readonly collection: string,
    readonly keys: Record<string, 1 | -1>,
    detail: string,
  ) {
    super(`The index ${JSON.stringify(keys)} on ${collection} conflicts with an existing one: ${detail}`);
    this.name = 'IndexConflictError';
  }
}
