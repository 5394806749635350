import { z } from 'zod';
import { Label } from '../customization/fields.ts';
import { Money } from '../shared/money.ts';

export const MEMBER_LEVELS_SETTING_KEY = 'member-levels';

/** Levels by what a customer bought in the last twelve months (the demo company's, and the API's example). */
export const EXAMPLE_MEMBER_LEVELS = {
  basis: 'orders' as const,
  windowMonths: 12,
  levels: [
    { key: 'regular', label: { 'zh-CN': '普通', en: 'Regular' }, minAmount: { amount: 0, currency: 'CNY' } },
    { key: 'silver', label: { 'zh-CN': '银卡', en: 'Silver' }, minAmount: { amount: 5_000_00, currency: 'CNY' } },
    { key: 'gold', label: { 'zh-CN': '金卡', en: 'Gold' }, minAmount: { amount: 20_000_00, currency: 'CNY' } },
    { key: 'diamond', label: { 'zh-CN': '钻石', en: 'Diamond' }, minAmount: { amount: 50_000_00, currency: 'CNY' } },
  ],
};

/**
 * Member levels (会员等级, for customer care 老客户关怀): rules on what a customer bought (confirmed orders) or paid
 * (collections) in its last `windowMonths` calendar months, this one included. A customer holds the highest
 * level whose `minAmount` it reaches; below the lowest, none.
 */
export const MemberLevelRules = z
  .object({
    basis: z.enum(['orders', 'collections']).describe('orders: confirmed orders (less cancelled ones), by the day confirmed; collections: payments received'),
    windowMonths: z.number().int().min(1).max(36).describe('How many calendar months count, this one included (12: the last year)'),
    levels: z
      .array(
        z
          .object({
            key: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a key of lower-case letters, digits and _'),
            label: Label,
            minAmount: Money.refine((money) => money.amount >= 0, 'A minimum amount is not negative'),
          })
          .strict(),
      )
      .max(20),
  })
  .strict()
  .superRefine((rules, context) => {
    const keys = new Set<string>();
    const amounts = new Set<number>();
    rules.levels.forEach((level, index) => {
      if (keys.has(level.key)) context.addIssue({ code: 'custom', path: ['levels', index, 'key'], message: `The key ${level.key} is given twice` });
      if (amounts.has(level.minAmount.amount)) context.addIssue({ code: 'custom', path: ['levels', index, 'minAmount'], message: 'Two levels with the same minimum amount' });
      if (level.minAmount.currency !== rules.levels[0]!.minAmount.currency) context.addIssue({ code: 'custom', path: ['levels', index, 'minAmount', 'currency'], message: 'Every level is in one currency' });
      keys.add(level.key);
      amounts.add(level.minAmount.amount);
    });
  })
  .meta({ id: 'MemberLevelRules', examples: [EXAMPLE_MEMBER_LEVELS] });
export type MemberLevelRules = z.infer<typeof MemberLevelRules>;


/** No levels until an administrator sets them. */
export const NO_MEMBER_LEVELS: MemberLevelRules = { basis: 'orders', windowMonths: 12, levels: [] };

/** The level an amount (in the rules' currency) reaches: the one with the highest minimum at or below it, or null. */
export function levelFor(rules: MemberLevelRules, amount: number): string | null {
  let best: MemberLevelRules['levels'][number] | null = null;
  for (const level of rules.levels) if (level.minAmount.amount <= amount && (!best || level.minAmount.amount > best.minAmount.amount)) best = level;
  return best?.key ?? null;
}

/** The calendar months (YYYY-MM) the rules count on a day (YYYY-MM-DD): [first, end), this month the last. */
export function windowOf(rules: Pick<MemberLevelRules, 'windowMonths'>, today: string): { from: string; to: string } {
  const [year, month] = today.split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1);
  const name = (i: number) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
  return { from: name(index - rules.windowMonths + 1), to: name(index + 1) };
}

/** The currency the rules are in (the first level's; none without levels). */
export const rulesCurrency = (rules: MemberLevelRules): string | undefined => rules.levels[0]?.minAmount.currency;
