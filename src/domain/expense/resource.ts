import { z } from 'zod';
import type { ResourceSpec } from '../customization/resources.ts';
import { moveByEvent, revertible } from '../shared/revert.ts';
import { budgetCategory, budgetDecider, budgetEventSchemas, type BudgetState } from '../budget/index.ts';
import { claimTotal, expenseCategory, expenseDecider, expenseEventSchemas, ExpenseStatus, type OpenClaim } from './index.ts';

/** A claim as its read model and `asOf` show it. */
export const expenseView = (state: OpenClaim) => ({
  ...state.fields,
  ownerId: state.ownerId,
  status: state.status,
  version: state.version,
  total: claimTotal(state.fields.lines),
  approvalId: state.approvalId,
  submittedAt: state.submittedAt,
  overBudget: state.overBudget,
  categories: [...new Set(state.fields.lines.map((line) => line.category))],
});

const optional = (schema: z.ZodType) => schema.optional();
const id = () => optional(z.string().max(100));

/** The file types a receipt may be: images and PDFs. */
export const RECEIPT_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;

/** Expense claims as a record type (费用报销): the claimant owns them; receipts are attachments. */
export const expenseResource = {
  name: 'expenses',
  singular: 'expense',
  tag: 'Expenses 费用报销',
  module: 'expenses',
  category: expenseCategory,
  decider: expenseDecider,
  scope: { by: 'owner' },
  referenceField: 'claimId',
  personalFields: [],
  customerReference: 'customerId',
  standardFields: ['title', 'lines', 'customerId', 'opportunityId', 'campaignId', 'ownerId', 'status', 'total', 'approvalId', 'submittedAt', 'overBudget', 'createdAt', 'updatedAt'],
  relatedPanels: [],
  list: {
    filters: {
      q: optional(z.string().trim().min(1).max(200)),
      status: optional(ExpenseStatus),
      ownerId: id(),
      customerId: id(),
      opportunityId: id(),
      campaignId: id(),
      categories: optional(z.string().max(40)).describe('Claims with a line of this category'),
    },
    sorts: ['createdAt', 'updatedAt', 'submittedAt', 'total.amount'],
    defaultSort: '-createdAt',
  },
  search: ['title', 'lines.description'],
  attachments: true,
  attachmentTypes: RECEIPT_TYPES,
  references: { customerId: 'customers', opportunityId: 'opportunities', campaignId: 'campaigns' },
  events: expenseEventSchemas,
  ...revertible(expenseDecider, 'claimId', { moves: { customerId: moveByEvent('ExpenseClaimMoved', 'claimId') } }),
  readModel: { version: 1, view: expenseView },
} as const satisfies ResourceSpec;

/** Budgets as a record type (费用预算): company-wide for whoever holds the budgets module. */
export const budgetResource = {
  name: 'budgets',
  singular: 'budget',
  tag: 'Budgets 费用预算',
  module: 'budgets',
  category: budgetCategory,
  decider: budgetDecider,
  scope: { by: 'company' },
  personalFields: [],
  standardFields: ['employeeId', 'departmentId', 'category', 'month', 'amount', 'status', 'createdAt', 'updatedAt'],
  relatedPanels: [],
  list: {
    filters: { month: optional(z.string().max(7)), employeeId: id(), departmentId: id(), category: optional(z.string().max(40)) },
    sorts: ['month', 'createdAt', 'updatedAt'],
    defaultSort: '-month',
  },
  search: [],
  attachments: false,
  events: budgetEventSchemas,
  readModel: { version: 1, view: (state: Extract<BudgetState, { status: 'active' | 'removed' }>) => ({ ...state.fields, status: state.status }), gone: (state: BudgetState) => state.status === 'removed' },
} as const satisfies ResourceSpec;
