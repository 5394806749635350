import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { allotmentDecider, allotmentIdFor, targetKey } from '../shared/allotment.ts';
import { Money } from '../shared/money.ts';

export const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM');

/** Whose spending a budget limits: one employee, or a department (its sub-departments' people included). */
export const BudgetTarget = z.union([z.object({ employeeId: z.string().min(1).max(100) }).strict(), z.object({ departmentId: z.string().min(1).max(100) }).strict()]);
export type BudgetTarget = z.infer<typeof BudgetTarget>;

/** A budget (费用预算): an amount an employee or a department may claim in one category in one month. */
export const BudgetFields = z.object({
  employeeId: z.string().min(1).max(100).optional(),
  departmentId: z.string().min(1).max(100).optional(),
  category: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'an expense category key'),
  month: Month,
  amount: Money.refine((money) => money.amount >= 0, 'an amount of zero or more'),
});
export type BudgetFields = z.infer<typeof BudgetFields>;

export { targetKey };

const words = {
  kind: 'budget',
  id: 'budgetId',
  key: 'category',
  value: 'amount',
  events: { set: 'BudgetSet', changed: 'BudgetAmountChanged', removed: 'BudgetRemoved' },
  commands: { set: 'SetBudget', change: 'ChangeBudget', remove: 'RemoveBudget' },
} as const;

/** One budget per target, category and month: its id follows from them, so a second one for the same is refused. */
export const budgetIdFor = (fields: Pick<BudgetFields, 'employeeId' | 'departmentId' | 'category' | 'month'>): string => allotmentIdFor(words, fields, fields.category);

export const BudgetSet = z.object({ budgetId: z.string(), fields: BudgetFields });
export const BudgetAmountChanged = z.object({ budgetId: z.string(), amount: Money });
export const BudgetRemoved = z.object({ budgetId: z.string() });
export const budgetEventSchemas = { BudgetSet, BudgetAmountChanged, BudgetRemoved };
export type BudgetEvent = EventsOf<typeof budgetEventSchemas>;

export type BudgetState = { status: 'none' } | { status: 'active' | 'removed'; budgetId: string; fields: BudgetFields };
export type BudgetCommand =
  | { type: 'SetBudget'; budgetId: string; fields: BudgetFields }
  | { type: 'ChangeBudget'; budgetId: string; changes: Record<string, unknown> }
  | { type: 'RemoveBudget'; budgetId: string };

/** Set once per target, category and month; its amount changed; removed (see allotmentDecider). */
const { initialState, evolve, decide } = allotmentDecider<BudgetState, BudgetCommand, BudgetEvent>(words, (amount) => Money.parse(amount));
export { decide, evolve, initialState };

export const budgetDecider = { initialState, evolve, decide };
export const budgetCategory = 'budget';
