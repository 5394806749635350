import { batchCategory, type BatchEvent, type BatchConflict } from '../domain/batch/index.ts';
import { recordCategories } from '../domain/categories.ts';
import { categoryOf, type RecordedEvent } from '../infra/eventstore/port.ts';
import type { Collection, Doc } from '../infra/readstore/port.ts';
import { alreadyApplied, keyed, type Projection } from './projection.ts';

export const BATCHES = 'batches';
/** The records each batch wrote to: one document per batch and record stream. */
export const BATCH_RECORDS = 'batch_records';

export type BatchDoc = Doc & {
  id: string;
  kind: string;
  resource: string;
  summary: Record<string, unknown>;
  /** Who started it, and when. */
  actorId: string;
  startedAt: string;
  completedAt?: string;
  status: 'running' | 'completed';
  /** The records it wrote to (counted from their events), the events it wrote, and what it left alone. */
  records: number;
  events: number;
  skipped: number;
  conflicts: BatchConflict[];
  undoes?: string;
  force?: boolean;
  undoneBy?: string;
  undoneAt?: string;
  _position: number;
};

export type BatchRecordDoc = Doc & {
  batchId: string;
  streamId: string;
  category: string;
  recordId: string;
  events: number;
  firstPosition: number;
  _position: number;
};

export const batchRecordId = (batchId: string, streamId: string) => `${batchId}\u0001${streamId}`;

/** A record's event written by no batch (most): nothing to count. */
const ofNoBatch = (event: RecordedEvent): boolean => !event.metadata.batchId && categoryOf(event.streamId) !== batchCategory;

/** Bulk operations: who ran what, when, how it ended, and the records each one wrote to (what its undo reverts). */
export const batchesProjection: Projection = {
  name: 'batches',
  version: 1,
  categories: [batchCategory, ...recordCategories],
  collections: [BATCHES, BATCH_RECORDS],
  async setup(store) {
    await store.collection(BATCHES).createIndex({ startedAt: 1 });
    await store.collection(BATCHES).createIndex({ actorId: 1 });
    await store.collection(BATCH_RECORDS).createIndex({ batchId: 1 });
  },
  ignores: ofNoBatch,
  async apply(event, store) {
    if (ofNoBatch(event)) return;
    const batches = store.collection<BatchDoc>(BATCHES);
    if (categoryOf(event.streamId) === batchCategory) return applyBatchEvent(event as RecordedEvent & BatchEvent, store.collection<BatchDoc>(BATCHES));
    const batchId = event.metadata.batchId;
    if (!batchId) return;
    const records = store.collection<BatchRecordDoc>(BATCH_RECORDS);
    const id = batchRecordId(batchId, event.streamId);
    const record = await records.findOne({ _id: id });
    if (alreadyApplied(record, event)) return;
    const position = Number(event.position);
    const category = categoryOf(event.streamId);
    await records.replaceOne(
      { _id: id },
      { _id: id, batchId, streamId: event.streamId, category, recordId: event.streamId.slice(category.length + 1), events: (record?.events ?? 0) + 1, firstPosition: record?.firstPosition ?? position, _position: position },
      { upsert: true },
    );
    await batches.updateOne({ _id: batchId }, { $inc: { events: 1, ...(record ? {} : { records: 1 }) } });
  },
};

async function applyBatchEvent(event: RecordedEvent & BatchEvent, batches: Collection<BatchDoc>): Promise<void> {
  const doc = await batches.findOne({ _id: event.data.batchId });
  if (alreadyApplied(doc, event)) return;
  const position = Number(event.position);
  switch (event.type) {
    case 'BatchStarted': {
      const { batchId, kind, resource, summary, undoes, force } = event.data;
      const started: BatchDoc = {
        ...keyed(batchId),
        kind,
        resource,
        summary,
        actorId: event.metadata.actor,
        startedAt: event.metadata.at,
        status: 'running',
        records: doc?.records ?? 0,
        events: doc?.events ?? 0,
        skipped: 0,
        conflicts: [],
        ...(undoes ? { undoes } : {}),
        ...(force ? { force } : {}),
        _position: position,
      };
      await batches.replaceOne({ _id: batchId }, started, { upsert: true });
      return;
    }
    case 'BatchCompleted':
      await batches.updateOne({ _id: event.data.batchId }, { $set: { status: 'completed', completedAt: event.metadata.at, skipped: event.data.skipped, conflicts: event.data.conflicts ?? [], _position: position } });
      return;
    case 'BatchTargeted':
      return;
    case 'BatchUndone':
      await batches.updateOne({ _id: event.data.batchId }, { $set: { undoneBy: event.data.undoBatchId, undoneAt: event.metadata.at, _position: position } });
  }
}
