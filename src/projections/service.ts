import { ticketCategory, type TicketEvent } from '../domain/ticket/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { COMPANY, companyZone } from './company.ts';
import { counterDocs, CounterDeltas, dayOf, monthly, splitByMonth, sumCounters } from './counters.ts';
import { alreadyApplied, type Projection } from './projection.ts';

/** Service workload counters (服务工作量) per day: by engineer, by customer, by ticket type (and engineer). */
export const SERVICE_BY_ENGINEER = 'service_engineers';
export const SERVICE_BY_CUSTOMER = 'service_customers';
export const SERVICE_BY_TYPE = 'service_types';
/** Per ticket, what the counters need to attribute its later events. */
const SERVICE_TICKETS = 'service_tickets';

export const SERVICE_MEASURES = ['opened', 'handled', 'resolved', 'reopened', 'minutes', 'firstResponses', 'firstResponsesMet', 'resolutions', 'resolutionsMet', 'surveys', 'scoreSum', 'complaints'] as const;
export type ServiceMeasure = (typeof SERVICE_MEASURES)[number];

type Clock = 'running' | 'paused' | 'stopped' | null;
type TicketMirror = Doc & {
  customerId: string;
  type: string;
  assigneeId: string | null;
  lastResolvedBy: string | null;
  handledBy: string[];
  firstResponse: Clock;
  resolution: Clock;
  /** What the ticket counted for its customer, by day: moved with it when its customer is merged into another. */
  customerDays?: Record<string, Partial<Record<ServiceMeasure, number>>>;
  _position: number;
};

/**
 * Keeps the service report's counters. Who a measure counts for:
 * - opened, complaints: the assignee when opened (unassigned: no engineer), the customer, the type;
 * - handled: each engineer the first time they start the ticket;
 * - resolved: who resolved it; reopened: who had resolved it;
 * - minutes: who logged them, on the day they were worked;
 * - firstResponses(Met): when the first response clock stops, for the assignee then (met unless it was breached);
 * - resolutions(Met): each time the resolution clock stops, for who resolved it;
 * - surveys, scoreSum: an answered survey, for who resolved the ticket.
 */
