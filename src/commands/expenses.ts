import { z } from 'zod';
import { BudgetFields, budgetIdFor, type BudgetCommand, type BudgetState } from '../domain/budget/index.ts';
import { builtInExpenseCategoryLabels, claimTotal, type ExpenseCommand, type ExpenseFields, type ExpenseLine, type ExpenseState, type OpenClaim } from '../domain/expense/index.ts';
import { RECEIPT_TYPES } from '../domain/expense/resource.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { Money } from '../domain/shared/money.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { budgetActuals, claimMirror } from '../projections/expenses.ts';
import { assertAllotmentOwner } from './allotments.ts';
import { attachmentsOf } from './attachments.ts';
import { planApproval, recallApprovalRequest } from './approvals.ts';
import { openRequestedApproval } from './approval-subjects.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { getEmployee, systemActor } from './employees.ts';
import { kindsAsData } from './kinds.ts';
import { departmentAncestry } from './org.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';
import { settingWithDefault } from './settings.ts';

export const expenseCategories = kindsAsData({ settingKey: 'expense-categories', list: 'categories', builtIn: builtInExpenseCategoryLabels, what: 'expense category', schemaId: 'ExpenseCategorySettings' });

/** The company's expense rules: a line over `receiptRequiredOver` needs a receipt (an image or a PDF attached to the claim). */
export const ExpenseSettings = z.object({ receiptRequiredOver: Money.describe('A line over this amount needs a receipt (default 200.00 CNY)') }).strict().meta({ id: 'ExpenseSettings' });
export type ExpenseSettings = z.infer<typeof ExpenseSettings>;
export const DEFAULT_EXPENSE_SETTINGS: ExpenseSettings = { receiptRequiredOver: { amount: 20_000, currency: 'CNY' } };
export const expenseSettings = settingWithDefault<ExpenseSettings>('expenses', DEFAULT_EXPENSE_SETTINGS);

const expenseRules: RecordRules<ExpenseCommand, ExpenseState> = { resource: 'expenses' };
const expenses = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(expenseRules, deps, actor, meta);

async function assertCategories(deps: CommandDeps, lines: readonly ExpenseLine[] | undefined, kept: readonly ExpenseLine[] = []): Promise<void> {
  for (const [i, line] of (lines ?? []).entries()) await expenseCategories.assertOffered(deps, `lines[${i}].category`, line.category, kept.some((k) => k.category === line.category) ? line.category : undefined);
}

/** A new claim, a draft of the actor's own. */
export async function draftExpenseClaim(deps: CommandDeps, fields: ExpenseFields, actor: Actor, meta: RequestMeta) {
  await assertCategories(deps, fields.lines);
  const result = await expenses(deps, actor, meta).create(fields, (claimId, all) => ({ type: 'DraftExpenseClaim', claimId, ownerId: actor.userId, fields: all as ExpenseFields }));
  return { ...result, claimId: result.id };
}

/**
 * Whether a claim would take a budget over: for each month and category of its lines, the claimant's budget and
 * each of their departments' (up the tree) against what was submitted already plus this claim (what the claim
 * itself counts for already is not counted twice). Budgets in another currency than the lines are not compared.
 */
export async function overBudget(deps: CommandDeps, readStore: ReadStore, claim: OpenClaim, lines: readonly ExpenseLine[]): Promise<boolean> {
  const claimant = await getEmployee(deps, claim.ownerId);
  const departments = claimant?.fields.departmentId ? ((await departmentAncestry(deps, claimant.fields.departmentId)) ?? []) : [];
  const targets = [{ employeeId: claim.ownerId }, ...departments.map((departmentId) => ({ departmentId }))];
  const wanted = new Map<string, { category: string; month: string; currency: string; amount: number }>();
  for (const line of lines) {
    const key = `${line.category}|${line.date.slice(0, 7)}|${line.amount.currency}`;
    const entry = wanted.get(key) ?? { category: line.category, month: line.date.slice(0, 7), currency: line.amount.currency, amount: 0 };
    entry.amount += line.amount.amount;
    wanted.set(key, entry);
  }
  const mirror = await claimMirror(readStore, claim.claimId);
  const counted = (category: string, month: string, currency: string) =>
    mirror && mirror.stage !== 'draft' && mirror.stage !== 'rejected' ? mirror.lines.filter((l) => l.category === category && l.day.startsWith(month) && l.currency === currency).reduce((sum, l) => sum + l.amount, 0) : 0;
  const budgets = readStore.collection<{ _id: string; amount: Money; status: string }>('budgets');
  for (const { category, month, currency, amount } of wanted.values()) {
    for (const target of targets) {
      const budget = await budgets.findOne({ _id: budgetIdFor({ ...target, category, month }), status: 'active' });
      if (!budget || budget.amount.currency !== currency) continue;
      const key = { target: 'employeeId' in target ? `employee:${target.employeeId}` : `department:${target.departmentId}`, category, month };
      const [actual] = (await budgetActuals(readStore, [key])).filter((doc) => doc.currency === currency);
      if ((actual?.submitted ?? 0) - counted(category, month, currency) + amount > budget.amount.amount) return true;
    }
  }
  return false;
}

