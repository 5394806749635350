import { localDate, startOfLocalDay } from '../domain/company/index.ts';
import type { Module } from '../domain/role/index.ts';
import type { Money } from '../domain/shared/money.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { counterDocs } from './counters.ts';
import type { EmployeeDoc } from './org.ts';
import { measures, TEAM_DAILY, TEAM_RECORDS, type TeamCounter, type TeamRecord } from './team.ts';

/** One salesperson's numbers for a period (see teamProjection for what each counts). */
export interface TeamCounts {
  planItems: { done: number; open: number };
  activities: { total: number; byKind: Record<string, number> };
  newCustomers: number;
  leadsWorked: number;
  opportunities: { created: number; moved: number; won: number; lost: number };
  quotesSent: number;
  orders: { count: number; amount: Money };
  collections: { count: number; amount: Money };
  shipments: number;
  tasksOverdue: number;
}
/** The module each part of the counts comes from: a caller who may not view that module is not shown the part. */
export const TEAM_PART_MODULES: Readonly<Record<keyof TeamCounts, Module>> = {
  planItems: 'plans',
  activities: 'activities',
  newCustomers: 'customers',
  leadsWorked: 'leads',
  opportunities: 'opportunities',
  quotesSent: 'quotes',
  orders: 'orders',
  collections: 'orders',
  shipments: 'orders',
  tasksOverdue: 'tasks',
};

export type TeamMember = { employeeId: string; name: string; departmentId: string | null } & TeamCounts;
export interface TeamView {
  from: string;
  to: string;
  currency: string;
  items: TeamMember[];
  totals: TeamCounts;
}

const emptyCounts = (currency: string): TeamCounts => ({
  planItems: { done: 0, open: 0 },
  activities: { total: 0, byKind: {} },
  newCustomers: 0,
  leadsWorked: 0,
  opportunities: { created: 0, moved: 0, won: 0, lost: 0 },
  quotesSent: 0,
  orders: { count: 0, amount: { amount: 0, currency } },
  collections: { count: 0, amount: { amount: 0, currency } },
  shipments: 0,
  tasksOverdue: 0,
});

/** Adds one counter sum to a salesperson's numbers. */
function count(into: TeamCounts, measure: string, n: number, amount: number, currency: string): void {
  if (measure.startsWith('activity:')) {
    const kind = measure.slice('activity:'.length);
    into.activities.byKind[kind] = (into.activities.byKind[kind] ?? 0) + n;
    into.activities.total += n;
    return;
  }
  switch (measure) {
    case measures.planItemsDone: into.planItems.done += n; break;
    case measures.planItemsOpen: into.planItems.open += n; break;
    case measures.newCustomers: into.newCustomers += n; break;
    case measures.leadsWorked: into.leadsWorked += n; break;
    case measures.opportunitiesCreated: into.opportunities.created += n; break;
    case measures.opportunitiesMoved: into.opportunities.moved += n; break;
    case measures.opportunitiesWon: into.opportunities.won += n; break;
    case measures.opportunitiesLost: into.opportunities.lost += n; break;
    case measures.quotesSent: into.quotesSent += n; break;
    case measures.shipments: into.shipments += n; break;
    case measures.tasksOverdue: into.tasksOverdue += n; break;
    case measures.orders(currency): into.orders.count += n; into.orders.amount.amount += amount; break;
    case measures.collections(currency): into.collections.count += n; into.collections.amount.amount += amount; break;
    // Orders and collections in other currencies are left out (the view is in one currency).
  }
}

/**
 * The team view of [from, to) (days in the company's time zone) for the given salespeople (null: everyone): sums
 * of the team counters, whole months from their monthly twins. Tasks fall overdue without an event, so today's
 * are counted at the moment of asking (open tasks, or ones done late, due since midnight) and later days have
 * none yet. Everyone in scope is listed (a disabled employee only when the period has numbers of theirs),
 * by name.
 */
export async function teamView(
  store: ReadStore,
  employeesCollection: string,
  owners: string[] | null,
  query: { from: string; to: string; currency: string },
  now: Date,
  timeZone: string,
): Promise<TeamView> {
  const match = owners === null ? {} : { ownerId: { $in: owners } };
  const localToday = localDate(now, timeZone);
  // Counters of tasks due today or later say which will be overdue if left open: today's are counted live
  // instead (those due by now), later days' not at all.
  const notYet = { from: query.from > localToday ? query.from : localToday, to: query.to };
  const [counters, notYetCounters, overdueToday] = await Promise.all([
    counterDocs<TeamCounter>(store, TEAM_DAILY, query, match),
    notYet.from < notYet.to ? counterDocs<TeamCounter>(store, TEAM_DAILY, notYet, match) : [],
    query.from <= localToday && localToday < query.to
      ? store.collection<TeamRecord>(TEAM_RECORDS).find({ dueAt: { $gte: startOfLocalDay(localToday, timeZone), $lt: now.toISOString() }, countsOverdue: true, ...match }, { projection: { ownerId: 1 } })
      : [],
  ]);
  // Each counter counts for its salesperson and for the totals (everyone counted is listed below).
  const totals = emptyCounts(query.currency);
  const byOwner = new Map<string, TeamCounts>();
  const countsOf = (ownerId: string) => {
    let counts = byOwner.get(ownerId);
    if (!counts) byOwner.set(ownerId, (counts = emptyCounts(query.currency)));
    return [counts, totals];
  };
  for (const counter of counters)
    for (const into of countsOf(counter.ownerId))
      for (const measure in counter.count) count(into, measure, counter.count[measure]!, counter.amount?.[measure] ?? 0, query.currency);
  for (const counter of notYetCounters) for (const into of countsOf(counter.ownerId)) into.tasksOverdue -= counter.count?.[measures.tasksOverdue] ?? 0;
  for (const task of overdueToday) for (const into of countsOf(task.ownerId)) into.tasksOverdue += 1;

  const employees = await store.collection<EmployeeDoc>(employeesCollection).find(owners === null ? {} : { _id: { $in: owners } }, { projection: { name: 1, departmentId: 1, disabled: 1 } });
  const items = employees
    .filter((e) => !e.disabled || byOwner.has(e._id))
    .map((e): TeamMember => ({ employeeId: e._id, name: e.name, departmentId: e.departmentId ?? null, ...(byOwner.get(e._id) ?? emptyCounts(query.currency)) }))
    .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN') || a.employeeId.localeCompare(b.employeeId));
  return { from: query.from, to: query.to, currency: query.currency, items, totals };
}
