import { z } from 'zod';
import { settingsCategory } from '../domain/categories.ts';
import { localDate, nextDay, previousDay } from '../domain/company/index.ts';
import { nextDailyAt, scheduleCategory, scheduleStream, TimeOfDay } from '../domain/schedule/index.ts';
import type { Mailer } from '../infra/mail/port.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { companyView } from '../projections/company.ts';
import { type EmployeeDoc, ORG } from '../projections/org.ts';
import { reportMirror, reportOwners } from '../projections/reports.ts';
import { TEAM_PART_MODULES, type TeamCounts, type TeamView, teamView } from '../projections/team-view.ts';
import { actorOf } from './access.ts';
import { companySettings } from './company.ts';
import { isAllowed } from './authorization.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { systemActor } from './employees.ts';
import { onceFactEvent } from './pipeline.ts';
import { readSetting, writeSetting } from './settings.ts';
import { plannedRun, scheduleNextRun, startRecurringRun, type TimerSpec } from './timers.ts';

export const DAILY_DIGEST_SETTING_KEY = 'daily-digest';
const TIMER = 'daily-digest';

/** The daily digest (团队日报): each morning at `time` (company time), the previous day's team view to each manager. */
export const DailyDigestSettings = z
  .object({
    enabled: z.boolean(),
    time: TimeOfDay.describe('When it is sent, in the company time zone (HH:MM)'),
  })
  .strict()
  .meta({ id: 'DailyDigestSettings', examples: [{ enabled: true, time: '08:00' }] });
export type DailyDigestSettings = z.infer<typeof DailyDigestSettings>;
export const DEFAULT_DAILY_DIGEST: DailyDigestSettings = { enabled: true, time: '08:00' };

/** Each digest mailed to a manager is a fact (DigestMailed: a retried run mails nobody twice), in the day's stream. */
const mailedStream = (day: string) => scheduleStream(`${TIMER}-${day}`);

export async function dailyDigestSettings(deps: CommandDeps): Promise<{ value: DailyDigestSettings; revision: bigint }> {
  const { value, revision } = await readSetting<DailyDigestSettings>(deps, DAILY_DIGEST_SETTING_KEY);
  return { value: value ?? DEFAULT_DAILY_DIGEST, revision };
}

export const changeDailyDigestSettings = (deps: CommandDeps, settings: DailyDigestSettings, actor: Actor, meta: RequestMeta) => writeSetting(deps, DAILY_DIGEST_SETTING_KEY, DailyDigestSettings.parse(settings), actor, meta);

/**
 * At start-up: a digest that was never scheduled (a new installation, where the default is on) gets its first
 * run. Once the chain runs, each run schedules the next; a saved setting moves or stops it.
 */
export const startDailyDigest = (deps: CommandDeps, meta: RequestMeta): Promise<boolean> =>
  startRecurringRun(
    deps,
    TIMER,
    async () => {
      const { value, revision } = await dailyDigestSettings(deps);
      return revision >= 0n || !value.enabled ? null : nextDailyAt(value.time, (await companySettings(deps)).settings.timeZone, deps.clock.now());
    },
    systemActor,
    meta,
  );

/** The managers a digest goes to: enabled employees with an e-mail address who may view reports over more people than themselves. */
async function managers(deps: CommandDeps, store: ReadStore): Promise<{ employee: EmployeeDoc; actor: Actor; owners: string[] | null }[]> {
  const found = [];
  for (const employee of await store.collection<EmployeeDoc>(ORG.employees).find({ disabled: { $ne: true } }, { sort: { _id: 1 } })) {
    if (typeof employee.email !== 'string') continue;
    const actor = await actorOf(deps, employee._id);
    if (!actor || !isAllowed(actor, 'reports', 'view')) continue;
    const owners = await reportOwners(store, actor, {});
    if (owners !== null && owners.length < 2) continue;
    found.push({ employee, actor, owners });
  }
  return found;
}

/** Mails each manager the team view of `day`, skipping those mailed already. Answers how many were mailed. */
export async function mailDailyDigest(deps: CommandDeps, store: ReadStore, mailer: Mailer, day: string, meta: RequestMeta): Promise<number> {
  const company = await companyView(store);
  const stream = mailedStream(day);
  const mailed = new Set((await deps.eventStore.readStream(stream)).map((e) => (e.data as { employeeId: string }).employeeId));
  let sent = 0;
  for (const { employee, actor, owners } of await managers(deps, store)) {
    if (mailed.has(employee._id)) continue;
    const view = await teamView(store, reportMirror.employees, owners, { from: day, to: nextDay(day), currency: company.currency }, deps.clock.now(), company.timeZone);
    const { messageId } = await mailer.send({ to: [employee.email as string], subject: `团队日报 Team digest ${day}`, ...digestMail(view, actor) });
    await deps.eventStore.append(stream, [onceFactEvent(deps, { ...meta, requestId: `${meta.requestId}:${employee._id}` }, systemActor.userId, stream, { type: 'DigestMailed', data: { day, employeeId: employee._id, messageId } })], 'any');
    sent += 1;
  }
  return sent;
}

