import { contactCategory, type ContactEvent } from '../domain/contact/index.ts';
import { erasedFields } from '../domain/shared/personal-data.ts';
import { customerCategory, type CustomerEvent } from '../domain/customer/index.ts';
import { applyChanges, normalizePhone } from '../domain/shared/normalize.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { resourceSpecs } from '../domain/customization/resources.ts';
import { applyOrgEvent, type OrgCollections, orgCategories, ownerPath } from './org.ts';
import { indexSorts, searchText } from './owned.ts';
import { alreadyApplied, type Projection } from './projection.ts';
import { withBatchImages } from './batch-images.ts';
import { merged } from '../infra/merged.ts';
import { activityCategory, ACTIVITIES_ERA_KEY, type ActivityEvent } from '../domain/activity/index.ts';
import { settingsCategory } from '../domain/categories.ts';
import { type ActivityStats, isActivityEvent, mirrorActivity, statsAfter } from './activity-stats.ts';

export const CUSTOMERS = 'customers';
/** How many contacts a customer document embeds (the most recently changed); the rest: /contacts?customerId=. */
export const EMBEDDED_CONTACTS = 50;
export const CONTACTS = 'contacts';
/** This projection's mirror of the activities (what a change or a removal takes away from a customer or contact). */
const ACTIVITIES = 'customers_activities';
/** Where it notes when activities became the follow-ups (the era marker's time). */
const META = 'customers_meta';
const ERA_ID = 'activities_era';
/** This projection's private mirror of the organisation, for its owners' department paths. */
const MIRROR: OrgCollections = { departments: 'customers_org_departments', employees: 'customers_org_employees' };

export interface ContactSummary {
  id: string;
  name: string;
  title?: string;
  mobile?: string;
  email?: string;
}

export type CustomerDoc = Doc & {
  id: string;
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** `merged`: merged into `mergedInto` (a duplicate; lists leave it out unless asked for it). */
  status: 'active' | 'archived' | 'merged';
  mergedInto?: string;
  statusBeforeMerge?: 'active' | 'archived';
  /** null while in the customer pool (公海). */
  ownerId: string | null;
  /** The customer's code in the ERP; null until linked. */
  erpCode: string | null;
  /** The owner's department path (null in the pool); follows the owner when departments or people move. */
  departmentPath: string | null;
  inPool: boolean;
  /** How many contacts the customer has (kept by counting each added, moved and removed one). */
  contactCount: number;
  /** The last time the customer or one of its contacts changed. */
  lastActivityAt: string;
  /**
   * The follow-up clock of the pool rule: the last activity logged with the customer, or when it was registered,
   * claimed or given to its owner if later (for a customer from before activities: its last change then).
   */
  lastContactedAt?: string;
  /** When the follow-up clock started without an activity (registration, claim, owner change). */
  _contactBase?: string;
  _activityDays?: Record<string, number>;
  name: string;
  contacts: ContactSummary[];
  /** Lower-cased name, short name, phone and contact names: what `q` searches. */
  _search: string;
  /** The customer's phone, normalised: what the collision check matches exactly. */
  _phones: string[];
  _position: number;
} & Record<string, unknown>;

export type ContactDoc = Doc & {
  id: string;
  revision: number;
  createdAt: string;
  updatedAt: string;
  customerId: string;
  customerName: string;
  ownerId: string | null;
  departmentPath: string | null;
  name: string;
  _search: string;
  /** Mobile and office phone, normalised: what the collision check matches exactly. */
  _phones: string[];
  _position: number;
} & ActivityStats &
  Record<string, unknown>;

/** The distinct normalised phone numbers among these values. */
const phoneKeys = (...values: unknown[]): string[] => [...new Set(values.filter((v): v is string => typeof v === 'string').map(normalizePhone).filter(Boolean))];

const customerSearch = (doc: Record<string, unknown>, contacts: ContactSummary[]) =>
  searchText(doc.name, doc.shortName, doc.phone, contacts.map((c) => [c.name, c.mobile]));

const summaryOf = (contact: Record<string, unknown>): ContactSummary => {
  const summary: ContactSummary = { id: String(contact.id), name: String(contact.name) };
  for (const key of ['title', 'mobile', 'email'] as const) if (typeof contact[key] === 'string') summary[key] = contact[key] as string;
  return summary;
};

