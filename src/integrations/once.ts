import type { ReadStore } from '../infra/readstore/port.ts';
import type { EventHandler } from './event-source.ts';

const INBOX = '_inbox';
/** Inbox entries deleted per write when a consumer's delivered ones are forgotten. */
const FORGET_AT_ONCE = 2_000;

type InboxEntry = { _id: string; consumer: string; eventId: string; position: number };
/** A consumer's mark in its inbox (not an entry: no `consumer` field): it has handled every event of its own at or before `through`, a log position. */
type HandledThrough = { _id: string; through: number };

const markOf = (consumer: string) => `${consumer}:handled-through`;

/**
 * Makes a handler's effect happen once per event id, however often the event is delivered: an event already
 * in the consumer's inbox, or at or before the consumer's handled-through mark (see `forgetDelivered`), is
 * skipped, and the inbox records an event only after its handler succeeded. (A crash between the effect and
 * that record can still repeat an effect; effects that must never repeat should be idempotent themselves, keyed
 * by the event id.)
 */
export function onceByEventId(readStore: ReadStore, consumer: string, handler: EventHandler): EventHandler {
  const inbox = readStore.collection<InboxEntry | HandledThrough>(INBOX);
  const mark = markOf(consumer);
  return async (event) => {
    const id = `${consumer}:${event.id}`;
    if (await inbox.findOne({ _id: id })) return;
    const handled = (await inbox.findOne({ _id: mark })) as HandledThrough | null;
    if (handled && Number(event.position) <= handled.through) return;
    await handler(event);
    await inbox.updateOne({ _id: id }, { $setOnInsert: { consumer, eventId: event.id, position: Number(event.position) } }, { upsert: true });
  };
}

/**
 * Records that a consumer has handled every event of its own at or before a log position (an event-log
 * consumer's saved checkpoint: the log delivers in order, and the consumer goes past an event only once its
 * handler succeeded), then deletes the inbox entries that mark now covers. Without this the inbox kept one entry
 * per event for ever, in memory in the embedded default; with it, an operator who removes the checkpoint (see
 * "Checkpoints ahead of the log") still gets no second effect of an event handled before. Deleted in writes of
 * FORGET_AT_ONCE entries, so a large inbox an earlier version left goes without holding up the event loop for
 * long. Returns how many were deleted.
 */
export async function forgetDelivered(readStore: ReadStore, consumer: string, through: bigint): Promise<number> {
  const inbox = readStore.collection<InboxEntry | HandledThrough>(INBOX);
  // The mark first: an entry is deleted only once the mark that replaces it is saved.
  await inbox.updateOne({ _id: markOf(consumer) }, { $max: { through: Number(through) } }, { upsert: true });
  let forgotten = 0;
  for (;;) {
    const delivered = await inbox.find({ consumer, position: { $lte: Number(through) } }, { projection: { _id: 1 }, limit: FORGET_AT_ONCE });
    // Deleted in one turn of the event loop: one transaction of the integration state's SQLite store.
    await Promise.all(delivered.map(({ _id }) => inbox.deleteOne({ _id })));
    forgotten += delivered.length;
    if (delivered.length < FORGET_AT_ONCE) return forgotten;
  }
}

/**
 * Lowers a consumer's handled-through mark to the log's head when it is past it: the log lost its last events
 * (a power cut, a restored backup), and the events appended from now on take their positions again. They are new,
 * and must not be taken for handled ones.
 */
export async function keepHandledWithin(readStore: ReadStore, consumer: string, head: bigint): Promise<void> {
  await readStore.collection<HandledThrough>(INBOX).updateOne({ _id: markOf(consumer), through: { $gt: Number(head) } }, { $set: { through: Number(head) } });
}
