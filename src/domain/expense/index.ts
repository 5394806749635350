import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { CustomValues } from '../customization/values.ts';
import { DomainError } from '../shared/errors.ts';
import { Money } from '../shared/money.ts';
import { ChangeSet, diffFields, withChanges } from '../shared/normalize.ts';
import { ApprovalRequest } from '../approval/policy.ts';
import { RecordMoved } from '../shared/revert.ts';

/** The categories every company has (费用类别); an administrator adds more as data. */
export const builtInExpenseCategoryLabels = {
  travel: { 'zh-CN': '差旅', en: 'Travel' },
  entertainment: { 'zh-CN': '招待', en: 'Entertainment' },
  gifts: { 'zh-CN': '礼品', en: 'Gifts' },
  marketing: { 'zh-CN': '市场推广', en: 'Marketing' },
  other: { 'zh-CN': '其他', en: 'Other' },
} as const;

export const ExpenseLine = z
  .object({
    category: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a category key (GET /api/v1/expenses/categories)'),
    amount: Money.refine((money) => money.amount > 0, 'an amount above zero'),
    date: z.iso.date().describe('When the expense was incurred (YYYY-MM-DD)'),
    description: z.string().trim().min(1).max(500),
  })
  .strict()
  .meta({ id: 'ExpenseLine' });
export type ExpenseLine = z.infer<typeof ExpenseLine>;

/** An expense claim (费用报销单): its lines, in one currency, and what they were spent on. */
export const ExpenseFields = z.object({
  title: z.string().trim().min(1).max(200).optional(),
  lines: z
    .array(ExpenseLine)
    .min(1)
    .max(100)
    .refine((lines) => new Set(lines.map((line) => line.amount.currency)).size === 1, 'every line in one currency'),
  customerId: z.string().min(1).max(100).optional(),
  opportunityId: z.string().min(1).max(100).optional(),
  campaignId: z.string().min(1).max(100).optional(),
  custom: CustomValues.optional(),
});
export type ExpenseFields = z.infer<typeof ExpenseFields>;

/** A claim's total: the sum of its lines (one currency). */
export const claimTotal = (lines: readonly ExpenseLine[]): Money => ({ amount: lines.reduce((sum, line) => sum + line.amount.amount, 0), currency: lines[0]!.amount.currency });

/** The lines a receipt must back: over the company's amount, or in another currency than it. */
export const linesNeedingReceipts = (lines: readonly ExpenseLine[], receiptFrom: Money): number[] =>
  lines.flatMap((line, index) => (line.amount.currency !== receiptFrom.currency || line.amount.amount > receiptFrom.amount ? [index] : []));

export const ExpenseClaimDrafted = z.object({ claimId: z.string(), ownerId: z.string(), fields: ExpenseFields });
export const ExpenseClaimChanged = z.object({ claimId: z.string(), changes: ChangeSet, version: z.number().int().describe('The claim version this change made') });
export const ExpenseClaimSubmitted = z.object({
  claimId: z.string(),
  claimantId: z.string().describe('Whose claim it is (the approval never resolves to them)'),
  version: z.number().int(),
  amount: Money,
  overBudget: z.boolean(),
  approval: ApprovalRequest.nullable().describe('null: no policy applies, the claim is approved as submitted'),
  supersedes: z.string().nullable(),
  at: z.string().describe('When it was submitted (ISO 8601 UTC)'),
});
export const ExpenseClaimRecalled = z.object({ claimId: z.string(), approvalId: z.string().nullable() });
export const ExpenseClaimApproved = z.object({ claimId: z.string(), approvalId: z.string().nullable() });
export const ExpenseClaimRejected = z.object({ claimId: z.string(), approvalId: z.string() });
export const ExpenseClaimPaid = z.object({ claimId: z.string(), reference: z.string().optional(), paidBy: z.string() });

/** Its customer was merged into another one: the claim moved with it (its version and status stay). */
export const ExpenseClaimMoved = RecordMoved('claimId');