const money = (m: { amount: number; currency: string }) => `${m.currency} ${(m.amount / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The digest's text and HTML: one row per salesperson, the parts the manager may view. */
export function digestMail(view: TeamView, actor: Actor): { text: string; html: string } {
  const columns: { part: keyof TeamCounts; header: string; value: (row: TeamCounts) => string }[] = [
    { part: 'planItems', header: '计划 完成/未完成 Plan done/open', value: (r) => `${r.planItems.done}/${r.planItems.open}` },
    { part: 'activities', header: '跟进 Activities', value: (r) => String(r.activities.total) },
    { part: 'newCustomers', header: '新客户 New customers', value: (r) => String(r.newCustomers) },
    { part: 'leadsWorked', header: '线索 Leads worked', value: (r) => String(r.leadsWorked) },
    { part: 'opportunities', header: '商机 新建/推进/赢/输 Opportunities new/moved/won/lost', value: (r) => `${r.opportunities.created}/${r.opportunities.moved}/${r.opportunities.won}/${r.opportunities.lost}` },
    { part: 'quotesSent', header: '报价 Quotes sent', value: (r) => String(r.quotesSent) },
    { part: 'orders', header: '订单 Orders', value: (r) => `${r.orders.count} (${money(r.orders.amount)})` },
    { part: 'collections', header: '回款 Collections', value: (r) => money(r.collections.amount) },
    { part: 'shipments', header: '发货 Shipments', value: (r) => String(r.shipments) },
    { part: 'tasksOverdue', header: '逾期任务 Tasks overdue', value: (r) => String(r.tasksOverdue) },
  ];
  const shown = columns.filter((c) => isAllowed(actor, TEAM_PART_MODULES[c.part], 'view'));
  const rows = [...view.items.map((item) => ({ name: item.name, counts: item as TeamCounts })), { name: '合计 Total', counts: view.totals }];
  const text = [
    `团队日报 Team digest ${view.from}`,
    '',
    ...rows.map((row) => [row.name, ...shown.map((c) => `${c.header}: ${c.value(row.counts)}`)].join('\n  ')),
  ].join('\n');
  const cell = (tag: 'td' | 'th', value: string) => `<${tag} style="border:1px solid #ccc;padding:4px 8px">${escapeHtml(value)}</${tag}>`;
  const html = [
    `<h2>团队日报 Team digest ${escapeHtml(view.from)}</h2>`,
    '<table style="border-collapse:collapse">',
    `<tr>${cell('th', '姓名 Name')}${shown.map((c) => cell('th', c.header)).join('')}</tr>`,
    ...rows.map((row) => `<tr>${cell('td', row.name)}${shown.map((c) => cell('td', c.value(row.counts))).join('')}</tr>`),
    '</table>',
  ].join('\n');
  return { text, html };
}

/**
 * The daily digest timer: at the configured time each morning, the previous day's team view to each manager;
 * each run schedules the next. Saving the setting moves the next run (or stops the digest).
 */
export const dailyDigestTimer: TimerSpec = {
  name: TIMER,
  categories: [settingsCategory, scheduleCategory],
  plan(event) {
    const data = event.data as { key?: string; value?: DailyDigestSettings };
    if (event.type === 'SettingChanged' && data.key === DAILY_DIGEST_SETTING_KEY)
      return data.value?.enabled ? { schedule: [{ key: 'run', dueAt: event.metadata.at, data: { replan: true } }] } : { cancel: ['run'] };
    return plannedRun(TIMER, event);
  },
  async fire(deps, item, meta, { readStore, mailer }) {
    const { value: settings } = await dailyDigestSettings(deps);
    if (!settings.enabled) return;
    const { timeZone } = await companyView(readStore);
    const now = deps.clock.now();
    // The day before the one it is due on (a run late after downtime still reports the day before its due day).
    if (!item.data.replan) await mailDailyDigest(deps, readStore, mailer, previousDay(localDate(item.dueAt, timeZone)), meta);
    const after = new Date(Math.max(now.getTime(), Date.parse(item.dueAt)));
    await scheduleNextRun(deps, TIMER, nextDailyAt(settings.time, timeZone, after), systemActor, { ...meta, requestId: `${meta.requestId}:next` });
  },
};
