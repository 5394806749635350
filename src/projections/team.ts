import { activityCategory } from '../domain/activity/index.ts';
import { merged } from '../infra/merged.ts';
import { customerCategory, leadCategory, opportunityCategory, orderCategory, quoteCategory } from '../domain/categories.ts';
import { planCategory } from '../domain/plan/index.ts';
import { taskCategory } from '../domain/task/index.ts';
import { categoryOf, type RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc } from '../infra/readstore/port.ts';
import { COMPANY, companyZone } from './company.ts';
import { CounterDeltas, dayOf, monthly } from './counters.ts';
import { alreadyApplied, type Projection } from './projection.ts';

/**
 * Day counters per (day, salesperson): `count` holds a number per measure, `amount` the minor units of the money
 * measures (a salesperson's quarter is a few dozen documents).
 */
export const TEAM_DAILY = 'report_team_daily';
export type TeamCounter = Doc & { ownerId: string; count?: Record<string, number>; amount?: Record<string, number> };

/** What the team counters need to remember of each record (its owner, an order's total, a task's due time …). */
export const TEAM_RECORDS = 'report_team_records';

/**
 * The measures of the team view (a field each in a day's counter document). Money measures carry the currency
 * (`orders:CNY`), activities their kind (`activity:call`).
 */
export const measures = {
  planItemsDone: 'planItemsDone',
  planItemsOpen: 'planItemsOpen',
  activity: (kind: string) => `activity:${kind}`,
  /** All activities, whatever their kind (the KPI report's). */
  activities: 'activities',
  newCustomers: 'newCustomers',
  leadsWorked: 'leadsWorked',
  opportunitiesCreated: 'opportunitiesCreated',
  opportunitiesMoved: 'opportunitiesMoved',
  opportunitiesWon: 'opportunitiesWon',
  opportunitiesLost: 'opportunitiesLost',
  quotesSent: 'quotesSent',
  orders: (currency: string) => `orders:${currency}`,
  collections: (currency: string) => `collections:${currency}`,
  shipments: 'shipments',
  tasksOverdue: 'tasksOverdue',
} as const;

/** The little each record type needs remembered between its events. */
export type TeamRecord = Doc & {
  kind: 'lead' | 'opportunity' | 'quote' | 'order' | 'activity' | 'plan' | 'task';
  ownerId: string;
  _position: number;
  // activity
  activityKind?: string;
  occurredAt?: string;
  // plan
  date?: string;
  done?: number;
  open?: number;
  // order
  currency?: string;
  total?: number;
  /** The day it was confirmed on and who owned it then (cleared when a confirmed order is cancelled). */
  confirmed?: { day: string; ownerId: string };
  // task
  dueAt?: string;
  /** An open task, or one done after it was due: overdue once (or since) its due time passed. */
  countsOverdue?: boolean;
};

type Data = Record<string, unknown>;
type Contribution = { day: string; ownerId: string; measure: string; count: number; amount: number };

/*
 * The helpers of contributions, evolve and apply are functions of their own rather than closures made per event:
 * under tsx (esbuild keepNames) each closure made also has its name defined, a cost paid per event in a rebuild.
 */

/** One of a record's contributions, credited to its owner. */
const ownersOn = (record: TeamRecord, day: string, measure: string, count = 1, amount = 0): Contribution => ({ day, ownerId: record.ownerId, measure, count, amount });

/** A one-off count an event makes for the record's owner (none without a record). */
function addFlow(flows: Contribution[], record: TeamRecord | null, day: string, measure: string, options: { day?: string; count?: number; amount?: number } = {}): void {
  if (record) flows.push({ day: options.day ?? day, ownerId: record.ownerId, measure, count: options.count ?? 1, amount: options.amount ?? 0 });
}

/** The record an event starts, owned by the owner it names. */
const started = (event: RecordedEvent, kind: TeamRecord['kind'], fields: Partial<TeamRecord> = {}): TeamRecord =>
  merged({ _id: event.streamId, kind, ownerId: (event.data as Data).ownerId as string, _position: 0 }, fields);

/** A contribution counted into the day counter of its day and owner. */
const countInto = (deltas: CounterDeltas, c: Contribution, sign: number): void =>
  deltas.add(TEAM_DAILY, { day: c.day, ownerId: c.ownerId }, c.amount ? { [`count.${c.measure}`]: c.count, [`amount.${c.measure}`]: c.amount } : { [`count.${c.measure}`]: c.count }, sign);

