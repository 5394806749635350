import { type AnyBulkWriteOperation, type Collection as DriverCollection, type Db, MongoClient, MongoServerError, type UpdateFilter } from 'mongodb';
import { type AggregateLimits, type BatchOptions, QueryTimeLimitError, type BulkOperation, type Collection, type Doc, type Filter, IndexConflictError, ReadStoreUnavailableError, type FindOptions, type IndexDescription, type IndexOptions, type ReadStore, type UpdateOperators, type UpdateResult } from './port.ts';
import { encodedNames, type FieldNameCodec, namesAsTheyAre } from './field-names.ts';
import { namesDatabase } from './mongo-url.ts';
import { aggregateInProcess, aggregateWithin } from './in-process-aggregate.ts';
import { GridFsBlobs } from '../blobs/gridfs.ts';
import type { Blobs } from '../blobs/port.ts';
import { translated } from './mongo-errors.ts';

/** MongoDB's "namespace not found", answered by drop() and listIndexes() on a collection that does not exist. */
const NAMESPACE_NOT_FOUND = 26;
/** MongoDB's error code for an operation stopped by its maxTimeMS. */
const MAX_TIME_EXPIRED = 50;
/** IndexOptionsConflict, IndexKeySpecsConflict: createIndex over an existing index that differs. */
const INDEX_CONFLICT_CODES = new Set([85, 86]);

/**
 * Where aggregation stages run. `server`: MongoDB runs the whole pipeline. `in-process`: the leading $match runs
 * on the server as a find, the remaining stages here. FerretDB v1 needs the latter: a $group with more than one
 * accumulator answers 0 for all but the first, and $max/$min accumulators are not implemented.
 */
export type AggregationMode = 'server' | 'in-process';

const updateResult = (result: { matchedCount: number; modifiedCount: number; upsertedId?: unknown }): UpdateResult => ({
  matchedCount: result.matchedCount,
  modifiedCount: result.modifiedCount,
  upsertedId: result.upsertedId == null ? null : String(result.upsertedId),
});

/** The port's operations are a subset of the driver's; these restate them in its types, stored names as the server takes them. */
const asDriverUpdate = (names: FieldNameCodec, update: UpdateOperators): UpdateFilter<Doc> => names.encodeUpdate(update) as UpdateFilter<Doc>;
function asDriverOperation(names: FieldNameCodec, operation: BulkOperation): AnyBulkWriteOperation<Doc> {
  if ('insertOne' in operation) return { insertOne: { document: names.encode(operation.insertOne.document) } };
  if ('replaceOne' in operation) return { replaceOne: { ...operation.replaceOne, replacement: names.encode(operation.replaceOne.replacement) } };
  if ('updateOne' in operation) return { updateOne: { ...operation.updateOne, update: asDriverUpdate(names, operation.updateOne.update) } };
  if ('updateMany' in operation) return { updateMany: { ...operation.updateMany, update: asDriverUpdate(names, operation.updateMany.update) } };
  return operation;
}

/**
 * Remembers that the server could not be reached. Until it answers again, each operation first asks a ping
 * with a short bound, so that during an outage requests get their 503 within that bound instead of each
 * waiting out the driver's server selection.
 */
class Reachability {
  private unreachable = false;
  constructor(private readonly ping: () => Promise<void>) {}

  /** Runs one operation on `collection`, translating the driver's errors (see `translated`). */
  async run<R>(collection: string, work: () => Promise<R>): Promise<R> {
    if (this.unreachable) await this.ping();
    try {
      const result = await work();
      this.unreachable = false;
      return result;
    } catch (error) {
      throw this.observed(translated(collection, error));
    }
  }

  /** Notes whether a (translated) error says the server cannot be reached, and returns it. */
  observed(error: unknown): unknown {
    this.unreachable = error instanceof ReadStoreUnavailableError;
    return error;
  }

  answered(): void {
    this.unreachable = false;
  }
}

class MongoCollection<T extends Doc> implements Collection<T> {
  constructor(
    private readonly name: string,
    private readonly inner: DriverCollection<Doc>,
    private readonly aggregation: AggregationMode,
    private readonly reachability: Reachability,
    private readonly names: FieldNameCodec,
  ) {}

