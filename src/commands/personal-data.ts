import { contactStream } from '../domain/contact/index.ts';
import { campaignAudienceCategory, campaignMemberCategory } from '../domain/campaign/members.ts';
import { campaignPersonalValues } from '../domain/campaign/personal.ts';
import { automationCategory } from '../domain/campaign/automation.ts';
import { type FieldEvent, fieldsDecider, fieldsStream } from '../domain/customization/fields.ts';
import { personalFieldPaths } from '../domain/customization/personal-data.ts';
import { erasedSubjectOf, personalPointers } from '../domain/shared/personal-data.ts';
import { resourceNames, type ResourceSpec, specOf } from '../domain/customization/resources.ts';
import { categoryOf, type RecordedEvent } from '../infra/eventstore/port.ts';
import { type PersonalDataPolicy, type PersonalDataScope, streamsOf } from '../infra/eventstore/personal-data.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { contactRules, type ContactResult } from './contacts.ts';
import { fieldsOf } from './custom-fields.ts';
import { RecordHandler } from './record-handler.ts';

/** The record types whose records are data subjects (people): their personal values are sealed per record. */
const subjectTypes = new Map<string, ResourceSpec>(
  resourceNames
    .map((name) => specOf(name))
    .filter((spec) => spec.dataSubject)
    .map((spec) => [spec.category, spec]),
);

/** Streams that copy contacts' personal values out of their own: a campaign's member lists, its members' mail, automations' firings. */
const copyingCategories = new Set([campaignAudienceCategory, campaignMemberCategory, automationCategory]);

/** The stream categories whose events may hold a data subject's personal values (`contact`, and the campaigns' copies). */
export const subjectCategories = (): string[] => [...subjectTypes.keys(), ...copyingCategories];

/** The same, as the two kinds of stream (see PersonalDataScope). */
export const personalDataScope = (): PersonalDataScope => ({ subjectCategories: [...subjectTypes.keys()], copyingCategories: [...copyingCategories] });

/**
 * The rule of what is sealed: in a data subject's own stream (a contact's), its standard personal fields and
 * the custom fields marked personal, under the subject `<category>-<id>` (its stream id). The custom field
 * definitions are read from the log as stored (they hold no personal data).
 */
export function personalDataPolicy(readStream: (streamId: string) => Promise<readonly RecordedEvent[]>): PersonalDataPolicy {
  const personalCustom = new WeakMap<readonly RecordedEvent[], Set<string>>();
  const customKeys = async (spec: ResourceSpec): Promise<Set<string>> => {
    const events = await readStream(fieldsStream(spec.name));
    let keys = personalCustom.get(events);
    if (!keys) {
      const { fields } = events.reduce((state, event) => fieldsDecider.evolve(state, event as unknown as FieldEvent), fieldsDecider.initialState);
      personalCustom.set(events, (keys = new Set(Object.values(fields).filter((field) => field.personal).map((field) => field.key))));
    }
    return keys;
  };
  const contacts = specOf('contacts');
  return {
    ...streamsOf(personalDataScope()),
    async personalValues(streamId, event) {
      const category = categoryOf(streamId);
      if (copyingCategories.has(category)) {
        const copies = campaignPersonalValues(event.type, event.data, contacts.personalFields, await customKeys(contacts));
        return [...copies].map(([contactId, pointers]) => ({ subjectId: contactStream(contactId), pointers }));
      }
      const spec = subjectTypes.get(category);
      if (!spec) return [];
      const pointers = personalPointers(event.data, spec.personalFields, await customKeys(spec));
      return pointers.length ? [{ subjectId: streamId, pointers }] : [];
    },
    erasedSubject: erasedSubjectOf,
  };
}

/** Destroys a subject's key (see PersonalDataEventStore). */
export interface SubjectEraser {
  erase(subjectId: string, at: string): Promise<boolean>;
}

/**
 * Erases a contact's personal data (PIPL / GDPR): its key is destroyed first, so from that instant nothing sealed
 * under it can be read again, then `PersonalDataErased` is appended (a retry after a failure in between finds the
 * key gone and appends it). The contact keeps its non-personal fields and its history; it takes no more changes.
 */
export async function eraseContactPersonalData(deps: CommandDeps, eraser: SubjectEraser, contactId: string, actor: Actor, meta: RequestMeta): Promise<ContactResult & { eventsInClear: number }> {
  const subjectId = contactStream(contactId);
  const definitions = await fieldsOf(deps, 'contacts');
  const fields = personalFieldPaths('contacts', definitions);
  const handler = new RecordHandler(contactRules, deps, actor, meta);
  const { state, events } = await handler.load(contactId);
  // Refused before the key goes (a contact unknown, or erased already): the decider says why.
  if (state.status !== 'none' && !state.erased) await eraser.erase(subjectId, deps.clock.now().toISOString());
  // Events written before personal data was sealed hold it in clear: no key can erase those (see personal-data:seal).
  const custom = new Set(Object.values(definitions).filter((field) => field.personal).map((field) => field.key));
  const eventsInClear = events.filter((event) => !event.metadata.personal && personalPointers(event.data, specOf('contacts').personalFields, custom).length > 0).length;
  return { ...(await handler.run(contactId, { type: 'EraseContactPersonalData', contactId, subjectId, fields })), contactId, eventsInClear };
}