const meta = (event: RecordedEvent) => ({ revision: Number(event.revision), updatedAt: event.metadata.at, lastActivityAt: event.metadata.at, _position: Number(event.position) });

/** The customer document after one of the customer's own events (pure); `ownerPath` is the new owner's department path. */
export function evolveCustomerDoc(doc: CustomerDoc | null, event: RecordedEvent & CustomerEvent, ownerPath: string): CustomerDoc | null {
  if (event.type === 'CustomerRegistered' || event.type === 'CustomerReinstated') {
    const { customerId, ownerId, erpCode, fields } = event.data;
    const status = event.type === 'CustomerReinstated' ? event.data.status : 'active';
    const contacts = doc?.contacts ?? [];
    const contactCount = doc?.contactCount ?? 0;
    const next = merged({ _id: customerId, id: customerId }, fields, { erpCode, ownerId, departmentPath: ownerId === null ? null : ownerPath, inPool: ownerId === null, status, createdAt: event.metadata.at, contacts, contactCount }, meta(event), { _search: '', _phones: [] as string[] }) as CustomerDoc;
    next._search = customerSearch(next, contacts);
    next._phones = phoneKeys(next.phone);
    return next;
  }
  if (!doc || event.type === 'CustomerDiscarded') return null;
  switch (event.type) {
    case 'CustomerChanged': {
      const next = applyChanges(doc as Record<string, unknown>, event.data.changes) as CustomerDoc;
      return merged(next, meta(event), { _search: customerSearch(next, doc.contacts), _phones: phoneKeys(next.phone) });
    }
    case 'CustomerOwnerChanged':
    case 'CustomerClaimed':
      return merged(doc, { ownerId: event.data.ownerId, departmentPath: ownerPath, inPool: false }, meta(event));
    case 'CustomerReleased':
      return merged(doc, { ownerId: null, departmentPath: null, inPool: true, releasedAt: event.metadata.at }, meta(event));
    case 'CustomerArchived':
      return merged(doc, { status: 'archived' as const }, meta(event));
    case 'CustomerRestored':
      return merged(doc, { status: 'active' as const }, meta(event));
    case 'CustomerMemberLevelChanged':
      return merged(doc, { memberLevel: event.data.memberLevel.to }, meta(event));
    case 'CustomerMerged':
      return merged(doc, { status: 'merged' as const, mergedInto: event.data.survivorId, statusBeforeMerge: doc.status === 'merged' ? doc.statusBeforeMerge : doc.status }, meta(event));
    case 'CustomerUnmerged': {
      const { mergedInto: _into, statusBeforeMerge: _was, ...rest } = doc;
      return merged(rest, { status: event.data.status }, meta(event)) as CustomerDoc;
    }
    case 'CustomersMergedIn':
      return merged(doc, meta(event));
    case 'CustomerErpLinked':
      return merged(doc, { erpCode: event.data.erpCode }, meta(event));
  }
}

const contactSearch = (doc: Record<string, unknown>) => searchText(doc.name, doc.mobile, doc.officePhone, doc.email, doc.customerName);

/** The prefixes of the streams the customers' projection tells apart. */
const CUSTOMER_STREAM = `${customerCategory}-`;
const CONTACT_STREAM = `${contactCategory}-`;
const SETTINGS_STREAM = `${settingsCategory}-`;

/**
 * Customers with their contacts embedded (the related-objects view and contact-name search), and the
 * contact list, which carries its customer's name, owner and department for scoping.
 */
