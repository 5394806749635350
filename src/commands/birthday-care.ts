import { settingsCategory } from '../domain/categories.ts';
import { localDate } from '../domain/company/index.ts';
import { nextDailyAt, scheduleCategory } from '../domain/schedule/index.ts';
import { stableUuid } from '../domain/shared/stable-id.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { companyView } from '../projections/company.ts';
import { automationSettings, scheduleAutomations } from './automation.ts';
import type { CommandDeps, RequestMeta } from './context.ts';
import { systemActor } from './employees.ts';
import { plannedRun, scheduleNextRun, type TimerSpec } from './timers.ts';

/** The event type an automation rule names to act on a contact's birthday (raised by the service, once a year per contact). */
export const BIRTHDAY_EVENT = 'ContactBirthday';
/** When, in the company's time zone, the day's birthdays are raised. */
const CARE_AT = '08:00';
const TIMER = 'birthday-care';

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** The birthdays (`MM-DD`) that fall on a day: 29 February's on 28 February in a year without one. */
export const birthdaysOn = (day: string): string[] => {
  const monthDay = day.slice(5);
  return monthDay === '02-28' && !isLeap(Number(day.slice(0, 4))) ? ['02-28', '02-29'] : [monthDay];
};

/**
 * Raises the birthdays of a day (the company's local date) for the rules that act on them: each contact whose
 * birthday falls on it fires each such rule once that year (the firing's stream is named by rule and by contact and
 * year, so a second run the same day, or after a restart, fires nothing again). Answers how many firings it scheduled.
 */
export async function raiseBirthdays(deps: CommandDeps, readStore: ReadStore, day: string, meta: RequestMeta): Promise<number> {
  const rules = (await automationSettings.read(deps)).value.filter((rule) => rule.enabled && rule.when.eventType === BIRTHDAY_EVENT);
  if (rules.length === 0) return 0;
  const at = deps.clock.now().toISOString();
  const contacts = await readStore.collection('contacts').find({ birthday: { $regex: `-(${birthdaysOn(day).join('|')})$` } }, { projection: { _id: 1, customerId: 1, ownerId: 1, birthday: 1 } });
  let scheduled = 0;
  for (const contact of contacts) {
    const data = { contactId: contact._id, customerId: String(contact.customerId), ownerId: String(contact.ownerId), birthday: String(contact.birthday), day };
    const trigger = { id: stableUuid(`birthday:${contact._id}:${day.slice(0, 4)}`), type: BIRTHDAY_EVENT, streamId: `contact-${contact._id}`, data, metadata: { at } };
    scheduled += await scheduleAutomations(deps, rules, trigger, { ...meta, requestId: `${meta.requestId}:${contact._id}` });
  }
  return scheduled;
}

/** Whether the rules have one acting on birthdays (the daily run goes on only while they do). */
const actsOnBirthdays = (rules: readonly { enabled: boolean; when: { eventType: string } }[] | undefined) => (rules ?? []).some((rule) => rule.enabled && rule.when.eventType === BIRTHDAY_EVENT);

/**
 * Birthday care's timer: a daily run at 08:00 company time while an automation rule acts on `ContactBirthday`,
 * started (at once, so today's birthdays are not missed) when the rules are saved with one.
 */
export const birthdayCareTimer: TimerSpec = {
  name: TIMER,
  categories: [settingsCategory, scheduleCategory],
  plan(event) {
    const data = event.data as { key?: string; value?: { enabled: boolean; when: { eventType: string } }[] };
    if (event.type === 'SettingChanged' && data.key === automationSettings.key) return actsOnBirthdays(data.value) ? { schedule: [{ key: 'run', dueAt: event.metadata.at }] } : { cancel: ['run'] };
    return plannedRun(TIMER, event);
  },
  async fire(deps, item, meta, { readStore }) {
    if (!actsOnBirthdays((await automationSettings.read(deps)).value)) return;
    const { timeZone } = await companyView(readStore);
    const now = deps.clock.now();
    const after = new Date(Math.max(now.getTime(), Date.parse(item.dueAt)));
    await raiseBirthdays(deps, readStore, localDate(after, timeZone), meta);
    await scheduleNextRun(deps, TIMER, nextDailyAt(CARE_AT, timeZone, after), systemActor, { ...meta, requestId: `${meta.requestId}:next` });
  },
};