/** What a submission of `claim` with `lines` asks for under the rules in force now. */
async function prepareSubmission(deps: CommandDeps, readStore: ReadStore, claim: OpenClaim, lines: readonly ExpenseLine[], meta: RequestMeta) {
  const [settings, files, over] = await Promise.all([expenseSettings.read(deps), attachmentsOf(deps, claim.claimId), overBudget(deps, readStore, claim, lines)]);
  const approval = await planApproval(deps, readStore, { kind: 'expense', submitterId: claim.ownerId, approvalId: meta.ids.newId(), facts: { amount: claimTotal(lines), overBudget: over } });
  const receiptCount = files.filter((file) => (RECEIPT_TYPES as readonly string[]).includes(file.contentType)).length;
  return { approval, overBudget: over, receiptCount, receiptFrom: settings.value.receiptRequiredOver, at: deps.clock.now().toISOString() };
}

/** After a claim recorded the approval it asks for: the request is made now (the approval process makes it after a crash). */
async function openRequestOf(deps: CommandDeps, state: ExpenseState, meta: RequestMeta) {
  if (state.status !== 'submitted' || !state.approvalId) return;
  await openRequestedApproval(deps, 'expense', (await expenses(deps, systemActor, meta).load(state.claimId)).events, meta);
}

/** Changes a claim; one waiting on approval asks again (its pending request is invalidated, a new one made). */
export async function changeExpenseClaim(deps: CommandDeps, readStore: ReadStore, claimId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) {
  const handler = expenses(deps, actor, meta);
  const { state } = await handler.load(claimId);
  if (state.status === 'none') throw new DomainError('expense.not_found', `Expense claim ${claimId} does not exist`, { claimId });
  await assertCategories(deps, changes.lines as ExpenseLine[] | undefined, state.fields.lines);
  const lines = (changes.lines as ExpenseLine[] | undefined) ?? state.fields.lines;
  const resubmit = state.status === 'submitted' ? await prepareSubmission(deps, readStore, state, lines, meta) : undefined;
  const result = await handler.change(claimId, changes, (plain) => ({ type: 'ChangeExpenseClaim', claimId, changes: plain, ...(resubmit ? { resubmit } : {}) }));
  if (result.changed && resubmit) await openRequestOf(deps, result.state as ExpenseState, meta);
  return result;
}

/** Submits a claim for approval (the strictest applying policy), or approves it at once when none applies. */
export async function submitExpenseClaim(deps: CommandDeps, readStore: ReadStore, claimId: string, actor: Actor, meta: RequestMeta) {
  const handler = expenses(deps, actor, meta);
  const { state } = await handler.load(claimId);
  if (state.status === 'none') throw new DomainError('expense.not_found', `Expense claim ${claimId} does not exist`, { claimId });
  const submission = state.status === 'draft' || state.status === 'rejected' ? await prepareSubmission(deps, readStore, state, state.fields.lines, meta) : { approval: null, overBudget: false, receiptCount: 0, receiptFrom: DEFAULT_EXPENSE_SETTINGS.receiptRequiredOver, at: '' };
  const result = await handler.run(claimId, { type: 'SubmitExpenseClaim', claimId, by: actor.userId, ...submission });
  if (result.changed) await openRequestOf(deps, result.state as ExpenseState, meta);
  return result;
}

/** The claimant takes a waiting claim back to draft; its approval request ends (recalled). */
export async function recallExpenseClaim(deps: CommandDeps, claimId: string, actor: Actor, meta: RequestMeta) {
  const handler = expenses(deps, actor, meta);
  const before = (await handler.load(claimId)).state;
  const result = await handler.run(claimId, { type: 'RecallExpenseClaim', claimId, by: actor.userId });
  if (result.changed && before.status === 'submitted' && before.approvalId) await recallApprovalRequest(deps, before.approvalId, actor, meta);
  return result;
}

export const payExpenseClaim = (deps: CommandDeps, claimId: string, reference: string | undefined, actor: Actor, meta: RequestMeta) =>
  expenses(deps, actor, meta).run(claimId, { type: 'PayExpenseClaim', claimId, by: actor.userId, ...(reference ? { reference } : {}) });

/** The approval's outcome acts on the claim: approved (it may be paid) or rejected. Idempotent. */
export const applyExpenseOutcome = (deps: CommandDeps, claimId: string, approvalId: string, outcome: 'approved' | 'rejected', meta: RequestMeta) =>
  expenses(deps, systemActor, meta).run(claimId, { type: 'ApplyApprovalOutcome', claimId, approvalId, outcome });

// ---- Budgets ----

const budgetRules: RecordRules<BudgetCommand, BudgetState> = { resource: 'budgets' };
const budgets = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(budgetRules, deps, actor, meta);

/** Sets a budget for an employee or a department, a category and a month (one per such; 409 budget.already_exists). */
export async function setBudget(deps: CommandDeps, fields: BudgetFields, actor: Actor, meta: RequestMeta) {
  await assertAllotmentOwner(deps, fields);
  await expenseCategories.assertOffered(deps, 'category', fields.category);
  const result = await budgets(deps, actor, meta).create(fields, (budgetId, all) => ({ type: 'SetBudget', budgetId, fields: all as BudgetFields }), budgetIdFor(fields));
  return { ...result, budgetId: result.id };
}

export const changeBudget = (deps: CommandDeps, budgetId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) =>
  budgets(deps, actor, meta).change(budgetId, changes, (plain) => ({ type: 'ChangeBudget', budgetId, changes: plain }));
export const removeBudget = (deps: CommandDeps, budgetId: string, actor: Actor, meta: RequestMeta) => budgets(deps, actor, meta).run(budgetId, { type: 'RemoveBudget', budgetId });