export const customersProjection: Projection = withBatchImages({
  name: 'customers',
  // 2: _phones (the collision check's exact phone match); 3: at most EMBEDDED_CONTACTS embedded, contactCount;
  // 5: contactCount counted per event (a contact event no longer counts the contacts); 6: lastContactedAt and the
  // activity day counts of customers and contacts (activities count as follow-ups, edits no longer do).
  // (memberLevel came without a new version: no document had one before, and setup indexes it at every start.)
  version: 6,
  categories: [customerCategory, contactCategory, ...orgCategories, activityCategory, settingsCategory],
  collections: [CUSTOMERS, CONTACTS, MIRROR.departments, MIRROR.employees, ACTIVITIES, META],

  async setup(store) {
    const customers = store.collection(CUSTOMERS);
    await customers.createIndex({ ownerId: 1 });
    await customers.createIndex({ status: 1 });
    await customers.createIndex({ industry: 1 });
    await customers.createIndex({ region: 1 });
    await customers.createIndex({ level: 1 });
    await customers.createIndex({ memberLevel: 1 });
    await customers.createIndex({ inPool: 1 });
    await customers.createIndex({ _phones: 1 });
    await customers.createIndex({ erpCode: 1 });
    const contacts = store.collection(CONTACTS);
    await contacts.createIndex({ _phones: 1 });
    await contacts.createIndex({ customerId: 1 });
    await contacts.createIndex({ ownerId: 1 });
    await indexSorts(store, CUSTOMERS, resourceSpecs.customers.list.sorts);
    await indexSorts(store, CONTACTS, resourceSpecs.contacts.list.sorts);
    await store.collection(ACTIVITIES).createIndex({ customerId: 1 });
    await store.collection(ACTIVITIES).createIndex({ contactId: 1 });
  },

  // (Not an async function: each kind's own promise is answered, not one more around it, for 622,000 events of the
  // 100k benchmark log's replay.)
  apply(event, store) {
    if (event.streamId.startsWith(CUSTOMER_STREAM)) return applyCustomerEvent(event as RecordedEvent & CustomerEvent, store);
    if (event.streamId.startsWith(CONTACT_STREAM)) return applyContactEvent(event as RecordedEvent & ContactEvent, store);
    if (isActivityEvent(event)) return applyActivityEvent(event, store);
    if (event.streamId.startsWith(SETTINGS_STREAM)) return noteActivitiesEra(event, store);
    return applyOrgEventToOwners(event, store);
  },
}, [CUSTOMERS, CONTACTS]);

/** An organisation event: the mirror changed, and the customers and contacts of owners who moved follow them. */
async function applyOrgEventToOwners(event: RecordedEvent, store: ReadStore): Promise<void> {
  for (const owner of await applyOrgEvent(event, store, MIRROR)) await followOwner(store, owner.id, owner.departmentPath);
}

/** Before the era marker (a log written by an older version), any change to a customer or its contacts was a follow-up. */
const inActivitiesEra = async (store: ReadStore): Promise<boolean> => (await store.collection(META).findOne({ _id: ERA_ID })) !== null;

async function noteActivitiesEra(event: RecordedEvent, store: ReadStore): Promise<void> {
  const data = event.data as { key?: string };
  if (event.type !== 'SettingChanged' || data.key !== ACTIVITIES_ERA_KEY) return;
  await store.collection(META).replaceOne({ _id: ERA_ID }, { _id: ERA_ID, at: event.metadata.at, _position: Number(event.position) }, { upsert: true });
}

/** A later of two times (either may be missing). */
const later = (a: string | undefined, b: string): string => (a && a > b ? a : b);

/**
 * The follow-up clock a customer event sets: registering, claiming or being given a customer starts it (a customer
 * just taken over is not idle); before the era, any change did (as the old rule counted edits).
 */
const followUpOf = (doc: CustomerDoc | null, event: RecordedEvent & CustomerEvent, era: boolean): Partial<CustomerDoc> => {
  const starts = event.type === 'CustomerRegistered' || event.type === 'CustomerClaimed' || event.type === 'CustomerOwnerChanged' || !era;
  if (!starts || event.type === 'CustomerReleased') return {};
  const at = event.metadata.at;
  return { _contactBase: later(doc?._contactBase, at), lastContactedAt: later(doc?.lastContactedAt, at) };
};

/** An activity logged, changed or removed: the last contact and day counts of its customer and contact. */
async function applyActivityEvent(event: RecordedEvent & ActivityEvent, store: ReadStore): Promise<void> {
  const change = await mirrorActivity(store, ACTIVITIES, event);
  if (change.applied) return;
  const now = event.metadata.at;
  const position = Number(event.position);
  // (An activity moves to another customer only when its customer is merged into that one.)
  for (const customerId of new Set([change.before?.customerId, change.after?.customerId])) {
    if (!customerId) continue;
    const customers = store.collection<CustomerDoc>(CUSTOMERS);
    const customer = await customers.findOne({ _id: customerId });
    if (customer && !alreadyApplied(customer, event)) {
      const stats = await statsAfter(store, ACTIVITIES, 'customerId', customerId, customer, change, now, customer._contactBase);
      await customers.replaceOne({ _id: customerId }, merged(customer, stats, { _position: position }));
    }
  }
  const contacts = store.collection<ContactDoc>(CONTACTS);
  for (const contactId of new Set([change.before?.contactId, change.after?.contactId])) {
    if (!contactId) continue;
    const contact = await contacts.findOne({ _id: contactId });
    if (!contact || alreadyApplied(contact, event)) continue;
    const stats = await statsAfter(store, ACTIVITIES, 'contactId', contactId, contact, change, now);
    const { lastContactedAt: _old, ...rest } = contact;
    await contacts.replaceOne({ _id: contactId }, merged(rest, stats, { _position: position }));
  }
}

