import type { ReadStore } from '../infra/readstore/port.ts';
import type { EventHandler } from './event-source.ts';

const INBOX = '_inbox';
/** Inbox entries deleted per write when a consumer's delivered ones are forgotten. */
const FORGET_AT_ONCE = 2_000;

type InboxEntry = { _id: string; consumer: string; eventId: string; position: number };

/**
 * Makes a handler's effect happen once per event id, however often the event is delivered: an event already
 * in the consumer's inbox is skipped, and the inbox records an event only after its handler succeeded. (A crash
 * between the effect and that record can still repeat an effect; effects that must never repeat should be
 * idempotent themselves, keyed by the event id.)
 */
export function onceByEventId(readStore: ReadStore, consumer: string, handler: EventHandler): EventHandler {
  const inbox = readStore.collection<InboxEntry>(INBOX);
  return async (event) => {
    const id = `${consumer}:${event.id}`;
    if (await inbox.findOne({ _id: id })) return;
    await handler(event);
    await inbox.updateOne({ _id: id }, { $setOnInsert: { consumer, eventId: event.id, position: Number(event.position) } }, { upsert: true });
  };
}

/**
 * Deletes a consumer's inbox entries of the events at or before a log position that can never be delivered to it
 * again (an event-log consumer's saved checkpoint): without this, the inbox keeps one entry per event for ever,
 * in memory in the embedded default. In writes of FORGET_AT_ONCE entries, so a large inbox an earlier version
 * left goes without holding up the event loop for long. Returns how many were deleted.
 */
export async function forgetDelivered(readStore: ReadStore, consumer: string, through: bigint): Promise<number> {
  const inbox = readStore.collection<InboxEntry>(INBOX);
  let forgotten = 0;
  for (;;) {
    const delivered = await inbox.find({ consumer, position: { $lte: Number(through) } }, { projection: { _id: 1 }, limit: FORGET_AT_ONCE });
    // Deleted in one turn of the event loop: one transaction of the integration state's SQLite store.
    await Promise.all(delivered.map(({ _id }) => inbox.deleteOne({ _id })));
    forgotten += delivered.length;
    if (delivered.length < FORGET_AT_ONCE) return forgotten;
  }
}
