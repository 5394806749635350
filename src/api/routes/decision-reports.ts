import { z } from 'zod';
import { isAllowed } from '../../commands/authorization.ts';
import { localDate, nextDay } from '../../domain/company/index.ts';
import { daysBetween } from '../../domain/shared/periods.ts';
import { companyView } from '../../projections/company.ts';
import { KPI_METRIC_KEYS, KPI_METRICS, KPI_READS, type KpiMetric, kpiReport, type KpiReport, type KpiValue } from '../../projections/kpi.ts';
import { reportMirror } from '../../projections/reports.ts';
import { scopeTargets, TARGETS, withTargets } from '../../projections/targets.ts';
import { forecastReport } from '../../projections/forecast.ts';
import { FORECAST } from '../../projections/opportunities.ts';
import { opportunityStages } from '../../commands/opportunities.ts';
import { changeReportMailSettings, reportMailSettings } from '../../commands/report-mail.ts';
import { ReportMailSettings } from '../../domain/schedule/report-mail.ts';
import { settingRoutes } from '../setting-routes.ts';
import { asOfJobRoute, reportRoute, reportScope } from '../report-routes.ts';
import { Id } from '../route.ts';

const MAX_DAYS = 731;
const MAX_DAY_BUCKETS = 366;
const Metrics = z
  .string()
  .describe(`Comma-separated metric keys (default: all): ${KPI_METRIC_KEYS.join(', ')}`)
  .transform((list, context) => {
    const keys = [...new Set(list.split(',').map((key) => key.trim()).filter(Boolean))];
    for (const key of keys)
      if (!(key in KPI_METRICS))
        context.addIssue({ code: 'custom', message: `Unknown metric ${key}; known: ${KPI_METRIC_KEYS.join(', ')}` });
    if (keys.length === 0) context.addIssue({ code: 'custom', message: 'Name at least one metric' });
    return keys as KpiMetric[];
  });

const KpiQuery = z
  .object({
    from: z.iso.date().describe("First day (in the company's time zone), inclusive"),
    to: z.iso.date().describe("Last day (in the company's time zone), exclusive"),
    groupBy: z.enum(['day', 'month', 'owner', 'department']).optional().describe('Also answer per day, per month (from and to on the first of a month), per salesperson or per department (their current one)'),
    metrics: Metrics.optional(),
    ownerId: Id.optional(),
    departmentId: Id.optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'Expected an ISO 4217 code, e.g. CNY').optional().describe("The currency of the amounts (default: the company's); amounts in others are not converted, and not counted"),
  })
  .strict()
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] })
  .refine((q) => daysBetween(q.from, q.to) <= MAX_DAYS, { message: `At most ${MAX_DAYS} days`, path: ['to'] })
  .refine((q) => q.groupBy !== 'month' || (q.from.endsWith('-01') && q.to.endsWith('-01')), { message: 'groupBy=month takes whole months: from and to on the first of a month', path: ['groupBy'] })
  .refine((q) => q.groupBy !== 'day' || daysBetween(q.from, q.to) <= MAX_DAY_BUCKETS, { message: `groupBy=day takes at most ${MAX_DAY_BUCKETS} days`, path: ['groupBy'] });

const ForecastQuery = z
  .object({
    from: z.iso.date().describe("First expected close day (in the company's time zone), inclusive"),
    to: z.iso.date().describe('Last expected close day, exclusive'),
    ownerId: Id.optional(),
    departmentId: Id.optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'Expected an ISO 4217 code, e.g. CNY').optional().describe("The currency of the amounts (default: the company's); opportunities in others are not counted"),
  })
  .strict()
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] })
  .refine((q) => daysBetween(q.from, q.to) <= MAX_DAYS, { message: `At most ${MAX_DAYS} days`, path: ['to'] });