async function applyCustomerEvent(event: RecordedEvent & CustomerEvent, store: ReadStore): Promise<void> {
  const customers = store.collection<CustomerDoc>(CUSTOMERS);
  const customerId = event.data.customerId;
  const doc = await customers.findOne({ _id: customerId });
  const applied = alreadyApplied(doc, event);
  const newOwner = 'ownerId' in event.data ? event.data.ownerId : null;
  const evolved = applied ? doc : evolveCustomerDoc(doc, event, newOwner ? await ownerPath(store, MIRROR, newOwner) : '/');
  if (!evolved) {
    if (doc && !applied) await customers.deleteOne({ _id: customerId }); // discarded (an undone import)
    return;
  }
  const next = applied ? evolved : merged(evolved, followUpOf(doc, event, await inActivitiesEra(store)));
  if (!applied) await customers.replaceOne({ _id: customerId }, next, { upsert: true });
  // (A customer just registered has no contacts yet: theirs come later in the log.)
  if (event.type === 'CustomerRegistered' || event.type === 'CustomerArchived' || event.type === 'CustomerRestored' || event.type === 'CustomerMerged' || event.type === 'CustomerUnmerged') return;
  // Nothing the contacts carry changed (most changes): no need to look at them. A replayed event checks them anyway,
  // in case the customer was written and its contacts were not.
  if (!applied && doc && next.name === doc.name && next.ownerId === doc.ownerId && next.departmentPath === doc.departmentPath) return;
  // Contacts carry their customer's name, owner and department; the _position filter makes this step idempotent.
  const contacts = store.collection<ContactDoc>(CONTACTS);
  for (const contact of await contacts.find({ customerId, _position: { $lt: Number(event.position) } })) {
    const updated = merged(contact, { customerName: next.name, ownerId: next.ownerId, departmentPath: next.departmentPath, _position: Number(event.position) });
    updated._search = contactSearch(updated);
    await contacts.replaceOne({ _id: contact._id }, updated);
  }
}

/** Records follow their owner into another department (or a moved department). */
async function followOwner(store: ReadStore, ownerId: string, departmentPath: string): Promise<void> {
  await store.collection(CUSTOMERS).updateMany({ ownerId }, { $set: { departmentPath } });
  await store.collection(CONTACTS).updateMany({ ownerId }, { $set: { departmentPath } });
}

/** The customer and fields a contact is added (or reinstated) with. */
const addedFacts = (event: ContactEvent): { customerId: string; fields: Record<string, unknown> } =>
  event.type === 'ContactReinstated'
    ? { customerId: String((event.data.state as { customerId?: unknown }).customerId), fields: event.data.fields as Record<string, unknown> }
    : { customerId: String((event.data as { customerId: string }).customerId), fields: (event.data as { fields: Record<string, unknown> }).fields };