/**
 * What a record adds to the counters while it is as it is (an activity on its day, a plan's items, a confirmed
 * order, a task that is or was overdue): a change removes the old contribution and adds the new one.
 */
function contributions(record: TeamRecord | null, zone: string): Contribution[] {
  if (!record) return [];
  switch (record.kind) {
    case 'activity':
      return [ownersOn(record, dayOf(record.occurredAt!, zone), measures.activity(record.activityKind!)), ownersOn(record, dayOf(record.occurredAt!, zone), measures.activities)];
    case 'plan':
      return [ownersOn(record, record.date!, measures.planItemsDone, record.done!), ownersOn(record, record.date!, measures.planItemsOpen, record.open!)];
    case 'order':
      return record.confirmed ? [{ day: record.confirmed.day, ownerId: record.confirmed.ownerId, measure: measures.orders(record.currency!), count: 1, amount: record.total! }] : [];
    case 'task':
      return record.countsOverdue ? [ownersOn(record, dayOf(record.dueAt!, zone), measures.tasksOverdue)] : [];
    default:
      return [];
  }
}

/** The record after an event (null: gone), and the one-off counts the event itself makes (a stage move, a payment). */
function evolve(record: TeamRecord | null, event: RecordedEvent, zone: string): { next: TeamRecord | null; flows: Contribution[] } {
  const data = event.data as Data;
  const at = event.metadata.at;
  const day = dayOf(at, zone);
  const flows: Contribution[] = [];
  let next = record;
  switch (event.type) {
    // Customers: only their registration counts (for whoever owns the new customer).
    case 'CustomerRegistered':
      if (data.ownerId) flows.push({ day, ownerId: data.ownerId as string, measure: measures.newCustomers, count: 1, amount: 0 });
      break;
    // Leads: each step forward is a lead worked.
    case 'LeadCreated':
      next = started(event, 'lead');
      break;
    case 'LeadStatusChanged':
    case 'LeadConverted':
    case 'LeadDisqualified':
      addFlow(flows, record, day, measures.leadsWorked);
      break;
    // Opportunities: created, moved between stages (a reopening too), won, lost.
    case 'OpportunityCreated':
      next = started(event, 'opportunity');
      flows.push({ day, ownerId: next.ownerId, measure: measures.opportunitiesCreated, count: 1, amount: 0 });
      break;
    case 'OpportunityStageChanged':
    case 'OpportunityReopened':
      addFlow(flows, record, day, measures.opportunitiesMoved);
      break;
    case 'OpportunityWon':
      addFlow(flows, record, day, measures.opportunitiesWon);
      break;
    case 'OpportunityLost':
      addFlow(flows, record, day, measures.opportunitiesLost);
      break;
    // Quotes: each sending (a revised quote sent again counts again).
    case 'QuoteCreated':
      next = started(event, 'quote');
      break;
    case 'QuoteSent':
      addFlow(flows, record, day, measures.quotesSent);
      break;
    // Orders: confirmed (by the day confirmed, undone when cancelled), paid, shipped.
    case 'OrderCreated':
      next = started(event, 'order', { currency: data.currency as string, total: (data.totals as { total: number }).total });
      break;
    case 'OrderConfirmed':
      next = record && { ...record, confirmed: { day: data.confirmedOn as string, ownerId: record.ownerId } };
      break;
    case 'OrderCancelled':
      if (record) {
        const { confirmed: _undone, ...rest } = record;
        next = rest;
      }
      break;
    case 'PaymentReceived':
      addFlow(flows, record, day, measures.collections(data.currency as string), { day: dayOf(data.receivedAt as string, zone), amount: data.amount as number });
      break;
    case 'OrderShipped':
      addFlow(flows, record, day, measures.shipments, { day: dayOf(data.shippedAt as string, zone) });
      break;
    // Activities: by kind, on the day they took place.
    case 'ActivityLogged': {
      const fields = data.fields as { kind: string; occurredAt: string };
      next = started(event, 'activity', { activityKind: fields.kind, occurredAt: fields.occurredAt });
      break;
    }
    case 'ActivityChanged': {
      const changes = data.changes as { kind?: string; occurredAt?: string };
      next = record && { ...record, ...(changes.kind ? { activityKind: changes.kind } : {}), ...(changes.occurredAt ? { occurredAt: changes.occurredAt } : {}) };
      break;
    }
    case 'ActivityRemoved':
      next = null;
      break;
    // Plans: their items done and still planned, on the plan's day (a week plan's Monday).
    case 'PlanCreated':
    case 'PlanItemsChanged': {
      const items = data.items as { status: string }[];
      const counts = { done: items.filter((i) => i.status === 'done').length, open: items.filter((i) => i.status === 'planned').length };
      next = event.type === 'PlanCreated' ? started(event, 'plan', { date: data.date as string, ...counts }) : record && { ...record, ...counts };
      break;
    }
    // Tasks: overdue when due and not done by then (an open one, or one done late), on the day it was due.
    case 'TaskCreated':
      next = started(event, 'task', { dueAt: (data.fields as { dueAt: string }).dueAt, countsOverdue: true });
      break;
    case 'TaskChanged': {
      const dueAt = (data.changes as { dueAt?: string }).dueAt;
      next = record && dueAt ? { ...record, dueAt } : record;
      break;
    }
    case 'TaskDone':
      next = record && { ...record, countsOverdue: at > record.dueAt! };
      break;
    case 'TaskCancelled':
      next = record && { ...record, countsOverdue: false };
      break;
    case 'LeadOwnerChanged':
    case 'OpportunityOwnerChanged':
    case 'QuoteOwnerChanged':
    case 'OrderOwnerChanged':
    case 'TaskReassigned':
      next = record && merged(record, { ownerId: data.ownerId as string });
      break;
  }
  return { next, flows };
}

