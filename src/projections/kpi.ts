import { nextDay } from '../domain/company/index.ts';
import { lastYearOf, type Period, previousPeriod, shiftDays, shiftMonths } from '../domain/shared/periods.ts';
import type { Module } from '../domain/role/index.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { type CounterSum, sumChangesSince, sumCountersBy, sumTotals } from './counters.ts';
import { EXPENSES_BY } from './expenses.ts';
import { LEAD_FLOW } from './leads.ts';
import { CLOSES, LOSSES, PIPELINE } from './opportunities.ts';
import { OVERDUE, RECEIVABLES } from './orders.ts';
import type { DepartmentDoc, EmployeeDoc, OrgCollections } from './org.ts';
import { SERVICE_BY_ENGINEER } from './service.ts';
import { CAMPAIGN_DAILY } from './campaign-results.ts';
import { TEAM_DAILY } from './team.ts';

/** The KPIs, as clients name them, with the module a caller must be allowed to view to see each. */
export const KPI_METRICS = {
  newCustomers: 'customers',
  leadsCreated: 'leads',
  leadsConverted: 'leads',
  opportunitiesCreated: 'opportunities',
  opportunitiesWon: 'opportunities',
  opportunitiesLost: 'opportunities',
  winRate: 'opportunities',
  avgCycleDays: 'opportunities',
  pipelineAmount: 'opportunities',
  orderAmount: 'orders',
  collections: 'orders',
  receivables: 'orders',
  overdue: 'orders',
  activities: 'activities',
  expenses: 'expenses',
  slaMetPercent: 'tickets',
  satisfaction: 'tickets',
  campaignRoi: 'campaigns',
} as const satisfies Record<string, Module>;
export type KpiMetric = keyof typeof KPI_METRICS;
export const KPI_METRIC_KEYS = Object.keys(KPI_METRICS) as KpiMetric[];
export type KpiGrouping = 'day' | 'month' | 'owner' | 'department';

/** What the counters hold for one salesperson in one period, before any rate is worked out. */
interface Raw {
  n: Record<string, number>;
  by: Record<string, Record<string, number>>;
}
const emptyRaw = (): Raw => ({ n: {}, by: {} });
const add = (raw: Raw, measure: string, value: number) => (raw.n[measure] = (raw.n[measure] ?? 0) + value);
const addBy = (raw: Raw, breakdown: string, key: string, value: number) => {
  const into = (raw.by[breakdown] ??= {});
  into[key] = (into[key] ?? 0) + value;
};

/**
 * A counter collection the KPIs are read from: which metrics need it, the field naming the salesperson, the key
 * fields and sums it is read by, and how a sum counts into the raw numbers. A balance's counters hold changes:
 * its value at a moment is the sum of every change before it.
 */
interface Source {
  collection: string;
  metrics: readonly KpiMetric[];
  person: 'ownerId' | 'employeeId';
  keys?: readonly string[];
  /** Only the counters in the report's currency. */
  inCurrency?: boolean;
  /** Read for a breakdown only, which is given for the period asked about, not for the ones it is compared with. */
  breakdownOnly?: boolean;
  balance?: boolean;
  fields(currency: string): readonly string[];
  count(raw: Raw, sum: CounterSum, currency: string): void;
}

