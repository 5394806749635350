/**
 * Calendar arithmetic on dates (YYYY-MM-DD) and months (YYYY-MM) as the reports use them: days of the company's
 * calendar, periods [from, to) with `to` exclusive.
 */

export interface Period {
  from: string;
  to: string;
}

/** A date moved by whole days. */
export const shiftDays = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00.000Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** The days from one date to another. */
export const daysBetween = (from: string, to: string): number => Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);

/** The month after a month. */
export function nextMonth(month: string): string {
  const [year, number] = month.split('-').map(Number) as [number, number];
  return number === 12 ? `${year + 1}-01` : `${year}-${String(number + 1).padStart(2, '0')}`;
}

/** A date moved by whole months, kept inside its month (the 31st of a shorter month becomes its last day). */
export function shiftMonths(date: string, months: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const index = year * 12 + (month - 1) + months;
  const [y, m] = [Math.floor(index / 12), (index % 12) + 1];
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(Math.min(day, last)).padStart(2, '0')}`;
}

/** The months a period touches, in order (the first and last perhaps in part). */
export function monthsTouched({ from, to }: Period): string[] {
  const months: string[] = [];
  const last = shiftDays(to, -1).slice(0, 7);
  for (let month = from.slice(0, 7); month <= last; month = nextMonth(month)) months.push(month);
  return months;
}

/** The whole months whose first day lies in a period. */
export function monthsStartingIn({ from, to }: Period): string[] {
  const months: string[] = [];
  for (let month = from.endsWith('-01') ? from.slice(0, 7) : nextMonth(from.slice(0, 7)); `${month}-01` < to; month = nextMonth(month)) months.push(month);
  return months;
}

const monthsBetween = (from: string, to: string) => (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7));

/** The period just before one, as long: as many whole months back for whole months, else as many days. */
export function previousPeriod({ from, to }: Period): Period {
  return from.endsWith('-01') && to.endsWith('-01') ? { from: shiftMonths(from, -monthsBetween(from, to)), to: from } : { from: shiftDays(from, -daysBetween(from, to)), to: from };
}

/** The same period a year earlier. */
export const lastYearOf = ({ from, to }: Period): Period => ({ from: shiftMonths(from, -12), to: shiftMonths(to, -12) });
