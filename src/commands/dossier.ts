import { type RecordState, type ResourceName, type ResourceSpec, resourceNames, specOf } from '../domain/customization/resources.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { CAMPAIGN_MEMBERS } from '../projections/campaign-members.ts';

/** One field an event changed: its path in the record (`name`, `custom.level`), the value before and after (null: unset). */
export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

/** One event of the dossier: what happened to which record, when, by whom, and the fields it changed. */
export interface DossierEntry {
  position: number;
  at: string;
  actor: string;
  resource: ResourceName;
  recordId: string;
  revision: number;
  type: string;
  changes: FieldChange[];
}

/** Keys of a folded record that are bookkeeping, not the record's facts. */
const BOOKKEEPING = new Set(['revision', 'updatedAt']);
const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const same = (a: unknown, b: unknown) => (a ?? null) === (b ?? null) || JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * The fields that differ between two folded states of a record, as paths: top-level facts, and one level into
 * the objects holding fields (`fields.name` is reported as `name`, `custom.level` as it is).
 */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const changes: FieldChange[] = [];
  const walk = (a: Record<string, unknown>, b: Record<string, unknown>, prefix: string, depth: number) => {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (depth === 0 && BOOKKEEPING.has(key)) continue;
      const from = a[key];
      const to = b[key];
      if (same(from, to)) continue;
      if (depth === 0 && (key === 'fields' || key === 'custom') && (isPlainObject(from) || isPlainObject(to))) {
        walk(isPlainObject(from) ? from : {}, isPlainObject(to) ? to : {}, key === 'fields' ? '' : 'custom.', depth + 1);
        continue;
      }
      changes.push({ field: `${prefix}${key}`, from: from ?? null, to: to ?? null });
    }
  };
  walk(isPlainObject(before) ? before : {}, isPlainObject(after) ? after : {}, '', 0);
  return changes;
}

/** A record stream's events as dossier entries, each with the field changes its fold shows. */
export function streamEntries(spec: ResourceSpec, recordId: string, events: readonly RecordedEvent[]): DossierEntry[] {
  let state: RecordState = spec.decider.initialState;
  return events.map((event) => {
    const next = spec.decider.evolve(state, { type: event.type, data: event.data } as never);
    const entry: DossierEntry = { position: Number(event.position), at: event.metadata.at, actor: event.metadata.actor, resource: spec.name as ResourceName, recordId, revision: Number(event.revision), type: event.type, changes: fieldChanges(state, next) };
    state = next;
    return entry;
  });
}

/** The records related to a customer now: every registered record type whose read model names it by `customerId`. */
export async function relatedRecords(readStore: ReadStore, customerId: string): Promise<{ spec: ResourceSpec; id: string }[]> {
  const related: { spec: ResourceSpec; id: string }[] = [];
  for (const name of resourceNames) {
    const spec = specOf(name);
    if (name === 'customers' || spec.scope.by === 'company') continue;
    for (const doc of await readStore.collection(name).find({ customerId }, { projection: { _id: 1 }, sort: { _id: 1 } })) related.push({ spec, id: doc._id });
  }
  return related;
}

/**
 * Everything that happened to a customer and the records related to it, merged in log order: the customer's own
 * stream and each related record's (`records`, with the events their loading read, already limited to what the
 * caller may see).
 */
export function dossierEntries(records: readonly { spec: ResourceSpec; id: string; events: readonly RecordedEvent[] }[]): DossierEntry[] {
  return records.flatMap(({ spec, id, events }) => streamEntries(spec, id, events)).sort((a, b) => a.position - b.position);
}

/** A campaign membership of a customer or of one of its contacts: whose mail stream tells what reached them. */
export interface Membership {
  campaignId: string;
  memberId: string;
}

/**
 * The campaign memberships of a customer (a customers audience lists it with one of its contacts) and of its
 * contacts (a contacts audience, or a customers audience naming the contact): the campaign member read model
 * names both.
 */
export async function campaignMemberships(readStore: ReadStore, customerId: string, contactIds: readonly string[]): Promise<Membership[]> {
  const docs = await readStore.collection(CAMPAIGN_MEMBERS).find({ $or: [{ resource: 'customers', recordId: customerId }, { contactId: { $in: [...contactIds] } }] }, { projection: { campaignId: 1, memberId: 1 }, sort: { _id: 1 } });
  return docs.map((doc) => ({ campaignId: String(doc.campaignId), memberId: String(doc.memberId) }));
}

/** Data of a member's mail events that names no fact of its own (ids and the time) or is the person's (their address). */
const NOT_SHOWN = new Set(['campaignId', 'memberId', 'sendId', 'at', 'contactId', 'email', 'mobile']);

/**
 * A membership's mail events (sent, delivered, opened, clicked, bounced, skipped…) as dossier entries of the
 * campaign, each with the facts it recorded as its changes (the address left out: the contact's own entries hold it).
 */
export function membershipEntries(membership: Membership, events: readonly RecordedEvent[]): DossierEntry[] {
  return events.map((event) => ({
    position: Number(event.position),
    at: event.metadata.at,
    actor: event.metadata.actor,
    resource: 'campaigns',
    recordId: membership.campaignId,
    revision: Number(event.revision),
    type: event.type,
    changes: Object.entries((event.data as Record<string, unknown>) ?? {})
      .filter(([key]) => !NOT_SHOWN.has(key))
      .map(([field, to]) => ({ field, from: null, to })),
  }));
}
