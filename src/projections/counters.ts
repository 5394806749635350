import { localDate } from '../domain/company/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { type Doc, DuplicateKeyError, type ReadStore } from '../infra/readstore/port.ts';

/** The twin of a day-keyed counter collection, keyed by month instead: a report over whole months sums it. */
export const monthly = (collection: string): string => `${collection}_monthly`;

/**
 * Pre-aggregated report counters: documents keyed by their dimensions (day, stage, owner, …) holding sums kept
 * with `$inc`. A projection computes the net change an event makes per counter; each counter remembers the
 * last event position applied, so a replayed event changes nothing twice. A counter keyed by `day` is also
 * counted by month in its `monthly` twin (the projection lists both collections).
 */
export class CounterDeltas {
  private readonly deltas = new Map<string, { collection: string; id: string; key: Record<string, string>; inc: Record<string, number> }>();

  add(collection: string, key: Record<string, string>, inc: Record<string, number>, sign = 1): void {
    if (key.day !== undefined) {
      const byMonth: Record<string, string> = {};
      for (const field in key) byMonth[field === 'day' ? 'month' : field] = field === 'day' ? key.day.slice(0, 7) : key[field]!;
      this.count(monthly(collection), byMonth, inc, sign);
    }
    this.count(collection, key, inc, sign);
  }

  private count(collection: string, key: Record<string, string>, inc: Record<string, number>, sign: number): void {
    let id = '';
    for (const field in key) id = id ? `${id}|${key[field]}` : key[field]!;
    const entryKey = `${collection}\u0000${id}`;
    let entry = this.deltas.get(entryKey);
    if (!entry) this.deltas.set(entryKey, (entry = { collection, id, key, inc: {} }));
    for (const field in inc) entry.inc[field] = (entry.inc[field] ?? 0) + sign * inc[field]!;
  }

  async apply(store: ReadStore, event: RecordedEvent): Promise<void> {
    const position = Number(event.position);
    for (const { collection, id: _id, key, inc } of this.deltas.values()) {
      if (Object.values(inc).every((v) => v === 0)) continue;
      const counters = store.collection<Doc & { _position?: number }>(collection);
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

/** The day (YYYY-MM-DD) an instant falls on in the company's time zone: counters bucket by the company's days. */
export const dayOf = (iso: string, timeZone: string): string => localDate(iso, timeZone);
/** The month (YYYY-MM) an instant falls in, in the company's time zone. */
export const monthOf = (iso: string, timeZone: string): string => localDate(iso, timeZone).slice(0, 7);

/**
 * A range of days [from, to) as the whole months inside it (summed from the monthly twins) and the days at its
 * edges (from the daily counters): a year's report reads twelve month counters per key, not 365 day ones.
 */
export function splitByMonth(from: string, to: string): { months?: { from: string; to: string }; days: { from: string; to: string }[] } {
  const nextMonth = (month: string) => {
    const [year, number] = month.split('-').map(Number) as [number, number];
    return number === 12 ? `${year + 1}-01` : `${year}-${String(number + 1).padStart(2, '0')}`;
  };
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
  // $group names cannot hold dots: the sums are named by position and named back below.
  const sums = Object.fromEntries(fields.map((field, i) => [`f${i}`, { $sum: `$${field}` }]));
  const grouped = (periodField: string | null) => ({ $group: { _id: { p: periodField === null ? null : `$${periodField}`, ...Object.fromEntries(by.keys.map((key) => [key, `$${key}`])) }, ...sums } });
  const daily = (d: { from: string; to: string }) => store.collection(collection).aggregate<Record<string, unknown>>([{ $match: { ...match, day: { $gte: d.from, $lt: d.to } } }, grouped(by.period ? 'day' : null)]);
  const { months, days } = by.period === 'day' ? { months: undefined, days: range.from < range.to ? [range] : [] } : splitByMonth(range.from, range.to);
  const parts = await Promise.all([
    ...(months ? [store.collection(monthly(collection)).aggregate<Record<string, unknown>>([{ $match: { ...match, month: { $gte: months.from, $lt: months.to } } }, grouped(by.period ? 'month' : null)])] : []),
    ...days.map(daily),
  ]);
  const merged = new Map<string, CounterSum>();
  for (const row of parts.flat()) {
    const { p, ...key } = row._id as { p: string | null } & Record<string, string>;
    const period = p === null ? null : by.period === 'month' ? p.slice(0, 7) : p;
    const id = JSON.stringify([period, ...by.keys.map((k) => key[k] ?? null)]);
    let into = merged.get(id);
    if (!into) merged.set(id, (into = { period, key, sums: Object.fromEntries(fields.map((field) => [field, 0])) }));
    fields.forEach((field, i) => (into.sums[field]! += (row[`f${i}`] as number | undefined) ?? 0));
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
