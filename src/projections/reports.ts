import { ownersCovered } from '../access/scope.ts';
import type { Actor } from '../commands/context.ts';
import type { Stage } from '../domain/opportunity/index.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { escapeRegex } from '../infra/readstore/regex.ts';
import type { DepartmentDoc, EmployeeDoc, OrgCollections } from './org.ts';
import { sumCounters } from './counters.ts';
import { CLOSES, FUNNEL, OPPORTUNITIES, STAGE_EXITS } from './opportunities.ts';
import { ORDERS, SALES_MONTHLY } from './orders.ts';
import { targetSums } from './targets.ts';

/** The opportunities projection's org mirror, which the reports resolve owners (and their names) with. */
export const reportMirror: OrgCollections = { departments: `${OPPORTUNITIES}_org_departments`, employees: `${OPPORTUNITIES}_org_employees` };

export class UnknownDepartmentError extends Error {}

/**
 * The owners whose records a report may count: the actor's data scope, narrowed by an owner or a department
 * (with its subtree). null means everyone.
 */
export async function reportOwners(store: ReadStore, actor: Actor, filter: { ownerId?: string | undefined; departmentId?: string | undefined }): Promise<string[] | null> {
  const employees = store.collection<EmployeeDoc>(reportMirror.employees);
  const ids = async (query: Record<string, unknown>) => (await employees.find(query, { projection: { _id: 1 } })).map((e) => e._id);
  let owners = await ownersCovered(actor, ids);
  if (filter.departmentId) {
    const department = await store.collection<DepartmentDoc>(reportMirror.departments).findOne({ _id: filter.departmentId });
    if (!department) throw new UnknownDepartmentError(`No department ${filter.departmentId}`);
    const inside = await ids({ departmentPath: { $regex: `^${escapeRegex(department.path)}` } });
    owners = owners === null ? inside : owners.filter((o) => inside.includes(o));
  }
  if (filter.ownerId) owners = owners === null || owners.includes(filter.ownerId) ? [filter.ownerId] : [];
  return owners;
}

/**
 * The owners a ranking shows: the report's owners (`scoped`), and, unless a department was asked for, the caller's
 * peers as the ranking setting allows (their own department's members, or everyone). null means everyone.
 */
export async function rankingOwners(store: ReadStore, actor: Actor, scoped: string[] | null, peers: 'none' | 'department' | 'company', askedDepartment: boolean): Promise<string[] | null> {
  if (scoped === null || peers === 'none' || askedDepartment) return scoped;
  if (peers === 'company') return null;
  if (!actor.departmentId) return scoped;
  const members = await store.collection<EmployeeDoc>(reportMirror.employees).find({ departmentId: actor.departmentId }, { projection: { _id: 1 } });
  return [...new Set([...scoped, ...members.map((member) => member._id)])];
}

const ownerMatch = (owners: string[] | null) => (owners === null ? {} : { ownerId: { $in: owners } });

export interface FunnelReport {
  currency: string;
  stages: { stage: string; name: string; probability: number; count: number; amount: { amount: number; currency: string }; weightedAmount: { amount: number; currency: string } }[];
  won: number;
  lost: number;
  winRate: number | null;
  averageCycleDays: number | null;
}

/**
 * The funnel of opportunities created in [from, to): per stage count, amount and probability-weighted amount
 * (half-up to the minor unit), plus the win rate and average cycle of opportunities closed in [from, to).
 */
export async function funnelReport(store: ReadStore, stages: Stage[], owners: string[] | null, range: { from: string; to: string; currency: string }): Promise<FunnelReport> {
  const match = { currency: range.currency, ...ownerMatch(owners) };
  const byStage = await sumCounters<{ count: number; amount: number }>(store, FUNNEL, range, match, 'stage', ['count', 'amount']);
  const [closes] = await sumCounters<{ won: number; lost: number; wonCycleMs: number }>(store, CLOSES, range, match, null, ['won', 'lost', 'wonCycleMs']);
  const money = (amount: number) => ({ amount, currency: range.currency });
  const rows = [...stages]
    .sort((a, b) => a.order - b.order)
    .map((stage) => {
      const found = byStage.find((row) => row._id === stage.key);
      const amount = found?.amount ?? 0;
      return { stage: stage.key, name: stage.name, probability: stage.probability, count: found?.count ?? 0, amount: money(amount), weightedAmount: money(Math.round((amount * stage.probability) / 100)) };
    });
  const won = closes?.won ?? 0;
  const lost = closes?.lost ?? 0;
  return {
    currency: range.currency,
    stages: rows,
    won,
    lost,
    winRate: won + lost > 0 ? Math.round((won / (won + lost)) * 10_000) / 10_000 : null,
    averageCycleDays: won > 0 ? Math.round((closes!.wonCycleMs / won / 86_400_000) * 100) / 100 : null,
  };
}

