import { localDate } from '../domain/company/index.ts';
import { nextMonth } from '../domain/shared/periods.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { type Doc, DuplicateKeyError, type ReadStore } from '../infra/readstore/port.ts';

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

/** A balance counter's collections: its days, months, years and totals. */
export const balanceCollections = (collection: string): string[] => [collection, monthly(collection), yearly(collection), totals(collection)];

/**
 * Pre-aggregated report counters: documents keyed by their dimensions (day, stage, owner, …) holding sums kept
 * with `$inc`. A projection computes the net change an event makes per counter; each counter remembers the
 * last event position applied, so a replayed event changes nothing twice. A counter keyed by `day` is also
 * counted by month in its `monthly` twin (the projection lists both collections).
 */
/** A day-keyed counter's key with its day as the month (YYYY-MM) or year (YYYY) it falls in, the fields in the same order. */
function coarser(key: Record<string, string>, period: 'month' | 'year'): Record<string, string> {
  const into: Record<string, string> = {};
  for (const field in key) into[field === 'day' ? period : field] = field === 'day' ? key.day!.slice(0, period === 'month' ? 7 : 4) : key[field]!;
  return into;
}

/** Whether every change of a counter's delta is nought (an event that moved a sum out and back in). */
function allZero(inc: Record<string, number>): boolean {
  for (const field in inc) if (inc[field] !== 0) return false;
  return true;
}

export class CounterDeltas {
  /** By collection, then by counter id. */
  private readonly deltas = new Map<string, Map<string, { key: Record<string, string>; inc: Record<string, number> }>>();

  add(collection: string, key: Record<string, string>, inc: Record<string, number>, sign = 1): void {
    if (key.day !== undefined) this.count(monthly(collection), coarser(key, 'month'), inc, sign);
    this.count(collection, key, inc, sign);
  }

  /** A change to a balance (a day-keyed counter of changes), counted also in its `totals` twin. */
  addBalance(collection: string, key: Record<string, string> & { day: string }, inc: Record<string, number>, sign = 1): void {
    this.add(collection, key, inc, sign);
    const { day: _day, ...rest } = key;
    this.count(totals(collection), rest, inc, sign);
    this.count(yearly(collection), coarser(key, 'year'), inc, sign);
  }

  private count(collection: string, key: Record<string, string>, inc: Record<string, number>, sign: number): void {
    let id = '';
    for (const field in key) id = id ? `${id}|${key[field]}` : key[field]!;
    let ofCollection = this.deltas.get(collection);
    if (!ofCollection) this.deltas.set(collection, (ofCollection = new Map()));
    let entry = ofCollection.get(id);
    if (!entry) ofCollection.set(id, (entry = { key, inc: {} }));
    for (const field in inc) entry.inc[field] = (entry.inc[field] ?? 0) + sign * inc[field]!;
  }

  async apply(store: ReadStore, event: RecordedEvent): Promise<void> {
    const position = Number(event.position);
    for (const [collection, entries] of this.deltas) {
      const counters = store.collection<Doc & { _position?: number }>(collection);
      for (const [_id, { key, inc }] of entries) {
        if (allZero(inc)) continue;
        if (counters.incrementCounter) {
          const counting = counters.incrementCounter(_id, key, inc, position);
          if (counting) await counting;
          continue;
        }
        try {
          // One conditional update, atomic on the server: two runners applying the same event (a rolling deploy)
          // count it once, as does a replay after a crash.
          await counters.updateOne({ _id, _position: { $lt: position } }, { $inc: inc, $set: { ...key, _position: position } }, { upsert: true });
        } catch (error) {
          // The counter exists and has this event already: the upsert would have made a second one.
          if (!(error instanceof DuplicateKeyError)) throw error;
        }
      }
    }
  }
}

