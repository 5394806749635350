import type { ResourceSpec } from '../domain/customization/resources.ts';
import { merged } from '../infra/merged.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { applyOrgEvent, type DepartmentDoc, type OrgCollections, orgCategories, ownerPath } from './org.ts';
import { customerCategory } from '../domain/customer/events.ts';
import { escapeRegex } from '../infra/readstore/regex.ts';
import { withBatchImages } from './batch-images.ts';
import { alreadyApplied, type Projection } from './projection.ts';
import { activityCategory, type ActivityEvent } from '../domain/activity/index.ts';
import { type ActivityStats, type ActivityTarget, isActivityEvent, mirrorActivity, statsAfter } from './activity-stats.ts';

/** What a record projection supplies; the helper adds ownership, idempotence and the org mirror. */
export interface RecordProjectionSpec<D extends Doc, E = unknown> {
  name: string;
  version: number;
  category: string;
  collection: string;
  /** Owned records carry `ownerId` and the owner's `departmentPath`, kept current as the organisation changes. */
  owned: boolean;
  idOf(event: RecordedEvent): string;
  /** The next document (null deletes it), from an event of the record's stream (typed as its aggregate's events); `ownerPath` gives an owner's department path. */
  evolve(doc: D | null, event: RecordedEvent & E, ownerPath: (ownerId: string) => Promise<string>, parties: PartyLookup): D | null | Promise<D | null>;
  /**
   * Records in scope for several parties (RecordParties): its documents carry `queueId` and `queuePath` (a
   * department's members see it) and `customerOwnerId` and `customerOwnerPath` (the owner of the customer named
   * by `customerId`), kept current as customers change hands and people and departments move.
   */
  parties?: boolean;
  setup?(store: ReadStore): Promise<void>;
  /** Runs before the document is written, with the document before and after (for pre-aggregated counters). */
  beforeWrite?(before: D | null, after: D | null, event: RecordedEvent & E, store: ReadStore, mirror: OrgCollections): Promise<void>;
  /** Other collections it owns (counters). */
  collections?: readonly string[];
  /** Other read models' collections it reads (see Projection.reads). */
  reads?: readonly string[];
  /** The fields its list sorts by: each is indexed, so a page walks the index instead of sorting the collection. */
  sorts?: readonly string[];
  /**
   * The activity field that names its records (`opportunityId`): its documents then carry `lastContactedAt` and
   * the day counts of the activities logged on them (see activity-stats.ts).
   */
  activities?: ActivityTarget;
}

/** What a projection of `parties` records looks up: a department's path, a customer's owner and the owner's path. */
export interface PartyLookup {
  departmentPath(departmentId: string): Promise<string>;
  customerOwner(customerId: string): Promise<{ customerOwnerId: string | null; customerOwnerPath: string | null }>;
}

type CustomerOwnerDoc = Doc & { ownerId: string | null; _position: number };

/**
 * A projection of one kind of record into one collection: idempotent by `_position`, and, for owned records,
 * with a private mirror of the organisation so `departmentPath` follows owners who move.
 */
