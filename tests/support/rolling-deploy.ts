import type { ReadStore } from '../../src/infra/readstore/port.ts';
import { WriteBackStore } from '../../src/infra/readstore/write-back.ts';

/** Counts the event at `position` into a day counter, guarded by the last position counted (as CounterDeltas does). */
export const countAt = (store: ReadStore, collection: string, position: number) =>
  store.collection(collection).updateOne({ _id: 'day', _position: { $lt: position } }, { $inc: { n: 1 }, $set: { _position: position } }, { upsert: true });

/**
 * Two runners of a rolling deploy over one shared store: both read the counter before either commits, and the
 * one that got further (10 events) commits before the one behind it (5). The counter must end at 10.
 */
export async function twoRunnersCount(store: ReadStore, collection: string): Promise<void> {
  const ahead = new WriteBackStore(store);
  const behind = new WriteBackStore(store);
  for (let position = 1; position <= 10; position++) await countAt(ahead, collection, position);
  for (let position = 1; position <= 5; position++) await countAt(behind, collection, position);
  await ahead.commit();
  await behind.commit();
}
