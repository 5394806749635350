import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { BulkOperation, Collection, Doc, Filter, ReadStore, UpdateOperators } from '../infra/readstore/port.ts';
import type { Projection } from './projection.ts';

/**
 * What a batch did to a read-model document, so that its undo puts the document back exactly: the fields the
 * batch changed, with their values before its first event and after its last (`null` after: it deleted the
 * document; `existedBefore` false: it created it). Fields every event changes (`revision`, `updatedAt`,
 * `_position`) are not kept.
 */
export interface BatchImage extends Doc {
  batchId: string;
  collection: string;
  docId: string;
  existedBefore: boolean;
  /** The changed fields' earlier values (all the fields of a document the batch deleted). */
  before: Record<string, unknown>;
  absentBefore: string[];
  /** The changed fields' values after the batch; null once the batch deleted the document. */
  after: Record<string, unknown> | null;
  absentAfter: string[];
}

const UNTRACKED = new Set(['_id', 'revision', 'updatedAt', '_position']);
const same = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);
const imageId = (batchId: string, collection: string, docId: string) => `${batchId}\u0001${collection}\u0001${docId}`;

/** The image after one more event of the batch took `pre` to `post` (`image`: what the batch's earlier events left). */
export function imageAfter(image: BatchImage | null, ids: { batchId: string; collection: string; docId: string }, pre: Doc | null, post: Doc | null): BatchImage | null {
  // Nothing changed; or the batch created the document (its undo's events delete it, and need nothing kept).
  if (!image && (same(pre, post) || pre === null)) return null;
  const base: BatchImage = image ?? { _id: imageId(ids.batchId, ids.collection, ids.docId), ...ids, existedBefore: pre !== null, before: {}, absentBefore: [], after: {}, absentAfter: [] };
  if (!base.existedBefore) return { ...base, after: null, absentAfter: [] }; // undone by deleting it: nothing more to know
  const before = { ...base.before };
  const absentBefore = new Set(base.absentBefore);
  const tracked = (key: string) => key in before || absentBefore.has(key);
  const wasDeleted = base.after === null;
  // A document the batch deleted keeps every field it had; one it changed, the fields that changed.
  for (const key of new Set([...Object.keys(pre ?? {}), ...Object.keys(post ?? {})])) {
    if (UNTRACKED.has(key) || tracked(key) || wasDeleted) continue;
    if (post !== null && pre !== null && same(pre[key], post[key])) continue;
    if (pre !== null && key in pre) before[key] = pre[key];
    else absentBefore.add(key);
  }
  if (post === null) return { ...base, before, absentBefore: [...absentBefore], after: null, absentAfter: [] };
  const after: Record<string, unknown> = {};
  const absentAfter: string[] = [];
  for (const key of [...Object.keys(before), ...absentBefore]) {
    if (key in post) after[key] = post[key];
    else absentAfter.push(key);
  }
  return { ...base, before, absentBefore: [...absentBefore], after, absentAfter };
}

/**
 * The document an undo's event leaves (`post`, from `pre`) once the batch's image is put back: each field the
 * batch changed gets its earlier value unless something else changed it since (then the undo's own effect stays),
 * and a field the batch did not change keeps its value (an owner change back restarts no follow-up clock), unless
 * the undo was forced over later changes (`forced`: its events then change what those changes set). A document the
 * batch created is gone; one it deleted comes back as it was.
 */
export function restored(image: BatchImage, pre: Doc | null, post: Doc | null, forced = false): Doc | null {
  if (!image.existedBefore) return null;
  const stamp = (doc: Doc | null) => Object.fromEntries([...UNTRACKED].filter((key) => doc && key in doc).map((key) => [key, doc![key]]));
  if (image.after === null) return pre === null ? ({ _id: image.docId, ...image.before, ...stamp(post) } as Doc) : post;
  if (post === null || pre === null) return post;
  const next: Doc = { ...post };
  const unchangedSince = (key: string) => (image.absentAfter.includes(key) ? !(key in pre) : key in pre && same(pre[key], image.after![key]));
  for (const key of Object.keys(image.before)) if (unchangedSince(key)) next[key] = image.before[key];
  for (const key of image.absentBefore) if (unchangedSince(key)) delete next[key];
  if (forced) return next;
  const tracked = new Set([...UNTRACKED, ...Object.keys(image.before), ...image.absentBefore]);
  for (const key of new Set([...Object.keys(pre), ...Object.keys(post)])) {
    if (tracked.has(key) || same(pre[key], post[key])) continue;
    if (key in pre) next[key] = pre[key];
    else delete next[key];
  }
  return next;
}

/**
 * A projection whose documents in `collections` batches can restore: while it applies an event of a batch, it
 * notes the documents the event writes as they were before and after (`<name>_batch_images`); while it applies an
 * undo's event, it then puts back what the undone batch changed (see `restored`), and drops that batch's images.
 */
export function withBatchImages(projection: Projection, collections: readonly string[]): Projection {
  const images = `${projection.name}_batch_images`;
  return {
    ...projection,
    collections: [...projection.collections, images],
    async setup(store) {
      await projection.setup(store);
      await store.collection(images).createIndex({ batchId: 1 });
    },
    apply(event, store) {
      const { batchId, undoes } = event.metadata;
      // Most events are of no batch: the projection's own promise, not an async function's around it (a replay of
      // the 100k benchmark log applies 957,000 events here).
      if (!batchId && !undoes) return projection.apply(event, store);
      return applyNoting(event, store, batchId, undoes);
    },
  };

  /** An event of a batch or of an undo applied, the images of the documents it wrote kept or put back. */
  async function applyNoting(event: RecordedEvent, store: ReadStore, batchId: string | undefined, undoes: string | undefined): Promise<void> {
    const touched = new Map<string, Map<string, Doc | null>>();
    await projection.apply(event, noting(store, collections, touched));
    const imageStore = store.collection<BatchImage>(images);
    for (const [collection, docs] of touched) {
      const target = store.collection(collection);
      for (const [docId, pre] of docs) {
        let post = await target.findOne({ _id: docId });
        if (undoes) post = await putBack(target, imageStore, imageId(undoes, collection, docId), pre, post, event.metadata.undoForced === true);
        if (!batchId) continue;
        const id = imageId(batchId, collection, docId);
        const image = imageAfter(await imageStore.findOne({ _id: id }), { batchId, collection, docId }, pre, post);
        if (image) await imageStore.replaceOne({ _id: id }, image, { upsert: true });
      }
    }
  }
}