const SOURCES: readonly Source[] = [
  {
    collection: TEAM_DAILY,
    metrics: ['newCustomers', 'opportunitiesCreated', 'orderAmount', 'collections', 'activities'],
    person: 'ownerId',
    fields: (currency) => ['count.newCustomers', 'count.opportunitiesCreated', 'count.activities', `amount.orders:${currency}`, `amount.collections:${currency}`],
    count(raw, { sums }, currency) {
      add(raw, 'newCustomers', sums['count.newCustomers']!);
      add(raw, 'opportunitiesCreated', sums['count.opportunitiesCreated']!);
      add(raw, 'activities', sums['count.activities']!);
      add(raw, 'orderAmount', sums[`amount.orders:${currency}`]!);
      add(raw, 'collections', sums[`amount.collections:${currency}`]!);
    },
  },
  {
    collection: LEAD_FLOW,
    metrics: ['leadsCreated', 'leadsConverted'],
    person: 'ownerId',
    keys: ['source'],
    fields: () => ['created', 'converted'],
    count(raw, { key, sums }) {
      add(raw, 'leadsCreated', sums.created!);
      add(raw, 'leadsConverted', sums.converted!);
      if (sums.created) addBy(raw, 'leadsCreated', key.source ?? '', sums.created);
      if (sums.converted) addBy(raw, 'leadsConverted', key.source ?? '', sums.converted);
    },
  },
  {
    collection: CLOSES,
    metrics: ['opportunitiesWon', 'opportunitiesLost', 'winRate', 'avgCycleDays'],
    person: 'ownerId',
    fields: () => ['won', 'lost', 'wonCycleMs'],
    count(raw, { sums }) {
      add(raw, 'won', sums.won!);
      add(raw, 'lost', sums.lost!);
      add(raw, 'wonCycleMs', sums.wonCycleMs!);
    },
  },
  {
    collection: LOSSES,
    metrics: ['opportunitiesLost'],
    person: 'ownerId',
    breakdownOnly: true,
    keys: ['competitor', 'reason'],
    fields: () => ['lost'],
    count(raw, { key, sums }) {
      if (!sums.lost) return;
      addBy(raw, 'lostByReason', key.reason ?? '', sums.lost);
      if (key.competitor) addBy(raw, 'lostByCompetitor', key.competitor, sums.lost);
    },
  },
  {
    collection: PIPELINE,
    metrics: ['pipelineAmount'],
    person: 'ownerId',
    keys: ['stage'],
    inCurrency: true,
    balance: true,
    fields: () => ['count', 'amount'],
    count(raw, { key, sums }) {
      add(raw, 'pipelineAmount', sums.amount!);
      addBy(raw, 'pipelineCount', key.stage ?? '', sums.count!);
      addBy(raw, 'pipelineAmount', key.stage ?? '', sums.amount!);
    },
  },
  {
    collection: RECEIVABLES,
    metrics: ['receivables'],
    person: 'ownerId',
    inCurrency: true,
    balance: true,
    fields: () => ['receivable'],
    count: (raw, { sums }) => add(raw, 'receivables', sums.receivable!),
  },
  {
    collection: OVERDUE,
    metrics: ['overdue'],
    person: 'ownerId',
    inCurrency: true,
    balance: true,
    fields: () => ['overdue'],
    count: (raw, { sums }) => add(raw, 'overdue', sums.overdue!),
  },
  {
    collection: EXPENSES_BY.employee,
    metrics: ['expenses'],
    person: 'employeeId',
    inCurrency: true,
    fields: () => ['approved'],
    count: (raw, { sums }) => add(raw, 'expenses', sums.approved!),
  },
  {
    collection: SERVICE_BY_ENGINEER,
    metrics: ['slaMetPercent', 'satisfaction'],
    person: 'employeeId',
    fields: () => ['firstResponses', 'firstResponsesMet', 'resolutions', 'resolutionsMet', 'surveys', 'scoreSum'],
    count(raw, { sums }) {
      add(raw, 'slaTargets', sums.firstResponses! + sums.resolutions!);
      add(raw, 'slaMet', sums.firstResponsesMet! + sums.resolutionsMet!);
      add(raw, 'surveys', sums.surveys!);
      add(raw, 'scoreSum', sums.scoreSum!);
    },
  },
  {
    // Campaigns: won revenue of opportunities citing one (their owners') and costs entered on one (its owner's).
    collection: CAMPAIGN_DAILY,
    metrics: ['campaignRoi'],
    person: 'ownerId',
    inCurrency: true,
    fields: () => ['won', 'cost'],
    count(raw, { sums }) {
      add(raw, 'campaignWon', sums.won!);
      add(raw, 'campaignCost', sums.cost!);
    },
  },
  {
    // …and expense claims naming a campaign, approved or paid (the claimant's).
    collection: EXPENSES_BY.campaign,
    metrics: ['campaignRoi'],
    person: 'employeeId',
    inCurrency: true,
    keys: ['campaignId'],
    fields: () => ['approved'],
    count(raw, { key, sums }) {
      if (key.campaignId) add(raw, 'campaignCost', sums.approved!);
    },
  },
];

/** The read models the KPI report reads (X-Min-Position waits for these). */
export const KPI_READS: readonly string[] = SOURCES.map((source) => source.collection);