  private guarded<R>(work: () => Promise<R>): Promise<R> {
    return this.reachability.run(this.name, work);
  }

  findOne(filter: Filter, options: Pick<FindOptions, 'projection' | 'sort'> = {}): Promise<T | null> {
    return this.guarded(async () => this.names.decode(await this.inner.findOne(filter, options)) as T | null);
  }

  find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    return this.guarded(async () => this.names.decode(await this.inner.find(filter, options).toArray()) as T[]);
  }

  async *findInBatches(filter: Filter, options: BatchOptions): AsyncIterable<T[]> {
    const { batchSize, ...findOptions } = options;
    const cursor = this.inner.find(filter, { ...findOptions, batchSize });
    try {
      let batch: T[] = [];
      for await (const doc of cursor) {
        batch.push(this.names.decode(doc) as T);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
      this.reachability.answered();
    } catch (error) {
      throw this.reachability.observed(translated(this.name, error));
    } finally {
      await cursor.close();
    }
  }

  countDocuments(filter: Filter = {}): Promise<number> {
    return this.guarded(() => this.inner.countDocuments(filter));
  }

  aggregate<R = Record<string, unknown>>(pipeline: Record<string, unknown>[], limits?: AggregateLimits): Promise<R[]> {
    const timed = limits ? { maxTimeMS: limits.maxTimeMs } : {};
    return this.guarded(async () => {
      try {
        if (this.aggregation === 'server') return this.names.decode(await this.inner.aggregate(pipeline, timed).toArray()) as R[];
        const first = pipeline[0] as { $match?: Filter } | undefined;
        const docs = this.names.decode(await this.inner.find(first?.$match ?? {}, timed).toArray()) as Doc[];
        const rest = first?.$match ? pipeline.slice(1) : pipeline;
        return (limits ? aggregateWithin(docs, rest, limits) : aggregateInProcess(docs, rest)) as R[];
      } catch (error) {
        // The server stopped the aggregation, or the find that feeds the stages run here, at its maxTimeMS.
        if (limits && (error as { code?: unknown }).code === MAX_TIME_EXPIRED) throw new QueryTimeLimitError(limits.maxTimeMs);
        throw error;
      }
    });
  }

  insertOne(document: T): Promise<void> {
    return this.guarded(async () => void (await this.inner.insertOne(this.names.encode(document))));
  }

  replaceOne(filter: Filter, replacement: T, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    return this.guarded(async () => updateResult(await this.inner.replaceOne(filter, this.names.encode(replacement), options)));
  }

  updateOne(filter: Filter, update: UpdateOperators, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    return this.guarded(async () => updateResult(await this.inner.updateOne(filter, asDriverUpdate(this.names, update), options)));
  }

  updateMany(filter: Filter, update: UpdateOperators): Promise<UpdateResult> {
    return this.guarded(async () => updateResult(await this.inner.updateMany(filter, asDriverUpdate(this.names, update))));
  }

  deleteOne(filter: Filter): Promise<{ deletedCount: number }> {
    return this.guarded(async () => ({ deletedCount: (await this.inner.deleteOne(filter)).deletedCount }));
  }

  deleteMany(filter: Filter): Promise<{ deletedCount: number }> {
    return this.guarded(async () => ({ deletedCount: (await this.inner.deleteMany(filter)).deletedCount }));
  }

  bulkWrite(operations: BulkOperation[]): Promise<void> {
    if (operations.length === 0) return Promise.resolve();
    return this.guarded(async () => void (await this.inner.bulkWrite(operations.map((operation) => asDriverOperation(this.names, operation)), { ordered: true })));
  }

  listIndexes(): Promise<IndexDescription[]> {
    return this.guarded(async () => {
      try {
        const indexes = await this.inner.listIndexes().toArray();
        return indexes.filter((index) => index.name !== '_id_').map((index) => ({ name: String(index.name), keys: index.key as Record<string, 1 | -1>, unique: index.unique === true }));
      } catch (error) {
        if ((error as { code?: unknown }).code === NAMESPACE_NOT_FOUND) return [];
        throw error;
      }
    });
  }

  createIndex(keys: Record<string, 1 | -1>, options: IndexOptions = {}): Promise<string> {
    return this.guarded(async () => {
      try {
        return await this.inner.createIndex(keys, options);
      } catch (error) {
        // An index of that name or those keys exists with other options (a projection changed its setup).
        if (error instanceof MongoServerError && INDEX_CONFLICT_CODES.has(error.code as number)) throw new IndexConflictError(this.name, keys, error.message);
        throw error;
      }
    });
  }

  drop(): Promise<void> {
    return this.guarded(async () => {
      try {
        await this.inner.drop();
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND)) throw error;
      }
    });
  }
}