/** Of a customer's events only its registration counts; nothing of the customer is remembered. */
const ignoredByTeam = (event: RecordedEvent): boolean => event.type !== 'CustomerRegistered' && categoryOf(event.streamId) === customerCategory;

/**
 * The team view's pre-aggregated counters: per day and salesperson, plan items done and open, activities by
 * kind, new customers, leads worked, opportunities created, moved, won and lost, quotes sent, orders confirmed
 * and their amount, collections, shipments, and tasks overdue. A period's numbers are sums of counters (whole
 * months from the monthly twin), never a scan of the records. Credit goes to the owner at the time of the
 * event (an order's to whoever owned it when it was confirmed).
 */
export const teamProjection: Projection = {
  name: 'team',
  // 2: all activities counted together too.
  version: 2,
  categories: [customerCategory, leadCategory, opportunityCategory, quoteCategory, orderCategory, activityCategory, planCategory, taskCategory],
  collections: [TEAM_DAILY, monthly(TEAM_DAILY), TEAM_RECORDS],
  reads: [COMPANY],
  async setup(store) {
    await store.collection(TEAM_DAILY).createIndex({ day: 1 });
    await store.collection(monthly(TEAM_DAILY)).createIndex({ month: 1 });
    for (const counters of [TEAM_DAILY, monthly(TEAM_DAILY)]) await store.collection(counters).createIndex({ ownerId: 1 });
    // Today's overdue tasks are counted live (a task falls overdue without an event): by due time (only tasks have one).
    await store.collection(TEAM_RECORDS).createIndex({ dueAt: 1 });
  },
  ignores: ignoredByTeam,
  async apply(event, store) {
    if (ignoredByTeam(event)) return;
    const customer = categoryOf(event.streamId) === customerCategory;
    const records = store.collection<TeamRecord>(TEAM_RECORDS);
    const before = customer ? null : await records.findOne({ _id: event.streamId });
    if (alreadyApplied(before, event)) return;
    const zone = await companyZone(store);
    const { next, flows } = evolve(before, event, zone);
    const deltas = new CounterDeltas();
    for (const c of contributions(before, zone)) countInto(deltas, c, -1);
    for (const c of contributions(next, zone)) countInto(deltas, c, +1);
    for (const c of flows) countInto(deltas, c, +1);
    // Counters first, guarded by their own positions: a crash between the two writes replays safely.
    await deltas.apply(store, event);
    // Most events leave the record as it was (the very same object): nothing to write.
    if (next === before) return;
    if (next) await records.replaceOne({ _id: event.streamId }, merged(next, { _position: Number(event.position) }), { upsert: true });
    else if (before) await records.deleteOne({ _id: event.streamId });
  },
};