type Money = { amount: number; currency: string };
type Value = number | Money | null;
const round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;
const ratio = (part: number | undefined, whole: number | undefined, scale: number, places: number) => (whole ? round(((part ?? 0) * scale) / whole, places) : null);

/** How a metric's value is worked out of the raw numbers, and what it breaks down into. */
function valueOf(metric: KpiMetric, raw: Raw, currency: string): Value {
  const n = raw.n;
  const money = (amount: number | undefined): Money => ({ amount: amount ?? 0, currency });
  switch (metric) {
    case 'opportunitiesWon': return n.won ?? 0;
    case 'opportunitiesLost': return n.lost ?? 0;
    case 'winRate': return ratio(n.won, (n.won ?? 0) + (n.lost ?? 0), 1, 4);
    case 'avgCycleDays': return ratio(n.wonCycleMs, n.won, 1 / 86_400_000, 2);
    case 'slaMetPercent': return ratio(n.slaMet, n.slaTargets, 100, 1);
    case 'satisfaction': return ratio(n.scoreSum, n.surveys, 1, 2);
    // (won − cost) ÷ cost: null without a cost.
    case 'campaignRoi': return ratio((n.campaignWon ?? 0) - (n.campaignCost ?? 0), n.campaignCost, 1, 4);
    case 'pipelineAmount': case 'orderAmount': case 'collections': case 'receivables': case 'overdue': case 'expenses':
      return money(n[metric]);
    default: return n[metric] ?? 0;
  }
}

function breakdownOf(metric: KpiMetric, raw: Raw, currency: string): Record<string, unknown> | undefined {
  const nonZero = (counts: Record<string, number> | undefined) => Object.fromEntries(Object.entries(counts ?? {}).filter(([, count]) => count !== 0));
  switch (metric) {
    case 'leadsCreated': case 'leadsConverted': return { bySource: nonZero(raw.by[metric]) };
    case 'opportunitiesLost': return { byReason: nonZero(raw.by.lostByReason), byCompetitor: nonZero(raw.by.lostByCompetitor) };
    case 'pipelineAmount': {
      const counts = nonZero(raw.by.pipelineCount);
      return { byStage: Object.fromEntries(Object.keys(counts).map((stage) => [stage, { count: counts[stage], amount: { amount: raw.by.pipelineAmount?.[stage] ?? 0, currency } }])) };
    }
    default: return undefined;
  }
}

const amountOf = (value: Value): number | null => (value === null ? null : typeof value === 'number' ? value : value.amount);

/** One metric of one group: its value, the previous period's and last year's, and the changes from them. */
export interface KpiValue {
  value: Value;
  previous: Value;
  lastYear: Value;
  delta: { previous: Value; lastYear: Value };
  /** The relative change ((value − then) / then), null where then was zero or unknown. */
  change: { previous: number | null; lastYear: number | null };
  breakdown?: Record<string, unknown>;
}

function compare(metric: KpiMetric, now: Raw, previous: Raw, lastYear: Raw, currency: string): KpiValue {
  const value = valueOf(metric, now, currency);
  const then = { previous: valueOf(metric, previous, currency), lastYear: valueOf(metric, lastYear, currency) };
  const places = metric === 'winRate' ? 4 : 2;
  const delta = (before: Value): Value => {
    const [a, b] = [amountOf(value), amountOf(before)];
    if (a === null || b === null) return null;
    return typeof value === 'object' && value !== null ? { amount: a - b, currency } : round(a - b, places);
  };
  const change = (before: Value): number | null => {
    const [a, b] = [amountOf(value), amountOf(before)];
    return a === null || b === null || b === 0 ? null : round((a - b) / Math.abs(b), 4);
  };
  const breakdown = breakdownOf(metric, now, currency);
  return { value, ...then, delta: { previous: delta(then.previous), lastYear: delta(then.lastYear) }, change: { previous: change(then.previous), lastYear: change(then.lastYear) }, ...(breakdown ? { breakdown } : {}) };
}

// ---- Periods ----

/** The days or months of a period, in order (a month grouping takes whole months). */
function bucketsOf({ from, to }: Period, grouping: 'day' | 'month'): string[] {
  const buckets: string[] = [];
  for (let day = from; day < to; day = grouping === 'day' ? nextDay(day) : shiftMonths(day, 1)) buckets.push(grouping === 'day' ? day : day.slice(0, 7));
  return buckets;
}

