/** One entry of a feed: at a time for some minutes (with an optional alarm), or on a whole day. */
export type CalendarEntry = { uid: string; summary: string; description?: string } & ({ at: string; minutes: number; alarmAt?: string } | { day: string });

/** RFC 5545 text: backslash, semicolon, comma and line breaks escaped. */
const text = (value: string) => value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
/** An instant as a UTC DATE-TIME (20261201T013000Z). */
const stamp = (iso: string) => `${new Date(iso).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;
const day = (date: string) => date.replace(/-/g, '');
const nextDay = (date: string) => day(new Date(Date.parse(`${date}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10));

/** Lines longer than 75 octets are folded: continued on the next line after a space, never inside a character. */
function fold(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char);
    if (octets + size > (parts.length ? 74 : 75)) {
      parts.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/** A VCALENDAR of the entries, as calendar apps subscribe to it (CRLF line ends, folded lines). */
export function calendar(now: Date, entries: readonly CalendarEntry[]): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//crm-backend//agenda//EN', 'CALSCALE:GREGORIAN', 'METHOD:PUBLISH', 'X-WR-CALNAME:CRM'];
  for (const entry of entries) {
    lines.push('BEGIN:VEVENT', `UID:${entry.uid}`, `DTSTAMP:${stamp(now.toISOString())}`, `SUMMARY:${text(entry.summary)}`);
    if (entry.description) lines.push(`DESCRIPTION:${text(entry.description)}`);
    if ('day' in entry) lines.push(`DTSTART;VALUE=DATE:${day(entry.day)}`, `DTEND;VALUE=DATE:${nextDay(entry.day)}`);
    else {
      lines.push(`DTSTART:${stamp(entry.at)}`, `DURATION:PT${entry.minutes}M`);
      if (entry.alarmAt) lines.push('BEGIN:VALARM', 'ACTION:DISPLAY', `DESCRIPTION:${text(entry.summary)}`, `TRIGGER;VALUE=DATE-TIME:${stamp(entry.alarmAt)}`, 'END:VALARM');
    }
    lines.push('END:VEVENT');
  }
  lines.push('END:VCALENDAR');
  return `${lines.map(fold).join('\r\n')}\r\n`;
}