export function recordProjection<D extends Doc, E = unknown>(spec: RecordProjectionSpec<D, E>): Projection {
  const mirror: OrgCollections = { departments: `${spec.collection}_org_departments`, employees: `${spec.collection}_org_employees` };
  const activities = `${spec.collection}_activities`;
  const customerOwners = `${spec.collection}_customer_owners`;
  const lookup = (store: ReadStore): PartyLookup => ({
    departmentPath: async (departmentId) => (await store.collection<DepartmentDoc>(mirror.departments).findOne({ _id: departmentId }))?.path ?? '/',
    async customerOwner(customerId) {
      const ownerId = (await store.collection<CustomerOwnerDoc>(customerOwners).findOne({ _id: customerId }))?.ownerId ?? null;
      return { customerOwnerId: ownerId, customerOwnerPath: ownerId === null ? null : await ownerPath(store, mirror, ownerId) };
    },
  });
  // Its records' documents are put back exactly by an undo (see batch-images.ts).
  return withBatchImages({
    name: spec.name,
    version: spec.version,
    categories: [spec.category, ...(spec.owned ? orgCategories : []), ...(spec.activities ? [activityCategory] : []), ...(spec.parties ? [customerCategory] : [])],
    collections: [spec.collection, ...(spec.owned ? [mirror.departments, mirror.employees] : []), ...(spec.activities ? [activities] : []), ...(spec.parties ? [customerOwners] : []), ...(spec.collections ?? [])],
    ...(spec.reads ? { reads: spec.reads } : {}),
    // Of a customer's events, only those that give it an owner (or none) move its records.
    ...(spec.parties ? { ignores: (event: RecordedEvent) => event.streamId.startsWith(CUSTOMER_STREAM) && ownerSetBy(event) === undefined } : {}),
    async setup(store) {
      if (spec.owned) await store.collection(spec.collection).createIndex({ ownerId: 1 });
      if (spec.activities) await store.collection(activities).createIndex({ [spec.activities]: 1 });
      if (spec.parties) for (const field of ['customerId', 'customerOwnerId', 'queueId']) await store.collection(spec.collection).createIndex({ [field]: 1 });
      await spec.setup?.(store);
      await indexSorts(store, spec.collection, spec.sorts ?? []);
    },
    async apply(event, store) {
      const records = store.collection<D>(spec.collection);
      if (spec.activities && isActivityEvent(event)) return countActivity(store, spec.collection, activities, spec.activities, event);
      if (spec.parties && event.streamId.startsWith(CUSTOMER_STREAM)) return followCustomerOwner(store, spec.collection, customerOwners, mirror, event);
      if (!event.streamId.startsWith(`${spec.category}-`)) {
        for (const owner of await applyOrgEvent(event, store, mirror)) {
          await records.updateMany({ ownerId: owner.id }, { $set: { departmentPath: owner.departmentPath } });
          if (spec.parties) await records.updateMany({ customerOwnerId: owner.id }, { $set: { customerOwnerPath: owner.departmentPath } });
        }
        if (spec.parties && event.type === 'DepartmentMoved') await followQueues(store, spec.collection, mirror, (event.data as { departmentId: string }).departmentId);
        return;
      }
      const id = spec.idOf(event);
      const doc = await records.findOne({ _id: id });
      if (alreadyApplied(doc as { _position?: unknown } | null, event)) return;
      const next = await spec.evolve(doc, event as RecordedEvent & E, (ownerId) => ownerPath(store, mirror, ownerId), lookup(store));
      // Counters first, guarded by their own positions: a crash between the two writes replays safely.
      await spec.beforeWrite?.(doc, next, event as RecordedEvent & E, store, mirror);
      // (Most evolves stamp the event's position already: then no copy is made here, as the store copies anyway.)
      const position = Number(event.position);
      if (next) await records.replaceOne({ _id: id }, next._position === position ? next : merged(next, { _position: position }), { upsert: true });
      else if (doc) await records.deleteOne({ _id: id });
    },
  }, [spec.collection]);
}

const CUSTOMER_STREAM = `${customerCategory}-`;

/**
 * The owner a customer event gives its customer (null: released to the pool), or undefined for an event that leaves
 * its owner as it was (most).
 */
function ownerSetBy(event: RecordedEvent): string | null | undefined {
  if (event.type === 'CustomerReleased') return null;
  if (event.type === 'CustomerRegistered' || event.type === 'CustomerReinstated' || event.type === 'CustomerOwnerChanged' || event.type === 'CustomerClaimed') return (event.data as { ownerId?: string | null }).ownerId ?? null;
  return undefined;
}

/** A customer's owner changed: the records about it follow (its owner and the owner's department path). */
async function followCustomerOwner(store: ReadStore, collection: string, customerOwners: string, mirror: OrgCollections, event: RecordedEvent): Promise<void> {
  const data = event.data as { customerId?: string };
  const ownerId = ownerSetBy(event);
  if (ownerId === undefined || !data.customerId) return;
  const owners = store.collection<CustomerOwnerDoc>(customerOwners);
  if (alreadyApplied(await owners.findOne({ _id: data.customerId }), event)) return;
  await owners.replaceOne({ _id: data.customerId }, { _id: data.customerId, ownerId, _position: Number(event.position) }, { upsert: true });
  // A customer just registered has no records of this kind yet (theirs come later in the log, and look its owner up then).
  if (event.type === 'CustomerRegistered') return;
  const customerOwnerPath = ownerId === null ? null : await ownerPath(store, mirror, ownerId);
  await store.collection(collection).updateMany({ customerId: data.customerId }, { $set: { customerOwnerId: ownerId, customerOwnerPath } });
}