/** The day (YYYY-MM-DD) an instant falls on in the company's time zone: counters bucket by the company's days. */
export const dayOf = (iso: string, timeZone: string): string => localDate(iso, timeZone);
/** The month (YYYY-MM) an instant falls in, in the company's time zone. */
export const monthOf = (iso: string, timeZone: string): string => localDate(iso, timeZone).slice(0, 7);

/**
 * A range of days [from, to) as the whole months inside it (summed from the monthly twins) and the days at its
 * edges (from the daily counters): a year's report reads twelve month counters per key, not 365 day ones.
 */
export function splitByMonth(from: string, to: string): { months?: { from: string; to: string }; days: { from: string; to: string }[] } {
  const firstWhole = from.endsWith('-01') ? from.slice(0, 7) : nextMonth(from.slice(0, 7));
  const endWhole = to.slice(0, 7);
  if (firstWhole >= endWhole) return { days: from < to ? [{ from, to }] : [] };
  const days = [
    ...(from < `${firstWhole}-01` ? [{ from, to: `${firstWhole}-01` }] : []),
    ...(`${endWhole}-01` < to ? [{ from: `${endWhole}-01`, to }] : []),
  ];
  return { months: { from: firstWhole, to: endWhole }, days };
}

/**
 * The counter documents that together cover [from, to): the monthly twin's for the whole months, the daily ones
 * for the days at the edges. For counters whose fields are not known in advance (a document per day and person
 * holding a field per measure), which the caller sums itself.
 */
export async function counterDocs<D extends Doc>(store: ReadStore, collection: string, range: { from: string; to: string }, match: Record<string, unknown>): Promise<D[]> {
  const { months, days } = splitByMonth(range.from, range.to);
  const parts = await Promise.all([
    ...(months ? [store.collection<D>(monthly(collection)).find({ ...match, month: { $gte: months.from, $lt: months.to } } as never)] : []),
    ...days.map((d) => store.collection<D>(collection).find({ ...match, day: { $gte: d.from, $lt: d.to } } as never)),
  ]);
  return parts.flat();
}

/** A sum of counters: the period it counts for (a day, a month, or null for the whole range), its key, its sums. */
export interface CounterSum {
  period: string | null;
  key: Record<string, string>;
  sums: Record<string, number>;
}

/**
 * Sums day-keyed counters over [from, to) by period (each day, each month, or the whole range) and key fields:
 * whole months from the monthly twin, the other days from the daily counters, merged. Fields may be paths
 * (`count.newCustomers`); a month's period needs whole months only from the twin, its edge days are dated.
 */
export async function sumCountersBy(
  store: ReadStore,
  collection: string,
  range: { from: string; to: string },
  match: Record<string, unknown>,
  by: { period: 'day' | 'month' | null; keys: readonly string[] },
  fields: readonly string[],
): Promise<CounterSum[]> {
  const daily = (d: { from: string; to: string }) => store.collection(collection).aggregate<Record<string, unknown>>([{ $match: { ...match, day: { $gte: d.from, $lt: d.to } } }, sumStage(by.period ? 'day' : null, by.keys, fields)]);
  const { months, days } = by.period === 'day' ? { months: undefined, days: range.from < range.to ? [range] : [] } : splitByMonth(range.from, range.to);
  const parts = await Promise.all([
    ...(months ? [store.collection(monthly(collection)).aggregate<Record<string, unknown>>([{ $match: { ...match, month: { $gte: months.from, $lt: months.to } } }, sumStage(by.period ? 'month' : null, by.keys, fields)])] : []),
    ...days.map(daily),
  ]);
  return mergeSums(parts, by, fields);
}

/**
 * Sums the changes of a balance (counted with addBalance) on or after `day`, to the end of time, by key fields:
 * the rest of its month day by day, the rest of its year month by month, the later years from the yearly twin.
 * The balance at the start of `day` is the totals less these.
 */