// ---- The report ----

export interface KpiQuery extends Period {
  groupBy?: KpiGrouping | undefined;
  metrics: readonly KpiMetric[];
  currency: string;
  /** The day after today in the company's time zone: balances are taken no later than now. */
  tomorrow: string;
}

export interface KpiGroup {
  key: string | null;
  name: string | null;
  metrics: Record<string, KpiValue | null>;
}
export interface KpiReport {
  from: string;
  to: string;
  groupBy: KpiGrouping | null;
  currency: string;
  periods: { previous: Period; lastYear: Period };
  totals: { metrics: Record<string, KpiValue | null> };
  groups: KpiGroup[];
}

/** Raw numbers per bucket (a day, a month, or '' for the whole period) and salesperson. */
class Cells {
  readonly map = new Map<string, Map<string, Raw>>();
  of(bucket: string, person: string): Raw {
    let people = this.map.get(bucket);
    if (!people) this.map.set(bucket, (people = new Map()));
    let raw = people.get(person);
    if (!raw) people.set(person, (raw = emptyRaw()));
    return raw;
  }
  people(): Set<string> {
    return new Set([...this.map.values()].flatMap((people) => [...people.keys()]));
  }
}

/** Adds one raw into another (rolling salespeople up into a department, or a whole period). */
function merge(into: Raw, from: Raw, sign: 1 | -1 = 1): Raw {
  for (const measure in from.n) add(into, measure, sign * from.n[measure]!);
  for (const breakdown in from.by) for (const key in from.by[breakdown]) addBy(into, breakdown, key, sign * from.by[breakdown]![key]!);
  return into;
}

interface Reader {
  store: ReadStore;
  owners: string[] | null;
  currency: string;
  sources: readonly Source[];
  /** Whether the numbers are wanted per salesperson (else the scope's together: fewer sums to read). */
  byPerson: boolean;
  /** Each balance's totals, read once per report however many moments it is taken at. */
  totals: Map<string, Promise<CounterSum[]>>;
}

const keysOf = (reader: Reader, source: Source) => [...(reader.byPerson ? [source.person] : []), ...(source.keys ?? [])];
const personOf = (reader: Reader, source: Source, sum: CounterSum) => (reader.byPerson ? (sum.key[source.person] ?? '') : '');
const matchOf = (reader: Reader, source: Source) => ({ ...(reader.owners === null ? {} : { [source.person]: { $in: reader.owners } }), ...(source.inCurrency ? { currency: reader.currency } : {}) });

/** One source's sums counted into cells, in the bucket each falls in ('' for none); sign -1 takes them away. */
function countInto(reader: Reader, source: Source, rows: readonly CounterSum[], into: Cells, sign: 1 | -1 = 1, bucket?: string): void {
  for (const row of rows) source.count(into.of(bucket ?? row.period ?? '', personOf(reader, source, row)), sign === 1 ? row : negated(row), reader.currency);
}
const negated = (sum: CounterSum): CounterSum => ({ ...sum, sums: Object.fromEntries(Object.entries(sum.sums).map(([field, value]) => [field, -value])) });
/** A source's counters summed over a range, by day or month (or the whole of it) and the keys it is read by. */
const sumsOf = (reader: Reader, source: Source, range: Period, grouping: 'day' | 'month' | null) =>
  sumCountersBy(reader.store, source.collection, range, matchOf(reader, source), { period: grouping, keys: keysOf(reader, source) }, source.fields(reader.currency));
const eachSource = (reader: Reader, balances: boolean, read: (source: Source) => Promise<void>) => Promise.all(reader.sources.filter((source) => !!source.balance === balances).map(read));

/** Flows counted in a period, by bucket ('' for the whole of it) and salesperson; breakdowns only if asked about. */
async function flows(reader: Reader, period: Period, grouping: 'day' | 'month' | null, into: Cells, asked: boolean): Promise<void> {
  await eachSource(reader, false, async (source) => {
    if (asked || !source.breakdownOnly) countInto(reader, source, await sumsOf(reader, source, period, grouping), into);
  });
}


/** A balance's totals (the balance now) by the keys it is read by. */
function totalsOf(reader: Reader, source: Source): Promise<CounterSum[]> {
  let totals = reader.totals.get(source.collection);
  if (!totals) reader.totals.set(source.collection, (totals = sumTotals(reader.store, source.collection, matchOf(reader, source), keysOf(reader, source), source.fields(reader.currency))));
  return totals;
}

