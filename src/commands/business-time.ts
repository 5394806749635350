import { BusinessCalendar, type BusinessTime, CALENDAR_SETTING_KEY, DEFAULT_CALENDAR } from '../domain/service/calendar.ts';
import { companySettings } from './company.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { readSetting, writeSetting } from './settings.ts';

/** The company's business calendar (working days, hours, holidays): SLA clocks and approval reminders count in it. */
export async function businessCalendar(deps: CommandDeps): Promise<{ value: BusinessCalendar; revision: bigint }> {
  const { value, revision } = await readSetting<BusinessCalendar>(deps, CALENDAR_SETTING_KEY);
  return { value: value ?? DEFAULT_CALENDAR, revision };
}
export const putBusinessCalendar = (deps: CommandDeps, value: BusinessCalendar, actor: Actor, meta: RequestMeta) => writeSetting(deps, CALENDAR_SETTING_KEY, BusinessCalendar.parse(value), actor, meta);

/** The calendar in force in the company's time zone. */
export async function businessTime(deps: CommandDeps): Promise<BusinessTime> {
  const [calendar, company] = await Promise.all([businessCalendar(deps), companySettings(deps)]);
  return { calendar: calendar.value, timeZone: company.settings.timeZone };
}
