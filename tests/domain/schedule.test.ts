import { describe, expect, it } from 'vitest';
import { nextDay, previousDay, startOfLocalDay } from '../../src/domain/company/index.ts';
import { nextDailyAt, scheduleStream, TimeOfDay } from '../../src/domain/schedule/index.ts';

describe('days in a time zone', () => {
  it('a local day starts at its local midnight, also for offsets between whole hours', () => {
    expect(startOfLocalDay('2026-12-02', 'Asia/Shanghai')).toBe('2026-12-01T16:00:00.000Z');
    expect(startOfLocalDay('2026-12-02', 'UTC')).toBe('2026-12-02T00:00:00.000Z');
    expect(startOfLocalDay('2026-12-02', 'America/New_York')).toBe('2026-12-02T05:00:00.000Z');
    expect(startOfLocalDay('2026-12-02', 'Asia/Kolkata')).toBe('2026-12-01T18:30:00.000Z');
    expect(startOfLocalDay('2026-12-02', 'Asia/Kathmandu')).toBe('2026-12-01T18:15:00.000Z');
    expect(startOfLocalDay('2026-12-02', 'Pacific/Kiritimati')).toBe('2026-12-01T10:00:00.000Z');
    // A day that starts an hour late (São Paulo's clocks went 00:00 → 01:00 on 4 November 2018).
    expect(startOfLocalDay('2018-11-04', 'America/Sao_Paulo')).toBe('2018-11-04T03:00:00.000Z');
  });

  it('the day before and after, across months and years', () => {
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(previousDay('2027-01-01')).toBe('2026-12-31');
    expect(previousDay('2028-03-01')).toBe('2028-02-29');
  });
});

describe('a daily run', () => {
  it("is today's time when it is still ahead, else tomorrow's (in the company's time zone)", () => {
    // 06:00 in Shanghai: today 08:00 is ahead.
    expect(nextDailyAt('08:00', 'Asia/Shanghai', new Date('2026-12-01T22:00:00.000Z'))).toBe('2026-12-02T00:00:00.000Z');
    // Exactly 08:00: the next one is tomorrow's.
    expect(nextDailyAt('08:00', 'Asia/Shanghai', new Date('2026-12-02T00:00:00.000Z'))).toBe('2026-12-03T00:00:00.000Z');
    // 08:00:01: tomorrow's.
    expect(nextDailyAt('08:00', 'Asia/Shanghai', new Date('2026-12-02T00:00:01.000Z'))).toBe('2026-12-03T00:00:00.000Z');
    expect(nextDailyAt('00:30', 'Asia/Shanghai', new Date('2026-12-01T16:29:00.000Z'))).toBe('2026-12-01T16:30:00.000Z');
    expect(nextDailyAt('23:45', 'UTC', new Date('2026-12-31T23:50:00.000Z'))).toBe('2027-01-01T23:45:00.000Z');
    expect(nextDailyAt('09:15', 'America/New_York', new Date('2026-12-01T12:00:00.000Z'))).toBe('2026-12-01T14:15:00.000Z');
  });

  it('takes a time of day as HH:MM, 24 hours', () => {
    for (const good of ['00:00', '08:00', '23:59']) expect(TimeOfDay.safeParse(good).success, good).toBe(true);
    for (const bad of ['8:00', '24:00', '12:60', '8am', '']) expect(TimeOfDay.safeParse(bad).success, bad).toBe(false);
  });

  it("keeps its schedule in a stream of the schedule category named after it", () => {
    expect(scheduleStream('daily-digest')).toBe('schedule-daily-digest');
  });
});
