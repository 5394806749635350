import type { Filter, Sort } from '../infra/readstore/port.ts';

/** A list request after validation: sort field and direction, page size, and the cursor it continues. */
export interface PageRequest {
  sortField: string;
  direction: 1 | -1;
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('The cursor is not valid for this list; start again without it');
    this.name = 'InvalidCursorError';
  }
}

type CursorData = { f: string; d: 1 | -1; v: unknown; id: string };

const readPath = (doc: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), doc);

const encode = (data: CursorData) => Buffer.from(JSON.stringify(data)).toString('base64url');

function decode(cursor: string, request: PageRequest): CursorData {
  try {
    const data = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorData;
    if (data.f !== request.sortField || data.d !== request.direction || typeof data.id !== 'string') throw new Error();
    if (!(data.v === null || ['string', 'number', 'boolean'].includes(typeof data.v))) throw new Error();
    return data;
  } catch {
    throw new InvalidCursorError();
  }
}

/**
 * Keyset paging: sort by the field, then by _id; the cursor holds the last item's sort value and id, so a
 * page never repeats or skips items when records are added meanwhile. A missing value sorts as null, first
 * when ascending and last when descending (MongoDB's order), so optional and custom fields page correctly too.
 */
export function pageQuery(request: PageRequest): { filter: Filter; sort: Sort; limit: number } {
  const sort: Sort = { [request.sortField]: request.direction, _id: request.direction };
  if (!request.cursor) return { filter: {}, sort, limit: request.limit + 1 };
  const { v, id } = decode(request.cursor, request);
  const f = request.sortField;
  const beyond = request.direction === 1 ? '$gt' : '$lt';
  if (f === '_id') return { filter: { _id: { [beyond]: id } }, sort, limit: request.limit + 1 };
  const sameValue = { [f]: v, _id: { [beyond]: id } };
  let filter: Filter;
  if (v === null || v === undefined)
    filter = request.direction === 1 ? { $or: [{ [f]: null, _id: { $gt: id } }, { [f]: { $ne: null } }] } : { [f]: null, _id: { $lt: id } };
  else filter = { $or: [{ [f]: { [beyond]: v } }, sameValue, ...(request.direction === -1 ? [{ [f]: null }] : [])] };
  return { filter, sort, limit: request.limit + 1 };
}

/** Cuts the extra item `pageQuery` asked for into the next cursor. */
export function toPage<T extends { _id: string } & Record<string, unknown>>(docs: T[], request: PageRequest): Page<T> {
  const items = docs.slice(0, request.limit);
  const last = items[items.length - 1];
  const nextCursor =
    docs.length > request.limit && last
      ? encode({ f: request.sortField, d: request.direction, v: readPath(last, request.sortField) ?? null, id: last._id })
      : null;
  return { items, nextCursor };
}