/** Average days spent in each stage, over the stage exits in [from, to). */
export async function timeInStageReport(store: ReadStore, stages: Stage[], owners: string[] | null, range: { from: string; to: string }) {
  const rows = await sumCounters<{ exits: number; totalMs: number }>(store, STAGE_EXITS, range, ownerMatch(owners), 'stage', ['exits', 'totalMs']);
  return {
    stages: [...stages]
      .sort((a, b) => a.order - b.order)
      .filter((stage) => !stage.isClosed)
      .map((stage) => {
        const row = rows.find((r) => r._id === stage.key);
        return { stage: stage.key, name: stage.name, exits: row?.exits ?? 0, averageDays: row && row.exits > 0 ? Math.round((row.totalMs / row.exits / 86_400_000) * 100) / 100 : null };
      }),
  };
}

/** Orders with money still to collect, due before a day: the overdue ones and the rest, with sums. */
export async function receivablesReport(store: ReadStore, scope: Record<string, unknown>, range: { dueBefore: string; today: string; currency: string }) {
  const orders = await store.collection(ORDERS).find(
    { $and: [scope, { 'receivable.amount': { $gt: 0 }, currency: range.currency, dueDate: { $lt: range.dueBefore }, status: { $in: ['confirmed', 'partially_shipped', 'shipped'] } }] },
    { sort: { dueDate: 1, _id: 1 }, limit: 5000 },
  );
  const items = orders.map((o) => ({
    id: o._id,
    number: o.number as string,
    customerId: o.customerId as string,
    ownerId: o.ownerId as string,
    total: o.total,
    paid: o.paid,
    receivable: o.receivable as { amount: number; currency: string },
    dueDate: o.dueDate as string,
    overdue: (o.dueDate as string) < range.today,
    daysOverdue: (o.dueDate as string) < range.today ? Math.round((new Date(range.today).getTime() - new Date(o.dueDate as string).getTime()) / 86_400_000) : 0,
  }));
  const sum = (rows: typeof items) => ({ amount: rows.reduce((total, row) => total + row.receivable.amount, 0), currency: range.currency });
  return { dueBefore: range.dueBefore, items, overdue: sum(items.filter((i) => i.overdue)), due: sum(items.filter((i) => !i.overdue)), total: sum(items) };
}

/** Sales ranking of a month per salesperson: confirmed orders or collected payments, largest first. */
export async function rankingReport(store: ReadStore, owners: string[] | null, query: { period: string; by: 'orders' | 'collections'; currency: string }) {
  const rows = await store.collection(SALES_MONTHLY).aggregate<{ _id: string; orders: number; orderAmount: number; collected: number }>([
    { $match: { month: query.period, currency: query.currency, ...ownerMatch(owners) } },
    { $group: { _id: '$ownerId', orders: { $sum: '$orders' }, orderAmount: { $sum: '$orderAmount' }, collected: { $sum: '$collected' } } },
  ]);
  const employees = store.collection<EmployeeDoc>(reportMirror.employees);
  type Ranked = { ownerId: string; name: string | null; orders: number; orderAmount: { amount: number; currency: string }; collected: { amount: number; currency: string } };
  const ranked: Ranked[] = [];
  for (const row of rows) {
    const employee = await employees.findOne({ _id: row._id });
    ranked.push({ ownerId: row._id, name: employee?.name ?? null, orders: row.orders, orderAmount: { amount: row.orderAmount, currency: query.currency }, collected: { amount: row.collected, currency: query.currency } });
  }
  const value = (r: Ranked) => (query.by === 'orders' ? r.orderAmount.amount : r.collected.amount);
  ranked.sort((a, b) => value(b) - value(a) || a.ownerId.localeCompare(b.ownerId));
  // Each salesperson's own target for the month, in what the ranking is by, and how much of it they made.
  const targets = await targetSums(store, [query.period], [query.by === 'orders' ? 'orderAmount' : 'collections'], query.currency);
  return {
    period: query.period,
    by: query.by,
    items: ranked
      .filter((r) => value(r) !== 0 || r.orders !== 0)
      .map((r, i) => {
        const target = targets.ofEmployees(query.by === 'orders' ? 'orderAmount' : 'collections', [r.ownerId]);
        return { rank: i + 1, ...r, target: target === null ? null : { amount: target, currency: query.currency }, attainment: target ? Math.round((value(r) / target) * 10_000) / 10_000 : null };
      }),
  };
}
