import { monthsStartingIn } from '../domain/shared/periods.ts';
import { MONEY_METRICS, TARGET_METRICS, type TargetMetric } from '../domain/target/index.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import type { KpiReport, KpiValue } from './kpi.ts';
import type { EmployeeDoc, OrgCollections } from './org.ts';

/** The targets' read model (a record type's: one document per target, gone when removed). */
export const TARGETS = 'targets';
type TargetDoc = Doc & { employeeId?: string; departmentId?: string; month: string; metric: TargetMetric; value: number | { amount: number; currency: string } };
type Money = { amount: number; currency: string };

/** The targets of some months in one currency (a count's are in every currency), summed per employee and per department. */
export async function targetSums(store: ReadStore, months: readonly string[], metrics: readonly TargetMetric[], currency: string) {
  const docs = months.length && metrics.length ? await store.collection<TargetDoc>(TARGETS).find({ month: { $in: [...months] }, metric: { $in: [...metrics] } }) : [];
  const employees = new Map<string, number>();
  const departments = new Map<string, number>();
  for (const doc of docs) {
    const value = typeof doc.value === 'number' ? doc.value : doc.value.currency === currency ? doc.value.amount : undefined;
    if (value === undefined) continue;
    const [into, who] = doc.employeeId ? [employees, doc.employeeId] : [departments, doc.departmentId!];
    const key = `${doc.metric}\u0000${who}`;
    into.set(key, (into.get(key) ?? 0) + value);
  }
  const sum = (into: Map<string, number>, metric: TargetMetric, who: readonly string[]) => {
    let total: number | null = null;
    for (const id of who) {
      const found = into.get(`${metric}\u0000${id}`);
      if (found !== undefined) total = (total ?? 0) + found;
    }
    return total;
  };
  return {
    /** The employees' own targets summed (null: none set). */
    ofEmployees: (metric: TargetMetric, ids: readonly string[]) => sum(employees, metric, ids),
    /** A department's own target (null: none set). */
    ofDepartment: (metric: TargetMetric, id: string) => sum(departments, metric, [id]),
  };
}

const targetOf = (metric: TargetMetric, value: number | null, currency: string): number | Money | null => (value === null ? null : MONEY_METRICS.includes(metric) ? { amount: value, currency } : value);
const attainmentOf = (entry: KpiValue, target: number | null): number | null => {
  const value = entry.value === null ? null : typeof entry.value === 'number' ? entry.value : entry.value.amount;
  return value === null || !target ? null : Math.round((value / target) * 10_000) / 10_000;
};

/**
 * Adds each target metric's target and attainment (value ÷ target) to a KPI report: for the months whose first day
 * is in the period (a month's group, its own month; a day's, none). A salesperson's target is their own; a
 * department's its own where one is set, else its members' summed; the totals' are the department's or the
 * salesperson's asked for, else the targets of everyone counted summed.
 */
export async function withTargets(store: ReadStore, mirror: OrgCollections, report: KpiReport, scope: TargetScope): Promise<KpiReport> {
  const metrics = TARGET_METRICS.filter((metric) => metric in report.totals.metrics);
  if (metrics.length === 0) return report;
  const periodMonths = monthsStartingIn(report);
  const targets = await scopeTargets(store, mirror, scope, report.currency);
  const sums = await targetSums(store, periodMonths, metrics, report.currency);
  const attach = (metricsOf: Record<string, KpiValue | null>, targetFor: (metric: TargetMetric) => number | null) => {
    const out: Record<string, unknown> = { ...metricsOf };
    for (const metric of metrics) {
      const entry = metricsOf[metric];
      if (!entry) continue;
      const target = targetFor(metric);
      out[metric] = { ...entry, target: targetOf(metric, target, report.currency), attainment: attainmentOf(entry, target) };
    }
    return out as Record<string, KpiValue>;
  };
  const monthSums = report.groupBy === 'month' ? new Map(await Promise.all(periodMonths.map(async (month) => [month, await targetSums(store, [month], metrics, report.currency)] as const))) : undefined;
  return {
    ...report,
    totals: { metrics: attach(report.totals.metrics, (metric) => targets.ofScope(sums, metric)) },
    groups: report.groups.map((group) => {
      const key = group.key;
      switch (report.groupBy) {
        case 'owner':
          return { ...group, metrics: attach(group.metrics, (metric) => sums.ofEmployees(metric, [key!])) };
        case 'department':
          return { ...group, metrics: attach(group.metrics, (metric) => (key === null ? null : targets.ofDepartment(sums, metric, key))) };
        case 'month':
          return { ...group, metrics: attach(group.metrics, (metric) => targets.ofScope(monthSums!.get(key!)!, metric)) };
        default:
          return { ...group, metrics: attach(group.metrics, () => null) };
      }
    }),
  };
}

/** Whom a report's totals count: the salespeople in scope, narrowed to one of them or one department. */
export interface TargetScope {
  owners: string[] | null;
  departmentId?: string | undefined;
  ownerId?: string | undefined;
}
type Sums = Awaited<ReturnType<typeof targetSums>>;

/**
 * The targets a scope has: a department's own where it has one, else its members' summed; the scope's the
 * department's or salesperson's it is narrowed to, else the targets of everyone in it summed.
 */
export async function scopeTargets(store: ReadStore, mirror: OrgCollections, scope: TargetScope, currency: string) {
  const everyone = (await store.collection<EmployeeDoc>(mirror.employees).find(scope.owners === null ? {} : { _id: { $in: scope.owners } }, { projection: { departmentId: 1 } })).map((e) => ({ id: e._id, departmentId: e.departmentId ?? null }));
  const ofDepartment = (sums: Sums, metric: TargetMetric, id: string) => sums.ofDepartment(metric, id) ?? sums.ofEmployees(metric, everyone.filter((e) => e.departmentId === id).map((e) => e.id));
  const ofScope = (sums: Sums, metric: TargetMetric) =>
    scope.ownerId ? sums.ofEmployees(metric, [scope.ownerId]) : scope.departmentId ? ofDepartment(sums, metric, scope.departmentId) : sums.ofEmployees(metric, everyone.map((e) => e.id));
  return {
    ofDepartment,
    ofScope,
    /** The scope's target of one metric in some months (null: none set). */
    async of(metric: TargetMetric, months: readonly string[]) {
      return ofScope(await targetSums(store, months, [metric], currency), metric);
    },
  };
}