/** The contact document after one of its events (null once removed); `customer` is its customer's document. */
function evolveContactDoc(doc: ContactDoc | null, event: RecordedEvent & ContactEvent, customer: CustomerDoc | null): ContactDoc | null {
  const fromCustomer = (fallback: { ownerId: string | null; departmentPath: string | null }) => ({
    customerName: customer?.name ?? '',
    ownerId: customer?.ownerId ?? fallback.ownerId,
    departmentPath: customer?.departmentPath ?? fallback.departmentPath,
  });
  let next: ContactDoc | null = null;
  switch (event.type) {
    case 'ContactAdded':
    case 'ContactReinstated': {
      // (A reinstated contact's creation time comes back with the batch's image of its document.)
      const { customerId, fields } = addedFacts(event);
      next = merged(
        { _id: event.data.contactId, id: event.data.contactId, customerId },
        fromCustomer({ ownerId: event.metadata.actor, departmentPath: '/' }),
        fields as { name: string },
        {
          erpCode: (event.type === 'ContactAdded' ? event.data.erpCode : (event.data.state as { erpCode?: string | null }).erpCode) ?? null,
          createdAt: event.metadata.at,
        },
        meta(event),
        { _search: '', _phones: [] as string[] },
      );
      break;
    }
    case 'ContactDiscarded':
      return null;
    case 'ContactMerged':
      next = doc && merged(doc, { status: 'merged', mergedInto: event.data.survivorId }, meta(event));
      break;
    case 'ContactUnmerged':
      if (doc) {
        const { status: _merged, mergedInto: _into, ...rest } = doc;
        next = merged(rest as ContactDoc, meta(event));
      }
      break;
    case 'ContactChanged':
      next = doc && merged(applyChanges(doc as Record<string, unknown>, event.data.changes) as ContactDoc, meta(event));
      break;
    case 'ContactMoved':
      next = doc && merged(doc, { customerId: event.data.customerId }, fromCustomer(doc), meta(event));
      break;
    case 'ContactRemoved':
      return null;
    case 'ContactErpLinked':
      next = doc && merged(doc, { erpCode: event.data.erpCode }, meta(event));
      break;
    case 'PersonalDataErased':
      next = doc && merged(erasedFields(doc, event.data.fields), meta(event));
      break;
  }
  // Every case made `next` afresh: its search keys are set in place.
  if (next) {
    next._search = contactSearch(next);
    next._phones = phoneKeys(next.mobile, next.officePhone);
  }
  return next;
}

async function applyContactEvent(event: RecordedEvent & ContactEvent, store: ReadStore): Promise<void> {
  const contacts = store.collection<ContactDoc>(CONTACTS);
  const contactId = event.data.contactId;
  const doc = await contacts.findOne({ _id: contactId });
  const applied = alreadyApplied(doc, event);
  let next = doc;
  if (!applied) {
    const customerId = event.type === 'ContactAdded' || event.type === 'ContactReinstated' ? addedFacts(event).customerId : event.type === 'ContactMoved' ? event.data.customerId : doc?.customerId;
    const customer = customerId ? await store.collection<CustomerDoc>(CUSTOMERS).findOne({ _id: customerId }) : null;
    next = evolveContactDoc(doc, event, customer);
    if (next) await contacts.replaceOne({ _id: contactId }, next, { upsert: true });
    else await contacts.deleteOne({ _id: contactId });
  }
  // Keep the customers' embedded contact summaries in step (idempotent, so it also runs on a replay).
  if (event.type === 'ContactMoved') await embedContact(store, event.data.fromCustomerId, contactId, null, event);
  if (event.type === 'ContactRemoved') await embedContact(store, event.data.customerId, contactId, null, event);
  else if (event.type === 'ContactDiscarded' || event.type === 'ContactMerged') {
    // A merged contact leaves its customer's contacts (and count) until it is unmerged.
    if (doc) await embedContact(store, doc.customerId, contactId, null, event);
  } else if (next) await embedContact(store, next.customerId, contactId, summaryOf(next), event);
}

async function embedContact(
  store: ReadStore,
  customerId: string,
  contactId: string,
  summary: ContactSummary | null,
  event: RecordedEvent,
): Promise<void> {
  const customers = store.collection<CustomerDoc>(CUSTOMERS);
  const customer = await customers.findOne({ _id: customerId });
  // Events touching a customer are applied in log order: one at or before its position is in it already.
  if (!customer || alreadyApplied(customer, event)) return;
  const others = customer.contacts.filter((c) => c.id !== contactId);
  // The most recently changed contacts only: a customer with thousands would otherwise grow with each (O(n²)).
  const contacts = (summary ? [...others, summary] : others).slice(-EMBEDDED_CONTACTS);
  const counted = event.type === 'ContactAdded' || event.type === 'ContactReinstated' || event.type === 'ContactUnmerged' || (event.type === 'ContactMoved' && summary) ? 1 : summary ? 0 : -1;
  const contactCount = Math.max(0, customer.contactCount + counted);
  // Before the era, a change to a contact was a follow-up of its customer (the old rule).
  const followUp = (await inActivitiesEra(store)) ? {} : { _contactBase: later(customer._contactBase, event.metadata.at), lastContactedAt: later(customer.lastContactedAt, event.metadata.at) };
  await customers.updateOne({ _id: customerId }, { $set: merged({ contacts, contactCount, _search: customerSearch(customer, contacts), lastActivityAt: event.metadata.at }, followUp, { _position: Number(event.position) }) });
}