export interface MongoReadStoreOptions {
  /** Database name; default: the one the URL names, else `crm`. */
  database?: string;
  /**
   * How long an operation waits for a reachable server before failing: this option, else the URL's
   * `serverSelectionTimeoutMS`, else 5 s. Once one has failed, the next ones wait at most 1.5 s (a ping) until
   * the server answers again.
   */
  serverSelectionTimeoutMS?: number;
  /** Default: `in-process` when the server is FerretDB, else `server`. */
  aggregation?: AggregationMode;
  /** Store field names with dots and leading dollars encoded (see field-names.ts). Default: on FerretDB only. */
  encodeFieldNames?: boolean;
}

/**
 * The read store on MongoDB (or anything speaking its wire protocol, such as FerretDB). A thin mapping of the
 * port onto the driver: duplicate keys become DuplicateKeyError, `undefined` fields are left out as the
 * embedded store leaves them out, and `ping` reports an unreachable server (shown on /readyz).
 */
export class MongoReadStore implements ReadStore {
  private readonly collections = new Map<string, MongoCollection<Doc>>();
  private readonly reachability = new Reachability(() => this.ping());

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    readonly aggregation: AggregationMode,
    encodeFieldNames: boolean,
  ) {
    this.names = encodeFieldNames ? encodedNames : namesAsTheyAre;
  }

  private readonly names: FieldNameCodec;
  /** Several processes (runners during a rolling deploy) may write it. */
  readonly shared = true;

  static async connect(url: string, options: MongoReadStoreOptions = {}): Promise<MongoReadStore> {
    const serverSelectionTimeoutMS = options.serverSelectionTimeoutMS ?? (/[?&]serverSelectionTimeoutMS=/i.test(url) ? undefined : 5000);
    const client = new MongoClient(url, {
      ignoreUndefined: true,
      // Read models are read from the primary, whatever the URL says: a secondary behind it would answer a reader
      // that waited for its X-Min-Position with documents from before that position.
      readPreference: 'primary',
      ...(serverSelectionTimeoutMS === undefined ? {} : { serverSelectionTimeoutMS }),
      appName: 'crm-backend',
    });
    try {
      await client.connect();
      // The driver reads the database from the connection string (a replica set's host list included).
      const db = client.db(options.database ?? (namesDatabase(url) ? undefined : 'crm'));
      const ferretdb = Boolean((await db.command({ buildInfo: 1 })).ferretdbVersion);
      return new MongoReadStore(client, db, options.aggregation ?? (ferretdb ? 'in-process' : 'server'), options.encodeFieldNames ?? ferretdb);
    } catch (error) {
      await client.close().catch(() => {});
      throw error;
    }
  }

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new MongoCollection<Doc>(name, this.db.collection<Doc>(name), this.aggregation, this.reachability, this.names);
      this.collections.set(name, collection);
    }
    return collection as unknown as Collection<T>;
  }

  async flush(): Promise<void> {}

  /** Answers within `timeoutMs` (for /readyz), instead of waiting out the driver's server selection. */
  /** Attachments in the same database, in GridFS. */
  blobs(): Blobs {
    return new GridFsBlobs(this.db);
  }

  async ping(timeoutMs = 1500): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new ReadStoreUnavailableError(new Error(`no answer to ping within ${timeoutMs} ms`))), timeoutMs);
    });
    try {
      await Promise.race([this.db.command({ ping: 1 }), late]);
      this.reachability.answered();
    } catch (error) {
      throw this.reachability.observed(translated(this.db.databaseName, error));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the whole database (tests use a database of their own). */
  async dropDatabase(): Promise<void> {
    await this.db.dropDatabase();
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
