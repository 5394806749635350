import { describe, expect, it } from 'vitest';
import { claimTotal, expenseDecider, type ExpenseEvent, type ExpenseFields, linesNeedingReceipts } from '../../src/domain/expense/index.ts';
import { BudgetFields, budgetDecider, budgetIdFor, type BudgetEvent, targetKey } from '../../src/domain/budget/index.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { specFor } from '../support/spec.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });
const claimId = 'c-1';
const fields: ExpenseFields = {
  lines: [
    { category: 'travel', amount: CNY(60_000), date: '2026-11-20', description: '高铁' },
    { category: 'entertainment', amount: CNY(15_000), date: '2026-11-20', description: '工作餐' },
  ],
};
const drafted: ExpenseEvent = { type: 'ExpenseClaimDrafted', data: { claimId, ownerId: 'rep', fields } };
const request = { approvalId: 'ap-1', policyId: 'p', policyVersion: 1, steps: [{ approverId: 'lead', rule: 'manager' as const }] };
const submission = { approval: request, overBudget: false, receiptCount: 1, receiptFrom: CNY(20_000), at: 't1' };
const submitted: ExpenseEvent = { type: 'ExpenseClaimSubmitted', data: { claimId, claimantId: 'rep', version: 1, amount: CNY(75_000), overBudget: false, approval: request, supersedes: null, at: 't1' } };
const approved: ExpenseEvent = { type: 'ExpenseClaimApproved', data: { claimId, approvalId: 'ap-1' } };

