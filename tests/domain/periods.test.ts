import { describe, expect, it } from 'vitest';
import { lastYearOf, monthsStartingIn, monthsTouched, nextMonth, previousPeriod, shiftMonths } from '../../src/domain/shared/periods.ts';

describe('report periods', () => {
  it('moves dates by months within their month, and months across years', () => {
    expect(shiftMonths('2026-03-31', -1)).toBe('2026-02-28');
    expect(shiftMonths('2028-02-29', -12)).toBe('2027-02-28');
    expect(shiftMonths('2026-01-15', -1)).toBe('2025-12-15');
    expect(shiftMonths('2026-11-30', 14)).toBe('2028-01-30');
    expect(nextMonth('2026-12')).toBe('2027-01');
  });

  it('takes the previous period as many whole months back for whole months, else as many days; last year the same days', () => {
    expect(previousPeriod({ from: '2026-11-01', to: '2026-12-01' })).toEqual({ from: '2026-10-01', to: '2026-11-01' });
    expect(previousPeriod({ from: '2026-10-01', to: '2027-01-01' })).toEqual({ from: '2026-07-01', to: '2026-10-01' });
    expect(previousPeriod({ from: '2026-11-15', to: '2026-12-10' })).toEqual({ from: '2026-10-21', to: '2026-11-15' });
    expect(lastYearOf({ from: '2026-02-01', to: '2026-03-01' })).toEqual({ from: '2025-02-01', to: '2025-03-01' });
  });

  it('names the months a period touches, and those starting in it', () => {
    expect(monthsTouched({ from: '2026-11-15', to: '2027-01-02' })).toEqual(['2026-11', '2026-12', '2027-01']);
    expect(monthsTouched({ from: '2026-11-01', to: '2026-12-01' })).toEqual(['2026-11']);
    expect(monthsStartingIn({ from: '2026-11-15', to: '2027-01-02' })).toEqual(['2026-12', '2027-01']);
    expect(monthsStartingIn({ from: '2026-11-10', to: '2026-11-20' })).toEqual([]);
  });
});