/**
 * Puts a document back as the image says, and keeps the image with what it put back as its `after`: an undo may
 * write several events that touch one document (a merge's records moved back one by one to the survivor), and each
 * one's effect on it is then undone in turn (a count taken down twice, a time moved on) while nobody else changes it.
 */
async function putBack(target: Collection, imageStore: Collection<BatchImage>, id: string, pre: Doc | null, post: Doc | null, forced: boolean): Promise<Doc | null> {
  const image = await imageStore.findOne({ _id: id });
  if (!image) return post;
  const next = restored(image, pre, post, forced);
  if (next === null) {
    if (post !== null) await target.deleteOne({ _id: image.docId });
  } else if (!same(next, post)) await target.replaceOne({ _id: image.docId }, next, { upsert: true });
  if (next !== null && image.existedBefore && image.after !== null) await imageStore.replaceOne({ _id: id }, settledImage(image, next));
  return next;
}

/** The image once the document is put back: what it now holds is what a later event of the same undo starts from. */
function settledImage(image: BatchImage, doc: Doc): BatchImage {
  const after: Record<string, unknown> = {};
  const absentAfter: string[] = [];
  for (const key of [...Object.keys(image.before), ...image.absentBefore]) {
    if (key in doc) after[key] = doc[key];
    else absentAfter.push(key);
  }
  return { ...image, after, absentAfter };
}

/** The store as an event's apply sees it, noting each document of `collections` before its first write. */
function noting(store: ReadStore, collections: readonly string[], touched: Map<string, Map<string, Doc | null>>): ReadStore {
  return {
    shared: store.shared,
    flush: () => store.flush(),
    ping: () => store.ping(),
    close: () => store.close(),
    collection<T extends Doc>(name: string): Collection<T> {
      const inner = store.collection<T>(name);
      if (!collections.includes(name)) return inner;
      let docs = touched.get(name);
      if (!docs) touched.set(name, (docs = new Map()));
      return new NotingCollection(inner, docs as Map<string, Doc | null>);
    },
  };
}

/**
 * A collection that notes each document as it was before its first write (reads pass through). A class, not
 * closures made per event: an import applies one per collection per row.
 */
class NotingCollection<T extends Doc> implements Collection<T> {
  readonly incrementCounter?: Collection<T>['incrementCounter'];

  constructor(
    private readonly inner: Collection<T>,
    private readonly docs: Map<string, Doc | null>,
  ) {
    if (inner.incrementCounter) this.incrementCounter = inner.incrementCounter.bind(inner);
  }

  private async note(ids: Iterable<string>): Promise<void> {
    for (const id of ids) if (!this.docs.has(id)) this.docs.set(id, await this.inner.findOne({ _id: id }));
  }

  private async noteMatching(filter: Filter): Promise<void> {
    if (typeof filter._id === 'string') return this.note([filter._id]);
    return this.note((await this.inner.find(filter, { projection: { _id: 1 } })).map((doc) => doc._id));
  }

  findOne(...args: Parameters<Collection<T>['findOne']>) {
    return this.inner.findOne(...args);
  }
  find(...args: Parameters<Collection<T>['find']>) {
    return this.inner.find(...args);
  }
  findInBatches(...args: Parameters<Collection<T>['findInBatches']>) {
    return this.inner.findInBatches(...args);
  }
  countDocuments(...args: Parameters<Collection<T>['countDocuments']>) {
    return this.inner.countDocuments(...args);
  }
  aggregate<R = Record<string, unknown>>(...args: Parameters<Collection<T>['aggregate']>) {
    return this.inner.aggregate<R>(...args);
  }
  createIndex(...args: Parameters<Collection<T>['createIndex']>) {
    return this.inner.createIndex(...args);
  }
  listIndexes() {
    return this.inner.listIndexes();
  }
  drop() {
    return this.inner.drop();
  }
  async insertOne(document: T) {
    await this.note([document._id]);
    return this.inner.insertOne(document);
  }
  async replaceOne(filter: Filter, replacement: T, options?: { upsert?: boolean }) {
    await this.noteMatching(filter);
    return this.inner.replaceOne(filter, replacement, options);
  }
  async updateOne(filter: Filter, update: UpdateOperators, options?: { upsert?: boolean }) {
    await this.noteMatching(filter);
    return this.inner.updateOne(filter, update, options);
  }
  async updateMany(filter: Filter, update: UpdateOperators) {
    await this.noteMatching(filter);
    return this.inner.updateMany(filter, update);
  }
  async deleteOne(filter: Filter) {
    await this.noteMatching(filter);
    return this.inner.deleteOne(filter);
  }
  async deleteMany(filter: Filter) {
    await this.noteMatching(filter);
    return this.inner.deleteMany(filter);
  }
  async bulkWrite(operations: BulkOperation[]) {
    for (const operation of operations) await this.noteMatching('insertOne' in operation ? { _id: operation.insertOne.document._id } : (Object.values(operation)[0] as { filter: Filter }).filter);
    return this.inner.bulkWrite(operations);
  }
}
