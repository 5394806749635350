import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { Money } from '../shared/money.ts';
import { stableUuid } from '../shared/stable-id.ts';

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

/** `employee:<id>` or `department:<id>`: how counters and budgets name a target. */
export const targetKey = (fields: { employeeId?: string | undefined; departmentId?: string | undefined }): string => (fields.employeeId ? `employee:${fields.employeeId}` : `department:${fields.departmentId}`);

/** One budget per target, category and month: its id follows from them, so a second one for the same is refused. */
export const budgetIdFor = (fields: Pick<BudgetFields, 'employeeId' | 'departmentId' | 'category' | 'month'>): string => stableUuid(`budget:${targetKey(fields)}:${fields.category}:${fields.month}`);

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

export const initialState: BudgetState = { status: 'none' };

export function evolve(state: BudgetState, event: BudgetEvent): BudgetState {
  switch (event.type) {
    case 'BudgetSet':
      return { status: 'active', budgetId: event.data.budgetId, fields: event.data.fields };
    case 'BudgetAmountChanged':
      return state.status === 'none' ? state : { ...state, fields: { ...state.fields, amount: event.data.amount } };
    case 'BudgetRemoved':
      return state.status === 'none' ? state : { ...state, status: 'removed' };
  }
}

export function decide(command: BudgetCommand, state: BudgetState): BudgetEvent[] {
  const { budgetId } = command;
  if (command.type === 'SetBudget') {
    if (state.status === 'active') throw new DomainError('budget.already_exists', `A budget for this ${command.fields.employeeId ? 'employee' : 'department'}, category and month exists already (${budgetId}); change its amount instead`, { budgetId });
    if (!command.fields.employeeId === !command.fields.departmentId) throw new DomainError('budget.target_required', 'Name either employeeId or departmentId', {});
    return [{ type: 'BudgetSet', data: { budgetId, fields: command.fields } }];
  }
  if (state.status !== 'active') throw new DomainError('budget.not_found', `Budget ${budgetId} does not exist`, { budgetId });
  if (command.type === 'RemoveBudget') return [{ type: 'BudgetRemoved', data: { budgetId } }];
  const { amount, ...others } = command.changes;
  const moved = Object.keys(others).filter((field) => JSON.stringify(others[field]) !== JSON.stringify((state.fields as Record<string, unknown>)[field]));
  if (moved.length) throw new DomainError('budget.key_fixed', `A budget's ${moved.join(', ')} cannot change (remove it and set another)`, { fields: moved });
  if (amount === undefined) return [];
  const next = Money.parse(amount);
  return next.amount === state.fields.amount.amount && next.currency === state.fields.amount.currency ? [] : [{ type: 'BudgetAmountChanged', data: { budgetId, amount: next } }];
}

export const budgetDecider = { initialState, evolve, decide };
export const budgetCategory = 'budget';