export const expenseEventSchemas = { ExpenseClaimMoved, ExpenseClaimDrafted, ExpenseClaimChanged, ExpenseClaimSubmitted, ExpenseClaimRecalled, ExpenseClaimApproved, ExpenseClaimRejected, ExpenseClaimPaid };
export type ExpenseEvent = EventsOf<typeof expenseEventSchemas>;

export const ExpenseStatus = z.enum(['draft', 'submitted', 'approved', 'rejected', 'paid']);
export type ExpenseStatus = z.infer<typeof ExpenseStatus>;
export type OpenClaim = {
  status: ExpenseStatus;
  claimId: string;
  ownerId: string;
  fields: ExpenseFields;
  /** 1 when drafted, one more with each change: what an approval is bound to. */
  version: number;
  /** The approval the claim waits on or was decided by (null: none was needed). */
  approvalId: string | null;
  submittedAt: string | null;
  amountSubmitted: Money | null;
  overBudget: boolean;
};
export type ExpenseState = { status: 'none' } | OpenClaim;

/** A submission as the handler prepared it: the approval it asks for under the policies in force (null: none applies). */
type Submission = { approval: ApprovalRequest | null; overBudget: boolean; receiptCount: number; receiptFrom: Money; at: string };
export type ExpenseCommand =
  | { type: 'DraftExpenseClaim'; claimId: string; ownerId: string; fields: ExpenseFields }
  /** `resubmit`: for a claim waiting on approval, the approval the edited claim asks for instead. */
  | { type: 'ChangeExpenseClaim'; claimId: string; changes: Record<string, unknown>; resubmit?: Submission }
  | ({ type: 'SubmitExpenseClaim'; claimId: string; by: string } & Submission)
  | { type: 'RecallExpenseClaim'; claimId: string; by: string }
  | { type: 'ApplyApprovalOutcome'; claimId: string; approvalId: string; outcome: 'approved' | 'rejected' }
  | { type: 'PayExpenseClaim'; claimId: string; by: string; reference?: string };

export const initialState: ExpenseState = { status: 'none' };

export function evolve(state: ExpenseState, event: ExpenseEvent): ExpenseState {
  if (event.type === 'ExpenseClaimDrafted') return { status: 'draft', claimId: event.data.claimId, ownerId: event.data.ownerId, fields: event.data.fields, version: 1, approvalId: null, submittedAt: null, amountSubmitted: null, overBudget: false };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'ExpenseClaimChanged':
      // An edit of a rejected claim makes it a draft to submit again; one of a waiting claim is followed by its new submission.
      return { ...withChanges(state, event.data.changes), version: event.data.version, status: state.status === 'rejected' ? 'draft' : state.status };
    case 'ExpenseClaimSubmitted':
      return { ...state, status: 'submitted', approvalId: event.data.approval?.approvalId ?? null, submittedAt: event.data.at, amountSubmitted: event.data.amount, overBudget: event.data.overBudget };
    case 'ExpenseClaimRecalled':
      return { ...state, status: 'draft' };
    case 'ExpenseClaimApproved':
      return { ...state, status: 'approved' };
    case 'ExpenseClaimRejected':
      return { ...state, status: 'rejected' };
    case 'ExpenseClaimPaid':
      return { ...state, status: 'paid' };
    case 'ExpenseClaimMoved':
      return { ...state, fields: { ...state.fields, customerId: event.data.customerId } };
  }
}

const notFound = (claimId: string) => new DomainError('expense.not_found', `Expense claim ${claimId} does not exist`, { claimId });

