import type { EventStore } from '../infra/eventstore/port.ts';
import { CodecEventStore } from '../infra/eventstore/codec.ts';
import { type PersonalDataOptions, type PersonalDataPolicy, PersonalDataEventStore, type PersonalDataScope, streamsOf } from '../infra/eventstore/personal-data.ts';
import type { SubjectKeys } from '../infra/personal-data/keys.ts';
import { ERASED, erasedSubjectOf } from '../domain/shared/personal-data.ts';
import { upcastEvent } from '../domain/upcasters.ts';

/**
 * The log as a thread that only reads it opens it (a replay's reading thread): personal values opened and events
 * upcast as the service's log does (domainLog), from modules that load in a fraction of the time. Which streams hold
 * personal values comes as data (`scope`, from the service); the rules that find the values in an event in clear
 * (and with them zod and every record type: 0.3 s of a thread's start) are loaded only when one needs them, which a
 * log written since values are sealed seldom does. It appends nothing.
 */
export function readingLog(storedEvents: EventStore, subjectKeys: SubjectKeys, scope: PersonalDataScope, options?: PersonalDataOptions): { eventStore: EventStore; personalData: PersonalDataEventStore } {
  const personalData = new PersonalDataEventStore(storedEvents, scopedPolicy(scope, storedEvents), subjectKeys, ERASED, options);
  return { eventStore: new CodecEventStore(personalData, { check: refuseAppend, upcast: upcastEvent }), personalData };
}

/** A reading log has no schemas to check an event against: it refuses to append one. */
function refuseAppend(streamId: string): never {
  throw new Error(`the reading log appends nothing (an append to ${streamId})`);
}

/** The domain's personal data policy, its rules loaded at the first event that needs them. */
function scopedPolicy(scope: PersonalDataScope, storedEvents: EventStore): PersonalDataPolicy {
  let rules: Promise<PersonalDataPolicy> | undefined;
  return {
    ...streamsOf(scope),
    async personalValues(streamId, event) {
      rules ??= import('../commands/personal-data.ts').then(({ personalDataPolicy }) => personalDataPolicy((id) => storedEvents.readStream(id)));
      return (await rules).personalValues(streamId, event);
    },
    erasedSubject: erasedSubjectOf,
  };
}
