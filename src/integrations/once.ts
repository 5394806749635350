import type { ReadStore } from '../infra/readstore/port.ts';
import type { EventHandler } from './event-source.ts';

const INBOX = '_inbox';

/**
 * Makes a handler's effect happen once per event id, however often the event is delivered: an event already
 * in the consumer's inbox is skipped, and the inbox records an event only after its handler succeeded. (A crash
 * between the effect and that record can still repeat an effect; effects that must never repeat should be
 * idempotent themselves, keyed by the event id.)
 */
export function onceByEventId(readStore: ReadStore, consumer: string, handler: EventHandler): EventHandler {
  const inbox = readStore.collection(INBOX);
  return async (event) => {
    const id = `${consumer}:${event.id}`;
    if (await inbox.findOne({ _id: id })) return;
    await handler(event);
    await inbox.updateOne({ _id: id }, { $setOnInsert: { consumer, eventId: event.id, position: Number(event.position) } }, { upsert: true });
  };
}