export const serviceProjection: Projection = {
  name: 'service',
  // 2: each ticket's counts for its customer kept in its mirror (a merge moves them).
  version: 2,
  categories: [ticketCategory],
  collections: [SERVICE_TICKETS, ...[SERVICE_BY_ENGINEER, SERVICE_BY_CUSTOMER, SERVICE_BY_TYPE].flatMap((c) => [c, monthly(c)])],
  reads: [COMPANY],
  async setup(store) {
    for (const collection of [SERVICE_BY_ENGINEER, SERVICE_BY_CUSTOMER, SERVICE_BY_TYPE]) {
      await store.collection(collection).createIndex({ day: 1 });
      await store.collection(monthly(collection)).createIndex({ month: 1 });
    }
  },
  async apply(event, store) {
    const e = event as RecordedEvent & TicketEvent;
    const tickets = store.collection<TicketMirror>(SERVICE_TICKETS);
    const ticketId = e.data.ticketId;
    const before = await tickets.findOne({ _id: ticketId });
    if (alreadyApplied(before, event)) return;
    if (!before && e.type !== 'TicketOpened') return;
    const day = dayOf(event.metadata.at, await companyZone(store));
    const deltas = new CounterDeltas();
    let mirror: TicketMirror = before ?? { _id: ticketId, customerId: '', type: '', assigneeId: null, lastResolvedBy: null, handledBy: [], firstResponse: null, resolution: null, _position: 0 };
    const count = (engineer: string | null, inc: Partial<Record<ServiceMeasure, number>>, on = day) => {
      if (engineer) deltas.add(SERVICE_BY_ENGINEER, { day: on, employeeId: engineer }, inc);
      deltas.add(SERVICE_BY_CUSTOMER, { day: on, customerId: mirror.customerId }, inc);
      const days = { ...mirror.customerDays };
      const counted = { ...days[on] };
      for (const [measure, value] of Object.entries(inc) as [ServiceMeasure, number][]) counted[measure] = (counted[measure] ?? 0) + value;
      mirror = { ...mirror, customerDays: { ...days, [on]: counted } };
      deltas.add(SERVICE_BY_TYPE, { day: on, type: mirror.type, employeeId: engineer ?? '' }, inc);
    };
    switch (e.type) {
      case 'TicketOpened':
        mirror = { ...mirror, customerId: e.data.fields.customerId, type: e.data.fields.type, assigneeId: e.data.assigneeId };
        count(e.data.assigneeId, { opened: 1, ...(e.data.fields.type === 'complaint' ? { complaints: 1 } : {}) });
        break;
      case 'TicketChanged':
        if (typeof e.data.changes.type === 'string') mirror = { ...mirror, type: e.data.changes.type };
        if (typeof e.data.changes.customerId === 'string' && e.data.changes.customerId !== mirror.customerId) {
          // Its customer was merged into another: what it counted for the one it left now counts for the one it joined.
          for (const [on, inc] of Object.entries(mirror.customerDays ?? {})) {
            deltas.add(SERVICE_BY_CUSTOMER, { day: on, customerId: mirror.customerId }, inc as Record<string, number>, -1);
            deltas.add(SERVICE_BY_CUSTOMER, { day: on, customerId: e.data.changes.customerId }, inc as Record<string, number>);
          }
          mirror = { ...mirror, customerId: e.data.changes.customerId };
        }
        break;
      case 'TicketAssigned':
        mirror = { ...mirror, assigneeId: e.data.assigneeId };
        break;
      case 'TicketStarted':
        if (!mirror.handledBy.includes(e.data.by)) {
          mirror = { ...mirror, handledBy: [...mirror.handledBy, e.data.by] };
          count(e.data.by, { handled: 1 });
        }
        break;
      case 'TicketResolved':
        mirror = { ...mirror, lastResolvedBy: e.data.by };
        count(e.data.by, { resolved: 1 });
        break;
      case 'TicketReopened':
        count(mirror.lastResolvedBy ?? mirror.assigneeId, { reopened: 1 });
        break;
      case 'WorkLogged':
        count(e.data.employeeId, { minutes: e.data.minutes }, e.data.on);
        break;
      case 'SlaTargetsSet': {
        const { firstResponse, resolution } = e.data;
        if (firstResponse.state === 'stopped' && mirror.firstResponse !== 'stopped') count(mirror.assigneeId, { firstResponses: 1, firstResponsesMet: firstResponse.breached ? 0 : 1 });
        if (resolution.state === 'stopped' && mirror.resolution !== 'stopped') count(mirror.lastResolvedBy ?? mirror.assigneeId, { resolutions: 1, resolutionsMet: resolution.breached ? 0 : 1 });
        mirror = { ...mirror, firstResponse: firstResponse.state, resolution: resolution.state };
        break;
      }
      case 'SurveyAnswered':
        count(mirror.lastResolvedBy ?? mirror.assigneeId, { surveys: 1, scoreSum: e.data.score });
        break;
      default:
        break;
    }
    // Counters first, guarded by their own positions: a crash between the two writes replays safely.
    await deltas.apply(store, event);
    await tickets.replaceOne({ _id: ticketId }, { ...mirror, _position: Number(event.position) }, { upsert: true });
  },
};

export type ServiceGroup = 'engineer' | 'customer' | 'type';
type Sums = Record<ServiceMeasure, number> & { _id: string | null };

/** The rates a report row shows from its sums: percentages to one decimal, the average score to two. */
const rates = (row: Sums) => ({
  firstResponseMetPercent: row.firstResponses ? Math.round((1000 * row.firstResponsesMet) / row.firstResponses) / 10 : null,
  resolutionMetPercent: row.resolutions ? Math.round((1000 * row.resolutionsMet) / row.resolutions) / 10 : null,
  averageSatisfaction: row.surveys ? Math.round((100 * row.scoreSum) / row.surveys) / 100 : null,
});

