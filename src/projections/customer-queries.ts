import { escapeRegex } from '../infra/readstore/regex.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { CONTACTS, type ContactDoc, CUSTOMERS, type CustomerDoc, EMBEDDED_CONTACTS } from './customers.ts';
import { type Page, type PageRequest, pageQuery, toPage } from './paging.ts';
import { type DataScope, withinScope } from './scope.ts';

/** Strips the projection's internal fields (every name starting with `_`) from a document before it leaves the read side. */
export function publicView<T extends Record<string, unknown>>(doc: T): Omit<T, '_id' | '_search' | '_position'> {
  return Object.fromEntries(Object.entries(doc).filter(([key]) => !key.startsWith('_'))) as Omit<T, '_id' | '_search' | '_position'>;
}

/** A list request's search: the text, and (for a caller who may not see every searched field) the fields to search. */
export interface SearchRequest {
  q?: string | undefined;
  /** Search only these fields, case-insensitively; unset: the projection's `_search` text over all of them. */
  searchIn?: readonly string[] | undefined;
}

function searchCondition(q: string, searchIn: readonly string[] | undefined): Record<string, unknown> {
  if (!searchIn) return { _search: { $regex: escapeRegex(q.toLowerCase()) } };
  if (searchIn.length === 0) return { _id: { $in: [] } };
  return { $or: searchIn.map((field) => ({ [field]: { $regex: escapeRegex(q), $options: 'i' } })) };
}

export interface CustomerListQuery extends PageRequest {
  q?: string;
  filters: Record<string, unknown>;
}

/** One page of a scoped list: equality filters, an optional text search over `_search`, keyset paging. */
export async function listPage<T extends { _id: string } & Record<string, unknown>>(
  store: ReadStore,
  collection: string,
  scope: DataScope,
  query: PageRequest & SearchRequest & { filters: Record<string, unknown> },
): Promise<Page<T>> {
  const page = pageQuery(query);
  const docs = await store.collection<T>(collection).find(listFilter(scope, query, page.filter), { sort: page.sort, limit: page.limit });
  return toPage(docs, query);
}

/** The scoped filter of a list: its equality filters, its search, and (paging) what lies beyond the cursor. */
function listFilter(scope: DataScope, query: SearchRequest & { filters: Record<string, unknown> }, beyond: Record<string, unknown> = {}): Record<string, unknown> {
  const conditions: Record<string, unknown>[] = [];
  for (const [field, value] of Object.entries(query.filters)) if (value !== undefined) conditions.push({ [field]: value });
  if (query.q) conditions.push(searchCondition(query.q, query.searchIn));
  if (Object.keys(beyond).length) conditions.push(beyond);
  return withinScope(scope, conditions.length === 0 ? {} : conditions.length === 1 ? conditions[0]! : { $and: conditions });
}

/** How many documents a list holds in all its pages (what an export would write). */
export const countList = (store: ReadStore, collection: string, scope: DataScope, query: SearchRequest & { filters: Record<string, unknown> }): Promise<number> =>
  store.collection(collection).countDocuments(listFilter(scope, query));

export const listCustomers = (store: ReadStore, scope: DataScope, query: CustomerListQuery): Promise<Page<CustomerDoc>> =>
  listPage(store, CUSTOMERS, scope, query);

/** One customer in the actor's scope; a customer in the pool is visible to everyone who may view customers. */
export async function getCustomer(store: ReadStore, scope: DataScope, customerId: string): Promise<CustomerDoc | null> {
  const customers = store.collection<CustomerDoc>(CUSTOMERS);
  return (await customers.findOne({ _id: customerId, inPool: true })) ?? customers.findOne(withinScope(scope, { _id: customerId }));
}

/** A customer's most recently changed contacts (at most `limit`); the rest are paged by /contacts?customerId=. */
export async function contactsOfCustomer(store: ReadStore, scope: DataScope, customerId: string, limit = EMBEDDED_CONTACTS): Promise<ContactDoc[]> {
  return store.collection<ContactDoc>(CONTACTS).find(withinScope(scope, { customerId }), { sort: { updatedAt: -1, _id: -1 }, limit });
}

export interface ContactListQuery extends PageRequest {
  q?: string;
  filters: Record<string, unknown>;
}

export const listContacts = (store: ReadStore, scope: DataScope, query: ContactListQuery): Promise<Page<ContactDoc>> =>
  listPage(store, CONTACTS, scope, query);

export async function getContact(store: ReadStore, scope: DataScope, contactId: string): Promise<ContactDoc | null> {
  return store.collection<ContactDoc>(CONTACTS).findOne(withinScope(scope, { _id: contactId }));
}

/** The customer pool (公海): visible to everyone who may view customers, whatever their data scope. */
export const listPool = (store: ReadStore, query: PageRequest & SearchRequest & { filters: Record<string, unknown> }): Promise<Page<CustomerDoc>> =>
  listPage(store, CUSTOMERS, {} as DataScope, { ...query, filters: { ...query.filters, inPool: true } });

/** A lister over any record collection (the shape list routes take). */
export const listRecords =
  <T extends { _id: string } & Record<string, unknown>>(collection: string) =>
  (store: ReadStore, scope: DataScope, query: PageRequest & SearchRequest & { filters: Record<string, unknown> }): Promise<Page<T>> =>
    listPage<T>(store, collection, scope, query);