/**
 * Balances as they stood at the start of `day`, per salesperson, into the bucket given: the balance now (the
 * totals twin) less the changes since, a few counters for a recent day.
 */
async function balancesAt(reader: Reader, day: string, bucket: string, into: Cells): Promise<void> {
  await eachSource(reader, true, async (source) => {
    const [now, changes] = await Promise.all([
      totalsOf(reader, source),
      sumChangesSince(reader.store, source.collection, day, matchOf(reader, source), keysOf(reader, source), source.fields(reader.currency)),
    ]);
    countInto(reader, source, now, into, 1, bucket);
    countInto(reader, source, changes, into, -1, bucket);
  });
}

/**
 * Balances at the end of each bucket (days or months, in order), no later than `end`: the balance at `end`, less
 * the changes of each later bucket, walking back.
 */
async function balancesByBucket(reader: Reader, end: string, grouping: 'day' | 'month', buckets: readonly string[], into: Cells): Promise<void> {
  const atEnd = new Cells();
  const changes = new Cells();
  const start = (bucket: string) => (bucket.length === 7 ? `${bucket}-01` : bucket);
  await Promise.all([
    balancesAt(reader, end, '', atEnd),
    buckets.length > 1 ? eachSource(reader, true, async (source) => countInto(reader, source, await sumsOf(reader, source, { from: start(buckets[1]!), to: end }, grouping), changes)) : undefined,
  ]);
  const running = atEnd.map.get('') ?? new Map<string, Raw>();
  for (let i = buckets.length - 1; i >= 0; i--) {
    for (const [person, raw] of running) merge(into.of(buckets[i]!, person), raw);
    for (const [person, raw] of changes.map.get(buckets[i]!) ?? []) {
      if (!running.has(person)) running.set(person, emptyRaw());
      merge(running.get(person)!, raw, -1);
    }
  }
}

/** The sum of a bucket's salespeople (or of those a group holds). */
function rollUp(cells: Cells, bucket: string, people?: (person: string) => boolean): Raw {
  const total = emptyRaw();
  for (const [person, raw] of cells.map.get(bucket) ?? []) if (!people || people(person)) merge(total, raw);
  return total;
}

/**
 * The KPI report of [from, to) for the given salespeople (null: everyone), in one currency: each metric with the
 * previous period's value and last year's, overall and by day, month, salesperson or department (their current
 * one). Flows (new customers, orders, …) are what happened in the period; balances (pipeline, receivables,
 * overdue) are as they stood at its end, or now if it ends later. All from pre-aggregated counters.
 */