/**
 * The service report over [from, to) (company days), grouped by engineer, customer or type, from the counters:
 * whole months from the monthly twins, the edge days from the daily ones. `engineers` (null: everyone) limits it
 * to the caller's scope; by customer, `customers` does.
 */
export async function serviceReport(store: ReadStore, query: { from: string; to: string; groupBy: ServiceGroup }, scope: { engineers: string[] | null; customers: string[] | null }) {
  const range = { from: query.from, to: query.to };
  const fields = [...SERVICE_MEASURES];
  const pick = (row: Sums) => Object.fromEntries(fields.filter((f) => f !== 'scoreSum').map((f) => [f, row[f] ?? 0]));
  if (query.groupBy === 'engineer') {
    const rows = await sumCounters<Sums>(store, SERVICE_BY_ENGINEER, range, scope.engineers ? { employeeId: { $in: scope.engineers } } : {}, 'employeeId', fields);
    return { groupBy: query.groupBy, items: rows.sort((a, b) => b.resolved - a.resolved || String(a._id).localeCompare(String(b._id))).map((row) => ({ employeeId: row._id, ...pick(row), ...rates(row) })) };
  }
  if (query.groupBy === 'type') {
    const rows = await sumCounters<Sums>(store, SERVICE_BY_TYPE, range, scope.engineers ? { employeeId: { $in: scope.engineers } } : {}, 'type', fields);
    return { groupBy: query.groupBy, items: rows.sort((a, b) => b.opened - a.opened || String(a._id).localeCompare(String(b._id))).map((row) => ({ type: row._id, ...pick(row), ...rates(row) })) };
  }
  // By customer there are thousands of rows: the counters are read once (whole months from the monthly twin, the
  // edge days from the daily counters) and summed here, and the trend takes each month's answers from the same
  // monthly documents (an edge month's are read besides).
  const match = scope.customers ? { customerId: { $in: scope.customers } } : {};
  type CustomerCounter = Doc & Partial<Record<ServiceMeasure, number>> & { customerId: string; month?: string };
  const docs = await counterDocs<CustomerCounter>(store, SERVICE_BY_CUSTOMER, range, match);
  const sums = new Map<string, Sums>();
  for (const doc of docs) {
    let row = sums.get(doc.customerId);
    if (!row) sums.set(doc.customerId, (row = { _id: doc.customerId, ...(Object.fromEntries(fields.map((f) => [f, 0])) as Record<ServiceMeasure, number>) }));
    for (const field of fields) row[field] += doc[field] ?? 0;
  }
  const { months } = splitByMonth(query.from, query.to);
  const edgeMonths = [...new Set([query.from.slice(0, 7), previousDayMonth(query.to)])].filter((month) => !months || month < months.from || month >= months.to);
  const monthDocs = [
    ...docs.filter((doc) => doc.month !== undefined),
    ...(edgeMonths.length ? await store.collection<CustomerCounter>(monthly(SERVICE_BY_CUSTOMER)).find({ ...match, month: { $in: edgeMonths } }) : []),
  ];
  const trends = new Map<string, { month: string; averageSatisfaction: number; surveys: number }[]>();
  for (const doc of monthDocs) {
    if (!doc.surveys) continue;
    const trend = trends.get(doc.customerId) ?? [];
    trend.push({ month: doc.month!, averageSatisfaction: Math.round((100 * (doc.scoreSum ?? 0)) / doc.surveys) / 100, surveys: doc.surveys });
    trends.set(doc.customerId, trend);
  }
  return {
    groupBy: query.groupBy,
    items: [...sums.values()]
      .sort((a, b) => b.complaints - a.complaints || b.opened - a.opened || String(a._id).localeCompare(String(b._id)))
      .map((row) => ({ customerId: row._id, ...pick(row), ...rates(row), satisfactionTrend: (trends.get(String(row._id)) ?? []).sort((a, b) => a.month.localeCompare(b.month)) })),
  };
}

/** The month of the last day before `to` (YYYY-MM-DD, exclusive). */
const previousDayMonth = (to: string) => new Date(Date.parse(`${to}T00:00:00.000Z`) - 86_400_000).toISOString().slice(0, 7);