/** The events of a submission: submitted, and approved at once when no policy applies. */
function submission(state: OpenClaim, version: number, fields: ExpenseFields, command: Submission): ExpenseEvent[] {
  const missing = linesNeedingReceipts(fields.lines, command.receiptFrom);
  if (missing.length > command.receiptCount)
    throw new DomainError('expense.receipt_required', `${missing.length} line(s) over ${command.receiptFrom.amount / 100} ${command.receiptFrom.currency} need a receipt each; ${command.receiptCount} attached. Attach the receipts (images or PDFs) first`, {
      lines: missing,
      receiptsAttached: command.receiptCount,
      receiptRequiredOver: command.receiptFrom,
    });
  const submitted: ExpenseEvent = {
    type: 'ExpenseClaimSubmitted',
    data: { claimId: state.claimId, claimantId: state.ownerId, version, amount: claimTotal(fields.lines), overBudget: command.overBudget, approval: command.approval, supersedes: state.status === 'submitted' ? state.approvalId : null, at: command.at },
  };
  return command.approval ? [submitted] : [submitted, { type: 'ExpenseClaimApproved', data: { claimId: state.claimId, approvalId: null } }];
}

export function decide(command: ExpenseCommand, state: ExpenseState): ExpenseEvent[] {
  const { claimId } = command;
  if (command.type === 'DraftExpenseClaim') {
    if (state.status !== 'none') throw new DomainError('expense.already_exists', `Expense claim ${claimId} already exists`, { claimId });
    return [{ type: 'ExpenseClaimDrafted', data: { claimId, ownerId: command.ownerId, fields: command.fields } }];
  }
  if (state.status === 'none') throw notFound(claimId);
  const locked = () => new DomainError('expense.locked', `Expense claim ${claimId} is ${state.status}`, { claimId, expenseStatus: state.status });
  switch (command.type) {
    case 'ChangeExpenseClaim': {
      if (state.status === 'approved' || state.status === 'paid') throw locked();
      if (command.changes.lines === null) throw new DomainError('expense.field_required', 'lines cannot be cleared', { field: 'lines' });
      const changes = diffFields(state.fields, command.changes);
      if (Object.keys(changes).length === 0) return [];
      const version = state.version + 1;
      const changed: ExpenseEvent = { type: 'ExpenseClaimChanged', data: { claimId, changes, version } };
      if (state.status !== 'submitted') return [changed];
      // Waiting on approval: the edited claim asks again (the process invalidates the request it replaces).
      if (!command.resubmit) throw new Error('A waiting claim is changed with its new submission');
      return [changed, ...submission(state, version, withChanges(state, changes).fields, command.resubmit)];
    }
    case 'SubmitExpenseClaim':
      if (state.status === 'submitted') return [];
      if (state.status !== 'draft' && state.status !== 'rejected') throw locked();
      if (command.by !== state.ownerId) throw new DomainError('expense.not_claimant', 'Only the claimant submits a claim', { claimId });
      return submission(state, state.version, state.fields, command);
    case 'RecallExpenseClaim':
      if (state.status === 'draft') return [];
      if (state.status !== 'submitted') throw locked();
      if (command.by !== state.ownerId) throw new DomainError('expense.not_claimant', 'Only the claimant recalls a claim', { claimId });
      return [{ type: 'ExpenseClaimRecalled', data: { claimId, approvalId: state.approvalId } }];
    case 'ApplyApprovalOutcome':
      // Only the approval the claim waits on decides it; any other (replaced, recalled) or a second delivery changes nothing.
      if (state.status !== 'submitted' || state.approvalId !== command.approvalId) return [];
      return command.outcome === 'approved' ? [{ type: 'ExpenseClaimApproved', data: { claimId, approvalId: command.approvalId } }] : [{ type: 'ExpenseClaimRejected', data: { claimId, approvalId: command.approvalId } }];
    case 'PayExpenseClaim':
      if (state.status === 'paid') return [];
      if (state.status !== 'approved') throw new DomainError('expense.not_approved', `Only an approved claim is paid; this one is ${state.status}`, { claimId, expenseStatus: state.status });
      if (command.by === state.ownerId) throw new DomainError('expense.own_claim', 'Nobody pays their own claim', { claimId });
      return [{ type: 'ExpenseClaimPaid', data: { claimId, paidBy: command.by, ...(command.reference ? { reference: command.reference } : {}) } }];
  }
}

export const expenseDecider = { initialState, evolve, decide };
export const expenseCategory = 'expense';
