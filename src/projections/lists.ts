import { escapeRegex } from '../infra/readstore/regex.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { type Page, type PageRequest, pageQuery, toPage } from './paging.ts';
import { type DataScope, withinScope } from '../access/scope.ts';

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

/** What a list shows, whatever page: its equality filters and its search. */
export type ListRequest = SearchRequest & { filters: Record<string, unknown> };

function searchCondition(q: string, searchIn: readonly string[] | undefined): Record<string, unknown> {
  if (!searchIn) return { _search: { $regex: escapeRegex(q.toLowerCase()) } };
  if (searchIn.length === 0) return { _id: { $in: [] } };
  return { $or: searchIn.map((field) => ({ [field]: { $regex: escapeRegex(q), $options: 'i' } })) };
}

/** The scoped filter of a list: its equality filters, its search, and (paging) what lies beyond the cursor. */
function listFilter(scope: DataScope, query: ListRequest, beyond: Record<string, unknown> = {}): Record<string, unknown> {
  const conditions: Record<string, unknown>[] = [];
  for (const [field, value] of Object.entries(query.filters)) if (value !== undefined) conditions.push({ [field]: value });
  if (query.q) conditions.push(searchCondition(query.q, query.searchIn));
  if (Object.keys(beyond).length) conditions.push(beyond);
  return withinScope(scope, conditions.length === 0 ? {} : conditions.length === 1 ? conditions[0]! : { $and: conditions });
}

/** One page of a scoped list: equality filters, an optional text search over `_search`, keyset paging. */
export async function listPage<T extends { _id: string } & Record<string, unknown>>(
  store: ReadStore,
  collection: string,
  scope: DataScope,
  query: PageRequest & ListRequest,
): Promise<Page<T>> {
  const page = pageQuery(query);
  const docs = await store.collection<T>(collection).find(listFilter(scope, query, page.filter), { sort: page.sort, limit: page.limit });
  return toPage(docs, query);
}

/** How many documents a list holds in all its pages (what an export would write). */
export const countList = (store: ReadStore, collection: string, scope: DataScope, query: ListRequest): Promise<number> =>
  store.collection(collection).countDocuments(listFilter(scope, query));

/**
 * Every document of a list in its order, batch by batch (an export): one read through the store, not a query
 * per page, so the cost grows with the list once, not with the list times the number of pages.
 */
export const listInBatches = <T extends { _id: string } & Record<string, unknown>>(
  store: ReadStore,
  collection: string,
  scope: DataScope,
  query: Pick<PageRequest, 'sortField' | 'direction'> & ListRequest,
  batchSize: number,
): AsyncIterable<T[]> =>
  store.collection<T>(collection).findInBatches(listFilter(scope, query), { sort: { [query.sortField]: query.direction, _id: query.direction }, batchSize });
