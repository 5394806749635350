import type { Doc, Twins } from './port.ts';

/** The twin of a day-keyed counter collection, keyed by month instead: a report over whole months sums it. */
export const monthly = (collection: string): string => `${collection}_monthly`;
/**
 * The twin of a day-keyed balance counter without its day: every change ever made, so the balance now. The
 * balance at the start of a day is this less the changes on or after it (few, for a recent day).
 */
export const totals = (collection: string): string => `${collection}_total`;
/**
 * The twin of a day-keyed balance counter keyed by year: the changes of whole years, so the balance at a day
 * long ago (the changes since it) reads a document per key and year instead of one per key and month.
 */
export const yearly = (collection: string): string => `${collection}_yearly`;

/** A twin collection of day-keyed counters, with how a day counter's key becomes its twin's. */
export interface Twin {
  readonly collection: string;
  readonly keyOf: (key: Record<string, string>) => Record<string, string>;
}

/** The twins of a collection of day-keyed counters: monthly, and for a balance also yearly and total. */
export const twinsOf = (collection: string, twins: Twins): Twin[] =>
  twins === 'monthly'
    ? [{ collection: monthly(collection), keyOf: byMonth }]
    : [
        { collection: monthly(collection), keyOf: byMonth },
        { collection: yearly(collection), keyOf: byYear },
        { collection: totals(collection), keyOf: withoutDay },
      ];

/** The twin collections of a collection of day-keyed counters. */
export const twinCollections = (collection: string, twins: Twins): string[] => twinsOf(collection, twins).map((twin) => twin.collection);

/** The id of a counter: its key's values, in order. */
export function counterId(key: Record<string, string>): string {
  let id = '';
  for (const field in key) id = id ? `${id}|${key[field]}` : key[field]!;
  // Reading a character makes V8 flatten the rope the concatenations built, here, cheaply: a Map looks a rope up
  // through a slow path (a third more per lookup), and a rebuild looks up millions of counter ids.
  if (id.length > 0) id.charCodeAt(0);
  return id;
}

/** A day-keyed counter's key with its day as the month (YYYY-MM) or year (YYYY) it falls in, the fields in the same order. */
function coarser(key: Record<string, string>, period: 'month' | 'year'): Record<string, string> {
  const into: Record<string, string> = {};
  for (const field in key) into[field === 'day' ? period : field] = field === 'day' ? key.day!.slice(0, period === 'month' ? 7 : 4) : key[field]!;
  return into;
}

const byMonth = (key: Record<string, string>) => coarser(key, 'month');
const byYear = (key: Record<string, string>) => coarser(key, 'year');

/** A balance's key without its day, for its `totals` twin. */
function withoutDay(key: Record<string, string>): Record<string, string> {
  const { day: _day, ...rest } = key;
  return rest;
}

/**
 * Adds a counter's sums (numbers, and objects of them for path fields) into another's, making what it lacks; its
 * `_position` is not a sum.
 */
function addSums(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const field in from) {
    if (field === '_position') continue;
    const value = from[field];
    if (typeof value === 'number') into[field] = ((into[field] as number | undefined) ?? 0) + value;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const nested = into[field];
      addSums((into[field] = nested !== null && typeof nested === 'object' ? nested : {}) as Record<string, unknown>, value as Record<string, unknown>);
    }
  }
}

/**
 * The twins of day counters, summed from them: by twin collection, its documents, each with the key of its
 * days coarsened, the sums of their counted fields, and the last position they counted. A counter's key is its
 * string fields but `_id`, in order; its counted fields are its numbers (and objects of them) but `_position`.
 * The same documents as counting each event into the twins as well (CounterDeltas), where a twin changes
 * whenever one of its days does.
 */
export function summedTwins(collection: string, twins: Twins, days: Iterable<Doc>): Map<string, Doc[]> {
  const ofTwins = twinsOf(collection, twins).map((twin) => ({ ...twin, docs: new Map<string, Doc>() }));
  for (const day of days) {
    const key: Record<string, string> = {};
    for (const field in day) if (field !== '_id' && typeof day[field] === 'string') key[field] = day[field] as string;
    if (key.day === undefined) continue;
    const position = day._position;
    for (const { keyOf, docs } of ofTwins) {
      const twinKey = keyOf(key);
      const id = counterId(twinKey);
      let twin = docs.get(id);
      if (!twin) docs.set(id, (twin = { _id: id, ...twinKey }));
      addSums(twin, day);
      if (typeof position === 'number' && (typeof twin._position !== 'number' || twin._position < position)) twin._position = position;
    }
  }
  return new Map(ofTwins.map(({ collection: name, docs }) => [name, [...docs.values()]]));
}