export async function kpiReport(store: ReadStore, mirror: OrgCollections, owners: string[] | null, query: KpiQuery): Promise<KpiReport> {
  const reader: Reader = {
    store,
    owners,
    currency: query.currency,
    sources: SOURCES.filter((source) => source.metrics.some((metric) => query.metrics.includes(metric))),
    byPerson: query.groupBy === 'owner' || query.groupBy === 'department',
    totals: new Map(),
  };
  const period = { from: query.from, to: query.to };
  const previous = previousPeriod(period);
  const lastYear = lastYearOf(period);
  const capped = (day: string) => (day < query.tomorrow ? day : query.tomorrow);
  const compareAll = (now: Raw, before: Raw, yearAgo: Raw) => Object.fromEntries(query.metrics.map((metric) => [metric, compare(metric, now, before, yearAgo, query.currency)]));
  const grouping = query.groupBy ?? null;

  if (grouping === 'day' || grouping === 'month') {
    // Each day's or month's previous is the one before it (the first one's is just before the period) and its
    // last year's the same day or month a year before; the totals compare with the previous period and last year's.
    const buckets = bucketsOf(period, grouping);
    const before = grouping === 'day' ? shiftDays(period.from, -1) : shiftMonths(period.from, -1);
    const beforeBucket = bucketsOf({ from: before, to: period.from }, grouping)[0]!;
    const lastYearBuckets = bucketsOf(lastYear, grouping);
    const yearAgo = (bucket: string) => (grouping === 'day' ? shiftMonths(bucket, -12) : shiftMonths(`${bucket}-01`, -12).slice(0, 7));
    const [now, lastYearCells, previousTotal] = [new Cells(), new Cells(), new Cells()];
    await Promise.all([
      flows(reader, { from: before, to: period.to }, grouping, now, true),
      flows(reader, lastYear, grouping, lastYearCells, false),
      flows(reader, previous, null, previousTotal, false),
      balancesByBucket(reader, capped(period.to), grouping, [beforeBucket, ...buckets], now),
      balancesByBucket(reader, capped(lastYear.to), grouping, lastYearBuckets, lastYearCells),
      balancesAt(reader, capped(period.from), '', previousTotal),
    ]);
    // A period's flows are its buckets' sums; its balances its last bucket's.
    const whole = (cells: Cells, keys: readonly string[]) => merge(keys.reduce((total, bucket) => merge(total, only(rollUp(cells, bucket), false)), emptyRaw()), only(rollUp(cells, keys.at(-1)!), true));
    const groups = buckets.map((bucket, i) => ({ key: bucket, name: null, metrics: compareAll(rollUp(now, bucket), rollUp(now, i === 0 ? beforeBucket : buckets[i - 1]!), rollUp(lastYearCells, yearAgo(bucket))) }));
    return report(compareAll(whole(now, buckets), rollUp(previousTotal, ''), whole(lastYearCells, lastYearBuckets)), groups);
  }

  const [now, previousCells, lastYearCells] = [new Cells(), new Cells(), new Cells()];
  await Promise.all([
    flows(reader, period, null, now, true),
    flows(reader, previous, null, previousCells, false),
    flows(reader, lastYear, null, lastYearCells, false),
    balancesAt(reader, capped(period.to), '', now),
    balancesAt(reader, capped(previous.to), '', previousCells),
    balancesAt(reader, capped(lastYear.to), '', lastYearCells),
  ]);
  const totals = compareAll(rollUp(now, ''), rollUp(previousCells, ''), rollUp(lastYearCells, ''));
  if (grouping === null) return report(totals, []);

  // Everyone in scope, and anyone else with numbers (a salesperson since moved out of it), by their current department.
  const employees = await store.collection<EmployeeDoc>(mirror.employees).find(owners === null ? {} : { _id: { $in: owners } }, { projection: { name: 1, departmentId: 1, disabled: 1 } });
  const counted = new Set([...now.people(), ...previousCells.people(), ...lastYearCells.people()]);
  const people = employees.filter((e) => !e.disabled || counted.has(e._id));
  const groupOf = new Map(employees.map((e) => [e._id, grouping === 'owner' ? e._id : (e.departmentId ?? null)]));
  const keys = [...new Set(people.map((e) => groupOf.get(e._id)!))];
  const names = new Map<string | null, string>(
    grouping === 'owner'
      ? people.map((e) => [e._id, e.name])
      : (await store.collection<DepartmentDoc>(mirror.departments).find({ _id: { $in: keys.filter((key) => key !== null) } }, { projection: { name: 1 } })).map((d) => [d._id, d.name]),
  );
  const within = (key: string | null) => (person: string) => groupOf.get(person) === key;
  const groups = keys
    .map((key) => ({ key, name: names.get(key) ?? null, metrics: compareAll(rollUp(now, '', within(key)), rollUp(previousCells, '', within(key)), rollUp(lastYearCells, '', within(key))) }))
    .sort((a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff', 'zh-CN') || String(a.key).localeCompare(String(b.key)));
  return report(totals, groups);

  function report(totalMetrics: Record<string, KpiValue>, groups: KpiGroup[]): KpiReport {
    return { from: query.from, to: query.to, groupBy: grouping, currency: query.currency, periods: { previous, lastYear }, totals: { metrics: totalMetrics }, groups };
  }
}

/** The raw measures and breakdowns that are balances (taken at a moment, not summed over time). */
const BALANCE_MEASURES = new Set(['pipelineAmount', 'pipelineCount', 'receivables', 'overdue']);
/** A raw's balances only, or its flows only. */
function only(raw: Raw, balances: boolean): Raw {
  const keep = <T>(record: Record<string, T>) => Object.fromEntries(Object.entries(record).filter(([key]) => BALANCE_MEASURES.has(key) === balances));
  return { n: keep(raw.n), by: keep(raw.by) };
}
