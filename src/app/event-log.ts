import { personalDataPolicy } from '../commands/personal-data.ts';
import { checkEventData } from '../domain/event-schemas.ts';
import { upcastEvent } from '../domain/upcasters.ts';
import { ERASED } from '../domain/shared/personal-data.ts';
import { CodecEventStore, type EventCodec } from '../infra/eventstore/codec.ts';
import { PersonalDataEventStore } from '../infra/eventstore/personal-data.ts';
import type { EventStore } from '../infra/eventstore/port.ts';
import type { SubjectKeys } from '../infra/personal-data/keys.ts';

/** The domain's event rules, applied by the event store adapter: schemas on append, upcasters on read. */
export const domainEventCodec: EventCodec = {
  check: (_streamId, event) => checkEventData(event.type, event.data),
  upcast: upcastEvent,
};

/**
 * The log as the service reads and writes it, over the stored events: personal values sealed under their data
 * subject's key on append and opened on every read (crypto-shredding), every event checked against its schema
 * before it is appended and read in today's shape (upcast). A replay's reading thread opens it by the same rules
 * with lighter modules (readingLog).
 */
export function domainLog(storedEvents: EventStore, subjectKeys: SubjectKeys): { eventStore: EventStore; personalData: PersonalDataEventStore } {
  const personalData = new PersonalDataEventStore(storedEvents, personalDataPolicy((streamId) => storedEvents.readStream(streamId)), subjectKeys, ERASED);
  return { eventStore: new CodecEventStore(personalData, domainEventCodec), personalData };
}
