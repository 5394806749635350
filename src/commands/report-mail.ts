import { settingsCategory } from '../domain/categories.ts';
import { localDate, nextDay } from '../domain/company/index.ts';
import { scheduleCategory, scheduleStream } from '../domain/schedule/index.ts';
import { nextOccurrence, type ReportMailSettings, ReportMailSettings as Settings, type ReportSchedule, reportedPeriod } from '../domain/schedule/report-mail.ts';
import type { Mailer } from '../infra/mail/port.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { companyView } from '../projections/company.ts';
import { KPI_METRIC_KEYS, KPI_METRICS, type KpiMetric, kpiReport, type KpiValue } from '../projections/kpi.ts';
import { type EmployeeDoc, ORG } from '../projections/org.ts';
import { reportMirror, reportOwners } from '../projections/reports.ts';
import { actorOf } from './access.ts';
import { isAllowed } from './authorization.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { getEmployee, systemActor } from './employees.ts';
import { invalidField } from './errors.ts';
import { onceFactEvent } from './pipeline.ts';
import { settingWithDefault } from './settings.ts';
import { plannedRun, scheduleNextRun, type TimerSpec } from './timers.ts';

export const REPORT_MAIL_SETTING_KEY = 'report-mail';
const TIMER = 'report-mail';

/** The scheduled report mails (定时报表): none until an administrator adds one. */
export const reportMailSettings = settingWithDefault<ReportMailSettings>(REPORT_MAIL_SETTING_KEY, { schedules: [] });
/** Saves the schedules; each recipient must be an employee (400 naming the one that is not). */
export async function changeReportMailSettings(deps: CommandDeps, settings: ReportMailSettings, actor: Actor, meta: RequestMeta) {
  const parsed = Settings.parse(settings);
  for (const [i, schedule] of parsed.schedules.entries())
    for (const [j, recipient] of schedule.recipients.entries()) if (!(await getEmployee(deps, recipient))) throw invalidField(`schedules.${i}.recipients.${j}`, `No employee ${recipient}`, recipient);
  return reportMailSettings.write(deps, parsed, actor, meta);
}

/** The next run of the chain: the earliest next occurrence of any schedule after `after` (none: no schedules). */
const nextRun = (schedules: readonly ReportSchedule[], timeZone: string, after: Date): string | undefined =>
  schedules.map((schedule) => nextOccurrence(schedule, timeZone, after)).sort()[0];

/** The KPI labels of a mail, in zh-CN and en. */
const LABELS: Record<KpiMetric, string> = {
  newCustomers: '新客户 New customers',
  leadsCreated: '新线索 Leads created',
  leadsConverted: '线索转化 Leads converted',
  opportunitiesCreated: '新商机 Opportunities created',
  opportunitiesWon: '赢单 Opportunities won',
  opportunitiesLost: '输单 Opportunities lost',
  winRate: '赢率 Win rate',
  avgCycleDays: '平均周期(天) Average cycle (days)',
  pipelineAmount: '商机金额 Pipeline',
  orderAmount: '签约额 Orders',
  collections: '回款 Collections',
  receivables: '应收 Receivables',
  overdue: '逾期应收 Overdue',
  activities: '跟进 Activities',
  expenses: '费用 Expenses',
  slaMetPercent: 'SLA 达成率 SLA met %',
  satisfaction: '满意度 Satisfaction',
  campaignRoi: '营销投资回报率 Campaign ROI',
};