export async function sumChangesSince(store: ReadStore, collection: string, day: string, match: Record<string, unknown>, keys: readonly string[], fields: readonly string[]): Promise<CounterSum[]> {
  const month = day.slice(0, 7);
  const firstWholeMonth = day.endsWith('-01') ? month : nextMonth(month);
  const firstWholeYear = firstWholeMonth.endsWith('-01') ? firstWholeMonth.slice(0, 4) : String(Number(month.slice(0, 4)) + 1);
  const read = (name: string, range: Record<string, unknown>) => store.collection(name).aggregate<Record<string, unknown>>([{ $match: { ...match, ...range } }, sumStage(null, keys, fields)]);
  const parts = await Promise.all([
    ...(firstWholeMonth !== month ? [read(collection, { day: { $gte: day, $lt: `${firstWholeMonth}-01` } })] : []),
    ...(firstWholeMonth < `${firstWholeYear}-01` ? [read(monthly(collection), { month: { $gte: firstWholeMonth, $lt: `${firstWholeYear}-01` } })] : []),
    read(yearly(collection), { year: { $gte: firstWholeYear } }),
  ]);
  return mergeSums(parts, { period: null, keys }, fields);
}

/** Sums a balance's `totals` twin (the balance now) by key fields. */
export async function sumTotals(store: ReadStore, collection: string, match: Record<string, unknown>, keys: readonly string[], fields: readonly string[]): Promise<CounterSum[]> {
  const rows = await store.collection(totals(collection)).aggregate<Record<string, unknown>>([{ $match: match }, sumStage(null, keys, fields)]);
  return mergeSums([rows], { period: null, keys }, fields);
}

/** The $group of counter sums: by period field (or none) and key fields; the sums named by position ($group names cannot hold the dots of paths). */
const sumStage = (periodField: string | null, keys: readonly string[], fields: readonly string[]) => ({
  $group: { _id: { p: periodField === null ? null : `$${periodField}`, ...Object.fromEntries(keys.map((key) => [key, `$${key}`])) }, ...Object.fromEntries(fields.map((field, i) => [`f${i}`, { $sum: `$${field}` }])) },
});

/** Grouped rows of several reads (whole months, edge days) merged into one sum per period and key. */
function mergeSums(parts: readonly Record<string, unknown>[][], by: { period: 'day' | 'month' | null; keys: readonly string[] }, fields: readonly string[]): CounterSum[] {
  const merged = new Map<string, CounterSum>();
  for (const part of parts)
    for (const row of part) {
      const key = row._id as Record<string, string | null>;
      const period = key.p === null || key.p === undefined ? null : by.period === 'month' ? key.p.slice(0, 7) : key.p;
      let id = period ?? '';
      for (const field of by.keys) id += `\u0000${key[field] ?? ''}`;
      let into = merged.get(id);
      if (!into) {
        const named: Record<string, string> = {};
        for (const field of by.keys) if (key[field] !== undefined && key[field] !== null) named[field] = key[field];
        merged.set(id, (into = { period, key: named, sums: {} }));
        for (const field of fields) into.sums[field] = 0;
      }
      for (let i = 0; i < fields.length; i++) into.sums[fields[i]!]! += (row[`f${i}`] as number | undefined) ?? 0;
    }
  return [...merged.values()];
}

/**
 * Sums day-keyed counters over [from, to) grouped by one field (or all together with `null`): whole months from
 * the monthly twin, the edges from the daily counters, merged.
 */
export async function sumCounters<R extends Record<string, unknown>>(
  store: ReadStore,
  collection: string,
  range: { from: string; to: string },
  match: Record<string, unknown>,
  groupBy: string | null,
  fields: readonly string[],
): Promise<(R & { _id: string | null })[]> {
  const rows = await sumCountersBy(store, collection, range, match, { period: null, keys: groupBy === null ? [] : [groupBy] }, fields);
  return rows.map((row) => ({ _id: groupBy === null ? null : (row.key[groupBy] ?? null), ...row.sums })) as (R & { _id: string | null })[];
}