/** The decision reports: the KPIs and the sales forecast, and the scheduled report mails. */
export const decisionReportRoutes = [
  ...settingRoutes({
    path: '/api/v1/settings/report-mail',
    tags: ['Reports 报表'],
    schema: ReportMailSettings,
    read: { summary: 'The scheduled report mails (定时报表): which report, how often, when, to whom (default: none)', done: 'The schedules' },
    write: {
      summary: 'Change the scheduled report mails',
      description:
        "Each schedule mails the KPIs of the period just ended (every day: yesterday; every week on a weekday: last week, Monday to Sunday; every month on a day: last month) at `time` in the company time zone, to each recipient over their own data scope and the metrics they may view, through the mail port; a recipient disabled, without an e-mail address or without reports view is skipped. Each mail is recorded (ReportMailed), so a retried run mails nobody twice.",
      done: 'Saved',
    },
    load: reportMailSettings.read,
    save: ({ body, actor, services, meta }) => changeReportMailSettings(services.deps, body, actor, meta),
  }),
  reportRoute({
    name: 'kpi',
    summary: 'KPIs of [from, to) with the previous period and the same period last year: overall, and by day, month, salesperson or department',
    answer:
      'The KPIs. Each metric has value, previous, lastYear, delta {previous, lastYear} and change {previous, lastYear} (relative, null where the earlier value was zero); null for a metric of a module you may not view. ' +
      'Counts are integers, amounts Money in the one currency, rates decimals (winRate 0–1, slaMetPercent 0–100, avgCycleDays days, satisfaction the 1–5 average). ' +
      'Flows count what happened in the period; pipelineAmount, receivables and overdue are balances as they stood at its end (or now, if it ends later). ' +
      'The previous period is as many whole months (or days) just before; by day or month, each one is compared with the one before it and with the same one a year before. ' +
      'orderAmount, collections and newCustomers also have target and attainment (value ÷ target, null without a target): the targets of the months starting in the period (see POST /api/v1/targets).',
    reads: [...KPI_READS, TARGETS],
    query: KpiQuery,
    // A row for the totals, then one per group; each metric's value, previous, last year's, deltas, changes (and target, attainment).
    table(answer) {
      const report = answer as KpiReport;
      const withoutBreakdown = (entry: KpiValue | null) => {
        if (!entry) return null;
        const { breakdown: _breakdown, ...rest } = entry;
        return rest;
      };
      const columns = (metrics: Record<string, KpiValue | null>) => Object.fromEntries(Object.entries(metrics).map(([metric, entry]) => [metric, withoutBreakdown(entry)]));
      return [{ group: 'total', name: null, ...columns(report.totals.metrics) }, ...report.groups.map((group) => ({ group: group.key, name: group.name, ...columns(group.metrics) }))];
    },
    async compute(query, actor, services) {
      const company = await companyView(services.readStore);
      const owners = await reportScope(services, actor, query);
      const metrics = query.metrics ?? KPI_METRIC_KEYS;
      const visible = metrics.filter((metric) => isAllowed(actor, KPI_METRICS[metric], 'view'));
      const counted = await kpiReport(services.readStore, reportMirror, owners, {
        from: query.from,
        to: query.to,
        groupBy: query.groupBy,
        metrics: visible,
        currency: query.currency ?? company.currency,
        tomorrow: nextDay(localDate(services.deps.clock.now(), company.timeZone)),
      });
      const report = await withTargets(services.readStore, reportMirror, counted, { owners, departmentId: query.departmentId, ownerId: query.ownerId });
      // A metric of a module the caller may not view answers null, so the shape stays what they asked for.
      const shown = (values: Record<string, KpiValue | null>) => Object.fromEntries(metrics.map((metric) => [metric, values[metric] ?? null]));
      return { ...report, totals: { metrics: shown(report.totals.metrics) }, groups: report.groups.map((group) => ({ ...group, metrics: shown(group.metrics) })) };
    },
  }),
  reportRoute({
    name: 'forecast',
    summary: 'Sales forecast (销售预测): open opportunities expected to close in [from, to), by month and stage, weighted by stage probability, against each month\'s order amount target',
    answer:
      'The forecast: per month (of the expected close date) count, amount and weightedAmount (amount × the stage probability, half-up to the minor unit) with byStage, the order amount target (null: none set) and coverage (weightedAmount ÷ target); and the totals. Open opportunities as they are now, within your data scope.',
    reads: [FORECAST, TARGETS],
    query: ForecastQuery,
    table: (answer) => (answer as { months: Record<string, unknown>[] }).months.map(({ byStage: _byStage, ...month }) => month),
    async compute(query, actor, services) {
      const company = await companyView(services.readStore);
      const currency = query.currency ?? company.currency;
      const owners = await reportScope(services, actor, query);
      const targets = await scopeTargets(services.readStore, reportMirror, { owners, departmentId: query.departmentId, ownerId: query.ownerId }, currency);
      return forecastReport(services.readStore, (await opportunityStages(services.deps)).stages, owners, { from: query.from, to: query.to, currency }, (month) => targets.of('orderAmount', [month]));
    },
  }),
  asOfJobRoute,
];
