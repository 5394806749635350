import { BusinessCalendar, type BusinessTime, CALENDAR_SETTING_KEY, DEFAULT_CALENDAR } from '../domain/service/calendar.ts';
import { companySettings } from './company.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { settingWithDefault } from './settings.ts';

/** The company's business calendar (working days, hours, holidays): SLA clocks and approval reminders count in it. */
const calendarSetting = settingWithDefault<BusinessCalendar>(CALENDAR_SETTING_KEY, DEFAULT_CALENDAR);
export const businessCalendar = calendarSetting.read;
export const putBusinessCalendar = (deps: CommandDeps, value: BusinessCalendar, actor: Actor, meta: RequestMeta) => calendarSetting.write(deps, BusinessCalendar.parse(value), actor, meta);

/** The calendar in force in the company's time zone. */
export async function businessTime(deps: CommandDeps): Promise<BusinessTime> {
  const [calendar, company] = await Promise.all([businessCalendar(deps), companySettings(deps)]);
  return { calendar: calendar.value, timeZone: company.settings.timeZone };
}
