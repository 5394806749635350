import { describe, expect, it } from 'vitest';
import { levelFor, MemberLevelRules, windowOf } from '../../src/domain/customer/member-levels.ts';

const cny = (amount: number) => ({ amount, currency: 'CNY' });
const label = { 'zh-CN': '级', en: 'Level' };
const rules: MemberLevelRules = {
  basis: 'orders',
  windowMonths: 12,
  // Given in any order: the highest minimum reached wins.
  levels: [
    { key: 'gold', label, minAmount: cny(500) },
    { key: 'regular', label, minAmount: cny(0) },
    { key: 'silver', label, minAmount: cny(100) },
  ],
};

describe('member-level rules', () => {
  it('a customer holds the highest level whose minimum it reaches', () => {
    expect(levelFor(rules, 0)).toBe('regular');
    expect(levelFor(rules, 99)).toBe('regular');
    expect(levelFor(rules, 100)).toBe('silver');
    expect(levelFor(rules, 499)).toBe('silver');
    expect(levelFor(rules, 500)).toBe('gold');
    expect(levelFor(rules, 10_000)).toBe('gold');
  });

  it('below the lowest level, or with no levels, none', () => {
    expect(levelFor({ ...rules, levels: rules.levels.filter((l) => l.key !== 'regular') }, 99)).toBeNull();
    expect(levelFor({ ...rules, levels: [] }, 1_000)).toBeNull();
  });

  it('the window is this calendar month and the ones before it', () => {
    expect(windowOf({ windowMonths: 12 }, '2026-12-01')).toEqual({ from: '2026-01', to: '2027-01' });
    expect(windowOf({ windowMonths: 12 }, '2027-01-31')).toEqual({ from: '2026-02', to: '2027-02' });
    expect(windowOf({ windowMonths: 1 }, '2026-03-15')).toEqual({ from: '2026-03', to: '2026-04' });
    expect(windowOf({ windowMonths: 3 }, '2026-02-10')).toEqual({ from: '2025-12', to: '2026-03' });
  });

  it('refuses keys given twice, equal minimums, mixed currencies and negative minimums', () => {
    const errors = (levels: MemberLevelRules['levels']) => MemberLevelRules.safeParse({ ...rules, levels }).error?.issues.map((i) => i.path.join('.'));
    expect(errors([{ key: 'a', label, minAmount: cny(0) }, { key: 'a', label, minAmount: cny(1) }])).toEqual(['levels.1.key']);
    expect(errors([{ key: 'a', label, minAmount: cny(5) }, { key: 'b', label, minAmount: cny(5) }])).toEqual(['levels.1.minAmount']);
    expect(errors([{ key: 'a', label, minAmount: cny(0) }, { key: 'b', label, minAmount: { amount: 5, currency: 'USD' } }])).toEqual(['levels.1.minAmount.currency']);
    expect(errors([{ key: 'a', label, minAmount: cny(-1) }])).toEqual(['levels.0.minAmount']);
    expect(MemberLevelRules.safeParse(rules).success).toBe(true);
  });
});
