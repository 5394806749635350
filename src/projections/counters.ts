import { localDate } from '../domain/company/index.ts';
import { counterId, monthly, totals, twinCollections, twinsOf, yearly } from '../infra/readstore/counter-twins.ts';
import { nextMonth } from '../domain/shared/periods.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { type Collection, type Doc, DuplicateKeyError, type ReadStore, type Twins } from '../infra/readstore/port.ts';

export { monthly, totals, yearly } from '../infra/readstore/counter-twins.ts';

/** A balance counter's collections: its days, months, years and totals. */
export const balanceCollections = (collection: string): string[] => [collection, ...twinCollections(collection, 'balance')];

/** Whether every change of a counter's delta is nought (an event that moved a sum out and back in). */
function allZero(inc: Record<string, number>): boolean {
  for (const field in inc) if (inc[field] !== 0) return false;
  return true;
}

/** The net change of one counter in one event. */
interface Delta {
  readonly collection: string;
  readonly id: string;
  readonly key: Record<string, string>;
  readonly inc: Record<string, number>;
  /** A day counter's twins. */
  twins?: Twins;
  /** A twin's day deltas: it changes when one of them does (so its last position is that of its days). */
  days?: Delta[];
}

/** Adds a change into the list's delta of a counter (made when missing), and returns that delta. */
function addDelta(deltas: Delta[], collection: string, key: Record<string, string>, inc: Record<string, number>, sign: number): Delta {
  const id = counterId(key);
  let delta: Delta | undefined;
  for (const known of deltas)
    if (known.collection === collection && known.id === id) {
      delta = known;
      break;
    }
  if (!delta) deltas.push((delta = { collection, id, key, inc: {} }));
  for (const field in inc) delta.inc[field] = (delta.inc[field] ?? 0) + sign * inc[field]!;
  return delta;
}

/** Adds a day delta's change into the deltas of its twins. */
function countTwins(twins: Delta[], day: Delta, kind: Twins): void {
  for (const { collection, keyOf } of twinsOf(day.collection, kind)) {
    const twin = addDelta(twins, collection, keyOf(day.key), day.inc, 1);
    if (!twin.days) twin.days = [day];
    else if (!twin.days.includes(day)) twin.days.push(day);
  }
}

/**
 * Changes one counter by its delta, unless it has counted this event (or a later one) already; no promise when
 * the store did it at once.
 */
function increment(counters: Collection<Doc & { _position?: number }>, { id, key, inc }: Delta, position: number): Promise<void> | undefined {
  if (counters.incrementCounter) return counters.incrementCounter(id, key, inc, position);
  // One conditional update, atomic on the server: two runners applying the same event (a rolling deploy) count it
  // once, as does a replay after a crash.
  return counters.updateOne({ _id: id, _position: { $lt: position } }, { $inc: inc, $set: { ...key, _position: position } }, { upsert: true }).then(
    () => undefined,
    (error: unknown) => {
      // The counter exists and has this event already: the upsert would have made a second one.
      if (!(error instanceof DuplicateKeyError)) throw error;
    },
  );
}

/**
 * Pre-aggregated report counters: documents keyed by their dimensions (day, stage, owner, …) holding sums kept
 * with `$inc`. A projection computes the net change an event makes per counter; each counter remembers the
 * last event position applied, so a replayed event changes nothing twice. A counter keyed by `day` is also
 * counted by month in its `monthly` twin (the projection lists both collections), and a balance also by year
 * and in total: with each event, or, in a replay's unit of work, summed from the day counters once at its end
 * (`Collection.sumsTwins`), with the same documents.
 */
export class CounterDeltas {
  /** In the order counted. Few per event, so a list. */
  private readonly deltas: Delta[] = [];

  add(collection: string, key: Record<string, string>, inc: Record<string, number>, sign = 1): void {
    const delta = addDelta(this.deltas, collection, key, inc, sign);
    if (key.day !== undefined) delta.twins ??= 'monthly';
  }

  /** A change to a balance (a day-keyed counter of changes), counted also in its `totals` and `yearly` twins. */
  addBalance(collection: string, key: Record<string, string> & { day: string }, inc: Record<string, number>, sign = 1): void {
    addDelta(this.deltas, collection, key, inc, sign).twins = 'balance';
  }

  async apply(store: ReadStore, event: RecordedEvent): Promise<void> {
    const position = Number(event.position);
    let name: string | undefined;
    let counters: Collection<Doc & { _position?: number }> | undefined;
    let twins: Delta[] | undefined;
    for (const delta of this.deltas) {
      if (delta.collection !== name) counters = store.collection((name = delta.collection));
      if (delta.twins && counters!.sumsTwins?.(delta.twins) !== true) countTwins((twins ??= []), delta, delta.twins);
      const counting = allZero(delta.inc) ? undefined : increment(counters!, delta, position);
      if (counting) await counting;
    }
    for (const twin of twins ?? []) {
      if (twin.days!.every((day) => allZero(day.inc))) continue;
      if (twin.collection !== name) counters = store.collection((name = twin.collection));
      const counting = increment(counters!, twin, position);
      if (counting) await counting;
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
