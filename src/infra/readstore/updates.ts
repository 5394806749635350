import { MINGO_OPTIONS } from './mingo-options.ts';
import { Query, update as applyUpdate } from 'mingo';
import { randomUUID } from 'node:crypto';
import { fastMatch, fastUpdate } from './fast-path.ts';
import { freezeOwned, frozenCopy } from '../frozen.ts';
import type { Doc, Filter, UpdateOperators } from './port.ts';

/** What a filter or an upsert can take as a field's value as it is. */
export function isPlainValue(value: unknown): value is string | number | boolean | null {
  if (value === null) return true;
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean';
}

/**
 * A (frozen) document after MongoDB update operators: a new object sharing every part that did not change, or
 * undefined when nothing changed. `doc` is not touched.
 */
export function updatedDoc<T extends Doc>(doc: T, update: UpdateOperators): T | undefined {
  const { $setOnInsert: _ignored, ...operators } = update;
  let next = { ...doc };
  let modified = fastUpdate(next, operators);
  if (modified === undefined) {
    // mingo changes nested parts in place: it gets a deep, writable copy.
    next = structuredClone(doc);
    modified = applyUpdate(next, operators as Parameters<typeof applyUpdate>[1]).length > 0;
  }
  if (next._id !== doc._id) throw new Error(`Updating the _id of ${doc._id} is not allowed`);
  return modified ? freezeOwned(next) : undefined;
}

/**
 * The (frozen) document an update with `upsert` inserts when nothing matches: the filter's plain equalities,
 * then `$setOnInsert`, then the update; a new `_id` when the filter names none.
 */
export function upsertedDoc<T extends Doc>(filter: Filter, update: UpdateOperators): T {
  const base: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (!key.startsWith('$') && !key.includes('.') && (isPlainValue(value) || Array.isArray(value))) base[key] = value;
  }
  base._id = base._id === undefined ? randomUUID() : String(base._id);
  const doc = base as unknown as T;
  const { $setOnInsert, ...operators } = update;
  if ($setOnInsert && fastUpdate(doc, { $set: $setOnInsert }) === undefined) applyUpdate(doc, { $set: $setOnInsert });
  if (fastUpdate(doc, operators) === undefined) applyUpdate(doc, operators as Parameters<typeof applyUpdate>[1]);
  return frozenCopy(doc);
}

/** The document id a filter names and nothing else (`{_id: 'x'}`), if it is one: such a filter reads one document by its key. */
export const onlyId = (filter: Filter): string | undefined => {
  for (const key in filter) if (key !== '_id') return undefined;
  const id = filter._id;
  return isPlainValue(id) && id !== null ? String(id) : undefined;
};

/** The plain `_id` a filter names, alone or with other conditions (`{_id: 'x', _position: {$lt: 9}}`). */
export const idNamed = (filter: Filter): string | undefined => {
  const id = filter._id;
  return isPlainValue(id) && id !== null ? String(id) : undefined;
};

/** Whether a document matches a filter: the fast path where it answers, else mingo. */
export const matchesFilter = (doc: Doc, filter: Filter): boolean => fastMatch(doc, filter) ?? new Query(filter, MINGO_OPTIONS).test(doc);