describe('expense claim decider', () => {
  const spec = specFor(expenseDecider);

  it('sums its lines, and asks a receipt of each line over the amount (or in another currency)', () => {
    expect(claimTotal(fields.lines)).toEqual(CNY(75_000));
    expect(linesNeedingReceipts(fields.lines, CNY(20_000))).toEqual([0]);
    expect(linesNeedingReceipts(fields.lines, CNY(60_000))).toEqual([]);
    expect(linesNeedingReceipts([{ ...fields.lines[1]!, amount: { amount: 100, currency: 'USD' } }], CNY(20_000))).toEqual([0]);
  });

  it('is drafted once, by its claimant', () => {
    spec.given([]).when({ type: 'DraftExpenseClaim', claimId, ownerId: 'rep', fields }).then([drafted]);
    spec.given([drafted]).when({ type: 'DraftExpenseClaim', claimId, ownerId: 'rep', fields }).thenThrows('expense.already_exists');
    spec.given([]).when({ type: 'SubmitExpenseClaim', claimId, by: 'rep', ...submission }).thenThrows('expense.not_found');
    expect(fold(expenseDecider, [drafted])).toMatchObject({ status: 'draft', version: 1, approvalId: null });
  });

  it('is submitted by its claimant with its receipts, bound to its version; approved at once when no policy applies', () => {
    spec.given([drafted]).when({ type: 'SubmitExpenseClaim', claimId, by: 'rep', ...submission }).then([submitted]);
    spec.given([drafted]).when({ type: 'SubmitExpenseClaim', claimId, by: 'rep', ...submission, receiptCount: 0 }).thenThrows('expense.receipt_required');
    spec.given([drafted]).when({ type: 'SubmitExpenseClaim', claimId, by: 'lead', ...submission }).thenThrows('expense.not_claimant');
    spec.given([drafted, submitted]).when({ type: 'SubmitExpenseClaim', claimId, by: 'rep', ...submission }).thenNothing();
    spec.given([drafted]).when({ type: 'SubmitExpenseClaim', claimId, by: 'rep', ...submission, approval: null }).then([
      { ...submitted, data: { ...submitted.data, approval: null } } as ExpenseEvent,
      { type: 'ExpenseClaimApproved', data: { claimId, approvalId: null } },
    ]);
    spec.given([drafted, submitted, approved]).when({ type: 'SubmitExpenseClaim', claimId, by: 'rep', ...submission }).thenThrows('expense.locked');
    expect(fold(expenseDecider, [drafted, submitted])).toMatchObject({ status: 'submitted', approvalId: 'ap-1', submittedAt: 't1', amountSubmitted: CNY(75_000) });
  });

  it('acts on the outcome of the approval it waits on, once; any other changes nothing', () => {
    spec.given([drafted, submitted]).when({ type: 'ApplyApprovalOutcome', claimId, approvalId: 'ap-1', outcome: 'approved' }).then([approved]);
    spec.given([drafted, submitted]).when({ type: 'ApplyApprovalOutcome', claimId, approvalId: 'ap-1', outcome: 'rejected' }).then([{ type: 'ExpenseClaimRejected', data: { claimId, approvalId: 'ap-1' } }]);
    spec.given([drafted, submitted, approved]).when({ type: 'ApplyApprovalOutcome', claimId, approvalId: 'ap-1', outcome: 'approved' }).thenNothing();
    spec.given([drafted, submitted]).when({ type: 'ApplyApprovalOutcome', claimId, approvalId: 'ap-old', outcome: 'approved' }).thenNothing();
    spec.given([drafted]).when({ type: 'ApplyApprovalOutcome', claimId, approvalId: 'ap-1', outcome: 'approved' }).thenNothing();
  });

  it('a recall takes a waiting claim back to draft (its claimant only); a draft recalled stays as it is', () => {
    spec.given([drafted, submitted]).when({ type: 'RecallExpenseClaim', claimId, by: 'rep' }).then([{ type: 'ExpenseClaimRecalled', data: { claimId, approvalId: 'ap-1' } }]);
    spec.given([drafted, submitted]).when({ type: 'RecallExpenseClaim', claimId, by: 'lead' }).thenThrows('expense.not_claimant');
    spec.given([drafted]).when({ type: 'RecallExpenseClaim', claimId, by: 'rep' }).thenNothing();
    spec.given([drafted, submitted, approved]).when({ type: 'RecallExpenseClaim', claimId, by: 'rep' }).thenThrows('expense.locked');
    expect(fold(expenseDecider, [drafted, submitted, { type: 'ExpenseClaimRecalled', data: { claimId, approvalId: 'ap-1' } }])).toMatchObject({ status: 'draft' });
  });

  it('an edit counts a new version; a rejected claim edited is a draft again; one waiting asks again, replacing its request', () => {
    const changes = { title: '杭州出差' };
    spec.given([drafted]).when({ type: 'ChangeExpenseClaim', claimId, changes }).then([{ type: 'ExpenseClaimChanged', data: { claimId, changes, version: 2 } }]);
    spec.given([drafted]).when({ type: 'ChangeExpenseClaim', claimId, changes: { lines: fields.lines } }).thenNothing();
    spec.given([drafted]).when({ type: 'ChangeExpenseClaim', claimId, changes: { lines: null } }).thenThrows('expense.field_required');
    const rejected: ExpenseEvent = { type: 'ExpenseClaimRejected', data: { claimId, approvalId: 'ap-1' } };
    expect(fold(expenseDecider, [drafted, submitted, rejected, { type: 'ExpenseClaimChanged', data: { claimId, changes, version: 2 } }])).toMatchObject({ status: 'draft', version: 2, fields: { title: '杭州出差' } });
    const again = { ...request, approvalId: 'ap-2' };
    spec.given([drafted, submitted]).when({ type: 'ChangeExpenseClaim', claimId, changes, resubmit: { ...submission, approval: again, at: 't2' } }).then([
      { type: 'ExpenseClaimChanged', data: { claimId, changes, version: 2 } },
      { type: 'ExpenseClaimSubmitted', data: { claimId, claimantId: 'rep', version: 2, amount: CNY(75_000), overBudget: false, approval: again, supersedes: 'ap-1', at: 't2' } },
    ]);
    expect(() => expenseDecider.decide({ type: 'ChangeExpenseClaim', claimId, changes }, fold(expenseDecider, [drafted, submitted]))).toThrow();
    spec.given([drafted, submitted, approved]).when({ type: 'ChangeExpenseClaim', claimId, changes }).thenThrows('expense.locked');
  });

  it('only an approved claim is paid, never by its claimant, once', () => {
    const paid: ExpenseEvent = { type: 'ExpenseClaimPaid', data: { claimId, paidBy: 'finance', reference: 'BANK-1' } };
    spec.given([drafted, submitted, approved]).when({ type: 'PayExpenseClaim', claimId, by: 'finance', reference: 'BANK-1' }).then([paid]);
    spec.given([drafted, submitted, approved]).when({ type: 'PayExpenseClaim', claimId, by: 'rep' }).thenThrows('expense.own_claim');
    spec.given([drafted, submitted]).when({ type: 'PayExpenseClaim', claimId, by: 'finance' }).thenThrows('expense.not_approved');
    spec.given([drafted, submitted, approved, paid]).when({ type: 'PayExpenseClaim', claimId, by: 'finance' }).thenNothing();
    expect(fold(expenseDecider, [drafted, submitted, approved, paid])).toMatchObject({ status: 'paid' });
  });
});