/** A department moved: the records queued in it or below it follow its path. */
async function followQueues(store: ReadStore, collection: string, mirror: OrgCollections, departmentId: string): Promise<void> {
  const departments = store.collection<DepartmentDoc>(mirror.departments);
  const moved = await departments.findOne({ _id: departmentId });
  if (!moved) return;
  for (const department of await departments.find({ path: { $regex: `^${escapeRegex(moved.path)}` } }))
    await store.collection(collection).updateMany({ queueId: department._id }, { $set: { queuePath: department.path } });
}

/** An activity logged, changed or removed: the last contact and day counts of the record it names. */
async function countActivity(store: ReadStore, collection: string, activities: string, field: ActivityTarget, event: RecordedEvent & ActivityEvent): Promise<void> {
  const change = await mirrorActivity(store, activities, event);
  if (change.applied) return;
  const records = store.collection<Doc & ActivityStats & { _position?: number }>(collection);
  for (const id of new Set([change.before?.[field], change.after?.[field]])) {
    if (!id) continue;
    const doc = await records.findOne({ _id: id });
    if (!doc || alreadyApplied(doc, event)) continue;
    const { lastContactedAt: _old, ...rest } = doc;
    await records.replaceOne({ _id: id }, merged(rest, await statsAfter(store, activities, field, id, doc, change, event.metadata.at), { _position: Number(event.position) }));
  }
}

/**
 * What a registered record type's projection takes from its registry entry: its name, stream category and
 * collection (all named like the resource), whether it is owned, and the record id (the stream id's tail).
 */
export const registered = (spec: ResourceSpec) => ({
  name: spec.name,
  category: spec.category,
  collection: spec.name,
  owned: spec.scope.by === 'owner' || spec.scope.by === 'parties',
  parties: spec.scope.by === 'parties',
  idOf: (event: RecordedEvent) => event.streamId.slice(spec.category.length + 1),
  sorts: spec.list.sorts,
});

/** Indexes each field a list sorts by (a no-op for those indexed already). */
export async function indexSorts(store: ReadStore, collection: string, fields: readonly string[]): Promise<void> {
  for (const field of fields) await store.collection(collection).createIndex({ [field]: 1 });
}

/** Common fields every record document carries, from the event that changed it. */
export const stamp = (event: RecordedEvent) => ({ revision: Number(event.revision), updatedAt: event.metadata.at, _position: Number(event.position) });

/** Lower-cased text a list's `q` searches. */
export const searchText = (...parts: unknown[]): string => joinedStrings('', parts, 2).toLowerCase();

/** `text` and the non-empty strings among `parts` (and in their arrays, `depth` deep), joined by U+0001. */
function joinedStrings(text: string, parts: readonly unknown[], depth: number): string {
  for (const part of parts) {
    if (typeof part === 'string') {
      if (part.length > 0) text = text ? `${text}\u0001${part}` : part;
    } else if (depth > 0 && Array.isArray(part)) text = joinedStrings(text, part, depth - 1);
  }
  return text;
}

/** The fields every owned record's first document has: owner, the owner's department path, creation time. */
export const ownedStart = async (event: RecordedEvent, ownerId: string, ownerPath: (ownerId: string) => Promise<string>, custom?: Record<string, unknown>) =>
  merged({ ownerId, departmentPath: await ownerPath(ownerId) }, custom ? { custom } : {}, { createdAt: event.metadata.at }, stamp(event), { _search: '' });

/** A record's read document: its fields plus the envelope every record projection keeps. */
export type RecordDoc = Doc & Record<string, unknown> & { revision: number; createdAt: string; updatedAt: string; _search: string };