const shown = (value: KpiValue['value']): string => {
  if (value === null) return '—';
  if (typeof value === 'number') return String(value);
  return `${value.currency} ${(value.amount / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
};
const percent = (change: number | null) => (change === null ? '—' : `${change > 0 ? '+' : ''}${Math.round(change * 1000) / 10}%`);
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A KPI mail's text and HTML: each metric the recipient may see, with last period's and last year's and the changes. */
export function kpiMail(period: { from: string; to: string }, metrics: Record<string, KpiValue>): { subject: string; text: string; html: string } {
  const title = `KPI ${period.from} – ${period.to} (不含 exclusive)`;
  const rows = Object.entries(metrics).map(([metric, entry]) => [LABELS[metric as KpiMetric], shown(entry.value), shown(entry.previous), percent(entry.change.previous), shown(entry.lastYear), percent(entry.change.lastYear)]);
  const header = ['指标 Metric', '本期 This period', '上期 Previous', '环比 vs previous', '去年同期 Last year', '同比 vs last year'];
  const text = [title, '', ...rows.map((row) => `${row[0]}: ${row[1]} (${header[2]} ${row[2]}, ${row[3]}; ${header[4]} ${row[4]}, ${row[5]})`)].join('\n');
  const cell = (tag: 'td' | 'th', value: string) => `<${tag} style="border:1px solid #ccc;padding:4px 8px">${escapeHtml(value)}</${tag}>`;
  const html = [`<h2>${escapeHtml(title)}</h2>`, '<table style="border-collapse:collapse">', `<tr>${header.map((h) => cell('th', h)).join('')}</tr>`, ...rows.map((row) => `<tr>${row.map((v) => cell('td', v)).join('')}</tr>`), '</table>'].join('\n');
  return { subject: `KPI 报表 ${period.from} – ${period.to}`, text, html };
}

/**
 * Mails one occurrence of a schedule (a run on the local date `on`) to each recipient not mailed yet: the KPIs of
 * the period just ended over the recipient's own data scope, the metrics whose modules they may view. A recipient
 * who is disabled, has no e-mail address or may not view reports is skipped. Answers how many were mailed.
 */
export async function mailScheduledReport(deps: CommandDeps, store: ReadStore, mailer: Mailer, schedule: ReportSchedule, on: string, meta: RequestMeta): Promise<number> {
  const company = await companyView(store);
  const stream = scheduleStream(`${TIMER}-${schedule.key}-${on}`);
  const mailed = new Set((await deps.eventStore.readStream(stream)).map((e) => (e.data as { employeeId: string }).employeeId));
  const period = reportedPeriod(schedule.every, on);
  let sent = 0;
  for (const employeeId of schedule.recipients) {
    if (mailed.has(employeeId)) continue;
    const employee = await store.collection<EmployeeDoc>(ORG.employees).findOne({ _id: employeeId });
    if (!employee || employee.disabled || typeof employee.email !== 'string') continue;
    const actor = await actorOf(deps, employeeId);
    if (!actor || !isAllowed(actor, 'reports', 'view')) continue;
    const owners = await reportOwners(store, actor, {});
    const metrics = KPI_METRIC_KEYS.filter((metric) => isAllowed(actor, KPI_METRICS[metric], 'view'));
    const report = await kpiReport(store, reportMirror, owners, { ...period, metrics, currency: company.currency, tomorrow: nextDay(localDate(deps.clock.now(), company.timeZone)) });
    const mail = kpiMail(period, report.totals.metrics as Record<string, KpiValue>);
    const { messageId } = await mailer.send({ to: [employee.email], subject: mail.subject, text: mail.text, html: mail.html });
    await deps.eventStore.append(stream, [onceFactEvent(deps, { ...meta, requestId: `${meta.requestId}:${employeeId}` }, systemActor.userId, stream, { type: 'ReportMailed', data: { schedule: schedule.key, on, employeeId, messageId } })], 'any');
    sent += 1;
  }
  return sent;
}

/**
 * The scheduled report mails' timer: one chain that wakes at the earliest next occurrence of any schedule, mails
 * the schedules due then, and plans the next; saving the setting replans it (no schedules: it stops).
 */
export const reportMailTimer: TimerSpec = {
  name: TIMER,
  categories: [settingsCategory, scheduleCategory],
  plan(event) {
    const data = event.data as { key?: string };
    if (event.type === 'SettingChanged' && data.key === REPORT_MAIL_SETTING_KEY) return { schedule: [{ key: 'run', dueAt: event.metadata.at, data: { replan: true } }] };
    return plannedRun(TIMER, event);
  },
  async fire(deps, item, meta, { readStore, mailer }) {
    const { value: settings } = await reportMailSettings.read(deps);
    const { timeZone } = await companyView(readStore);
    const dueAt = new Date(item.dueAt);
    if (!item.data.replan)
      for (const schedule of settings.schedules)
        // The schedules whose occurrence this run is (their next one after just before it is it).
        if (nextOccurrence(schedule, timeZone, new Date(dueAt.getTime() - 1)) === item.dueAt) await mailScheduledReport(deps, readStore, mailer, schedule, localDate(item.dueAt, timeZone), meta);
    const next = nextRun(settings.schedules, timeZone, new Date(Math.max(deps.clock.now().getTime(), dueAt.getTime())));
    if (next) await scheduleNextRun(deps, TIMER, next, systemActor, { ...meta, requestId: `${meta.requestId}:next` });
  },
};