describe('budget decider', () => {
  const spec = specFor(budgetDecider);
  const budgetFields = { employeeId: 'rep', category: 'travel', month: '2026-11', amount: CNY(100_000) };
  const budgetId = budgetIdFor(budgetFields);
  const set: BudgetEvent = { type: 'BudgetSet', data: { budgetId, fields: budgetFields } };

  it('one per target, category and month: the id follows from them', () => {
    expect(budgetIdFor(budgetFields)).toBe(budgetIdFor({ ...budgetFields }));
    expect(budgetIdFor({ ...budgetFields, month: '2026-12' })).not.toBe(budgetId);
    expect(budgetIdFor({ departmentId: 'rep', category: 'travel', month: '2026-11' })).not.toBe(budgetId);
    spec.given([]).when({ type: 'SetBudget', budgetId, fields: budgetFields }).then([set]);
    spec.given([set]).when({ type: 'SetBudget', budgetId, fields: budgetFields }).thenThrows('budget.already_exists');
    spec.given([]).when({ type: 'SetBudget', budgetId, fields: { category: 'travel', month: '2026-11', amount: CNY(1) } }).thenThrows('budget.target_required');
  });

  it('changes its amount only; is removed, and may be set again', () => {
    spec.given([set]).when({ type: 'ChangeBudget', budgetId, changes: { amount: CNY(120_000) } }).then([{ type: 'BudgetAmountChanged', data: { budgetId, amount: CNY(120_000) } }]);
    spec.given([set]).when({ type: 'ChangeBudget', budgetId, changes: { amount: CNY(100_000), month: '2026-11' } }).thenNothing();
    spec.given([set]).when({ type: 'ChangeBudget', budgetId, changes: { month: '2026-12' } }).thenThrows('budget.key_fixed');
    const removed: BudgetEvent = { type: 'BudgetRemoved', data: { budgetId } };
    spec.given([set]).when({ type: 'RemoveBudget', budgetId }).then([removed]);
    spec.given([set, removed]).when({ type: 'RemoveBudget', budgetId }).thenThrows('budget.not_found');
    spec.given([set, removed]).when({ type: 'SetBudget', budgetId, fields: budgetFields }).then([set]);
    expect(fold(budgetDecider, [set, { type: 'BudgetAmountChanged', data: { budgetId, amount: CNY(1) } }])).toMatchObject({ fields: { amount: CNY(1) } });
    expect(fold(budgetDecider, [set, removed])).toEqual({ status: 'removed', budgetId, fields: budgetFields });
    expect(fold(budgetDecider, [removed])).toEqual({ status: 'none' });
    expect(fold(budgetDecider, [{ type: 'BudgetAmountChanged', data: { budgetId, amount: CNY(1) } }])).toEqual({ status: 'none' });
    spec.given([set]).when({ type: 'ChangeBudget', budgetId, changes: { category: 'travel' } }).thenNothing();
  });

  it('names its target, takes amounts of zero or more, and its refusals name the budget', () => {
    expect(targetKey({ employeeId: 'rep' })).toBe('employee:rep');
    expect(targetKey({ departmentId: 'east' })).toBe('department:east');
    expect(BudgetFields.safeParse({ ...budgetFields, amount: CNY(0) }).success).toBe(true);
    expect(BudgetFields.safeParse({ ...budgetFields, amount: CNY(-1) }).success).toBe(false);
    expect(spec.given([set]).when({ type: 'SetBudget', budgetId, fields: budgetFields }).thenThrows('budget.already_exists').details).toEqual({ budgetId });
    expect(spec.given([]).when({ type: 'RemoveBudget', budgetId }).thenThrows('budget.not_found').details).toEqual({ budgetId });
  });
});
