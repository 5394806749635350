import { z } from 'zod';
import { changeBudget, changeExpenseClaim, draftExpenseClaim, expenseCategories, expenseSettings, ExpenseSettings, payExpenseClaim, recallExpenseClaim, removeBudget, setBudget, submitExpenseClaim } from '../../commands/expenses.ts';
import { BudgetFields, type BudgetState, Month, targetKey } from '../../domain/budget/index.ts';
import { ExpenseFields, ExpenseStatus, type ExpenseState } from '../../domain/expense/index.ts';
import { expenseView } from '../../domain/expense/resource.ts';
import { Money } from '../../domain/shared/money.ts';
import type { Doc } from '../../infra/readstore/port.ts';
import { APPROVAL_TURNAROUND, quantileHours, TURNAROUND_BUCKET_LABELS, turnaroundBucketField } from '../../projections/approvals.ts';
import { BUDGET_ACTUALS, type BudgetActualDoc, EXPENSES_BY, expensesReport } from '../../projections/expenses.ts';
import { fieldColumns } from '../csv.ts';
import { kindRoutes } from '../kind-routes.ts';
import { recordAction, recordRoutes } from '../records.ts';
import { reportRoute, reportScope } from '../report-routes.ts';
import { EmptyBody, type AnyRoute, Id } from '../route.ts';
import { settingRoutes } from '../setting-routes.ts';

const tags = ['Expenses 费用报销'];

const ExpenseView = ExpenseFields.extend({
  id: z.string(),
  revision: z.number().int(),
  ownerId: z.string().describe('The claimant'),
  status: ExpenseStatus,
  version: z.number().int().describe('1 when drafted, one more with each change: what an approval is bound to'),
  total: Money,
  approvalId: z.string().nullable().describe('The approval the claim waits on or was decided by (null: none was needed)'),
  submittedAt: z.string().nullable(),
  overBudget: z.boolean().describe('Whether the last submission took a budget over'),
  categories: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: 'ExpenseClaim' });

const ExpenseInput = ExpenseFields.strict().meta({
  id: 'ExpenseClaimInput',
  examples: [{ title: '华东客户拜访', lines: [{ category: 'travel', amount: { amount: 86_000, currency: 'CNY' }, date: '2026-11-20', description: '上海—杭州高铁及住宿' }], customerId: '0193…' }],
});

const categories = kindRoutes({
  kinds: expenseCategories,
  module: 'expenses',
  tags,
  offeredPath: '/api/v1/expenses/categories',
  settingsPath: '/api/v1/settings/expense-categories',
  what: { one: 'category', many: 'expense categories', record: 'an expense line', builtIn: 'travel, entertainment, gifts, marketing, other' },
});

const BudgetView = BudgetFields.extend({ id: z.string(), revision: z.number().int(), status: z.enum(['active', 'removed']), createdAt: z.string(), updatedAt: z.string() }).meta({ id: 'Budget' });
const BudgetInput = BudgetFields.strict()
  .refine((b) => !b.employeeId !== !b.departmentId, { message: 'name either employeeId or departmentId', path: ['employeeId'] })
  .meta({ id: 'BudgetInput', examples: [{ departmentId: '0193…', category: 'entertainment', month: '2026-12', amount: { amount: 5_000_000, currency: 'CNY' } }] });

const Range = {
  from: z.iso.date().describe('First day of the expenses, inclusive'),
  to: z.iso.date().describe('Last day, exclusive'),
};
const ExpenseReportQuery = z
  .object({ ...Range, groupBy: z.enum(['employee', 'category', 'customer', 'campaign', 'department']).default('employee'), departmentId: Id.optional().describe('Only the claimants of this department and below (within your scope)') })
  .strict()
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] });
const BudgetReportQuery = z
  .object({ from: Month.describe('First month, inclusive'), to: Month.describe('Last month, inclusive'), employeeId: Id.optional(), departmentId: Id.optional(), category: z.string().max(40).optional() })
  .strict()
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['from'] });
const TurnaroundQuery = z
  .object({ from: Month.describe('First month of the decisions, inclusive'), to: Month.describe('Last month, inclusive'), kind: z.enum(['expense', 'quote', 'order']).optional() })
  .strict()
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['from'] });

/** Expense claims (费用报销), budgets (费用预算) and their reports. */
export const expenseRoutes: AnyRoute[] = [
  categories.offered,
  ...recordRoutes<ExpenseState>({
    resource: 'expenses',
    view: ExpenseView,
    pageSchemaId: 'ExpenseClaimPage',
    columns: fieldColumns('id', 'title', 'ownerId', 'status', 'total', 'customerId', 'opportunityId', 'campaignId', 'submittedAt', 'createdAt', 'updatedAt'),
    asOfView: (state) => (state.status === 'none' ? {} : expenseView(state)),
    create: {
      summary: 'Draft an expense claim of your own: lines (category, amount, date, description) in one currency, optionally for a customer, opportunity or campaign',
      description: 'Categories: the built-in ones or those an administrator added (GET /api/v1/expenses/categories). Attach receipts (images or PDFs) with POST /api/v1/expenses/:id/attachments; a line over the company\'s amount needs one before the claim is submitted.',
      body: ExpenseInput,
      run: ({ body, actor, services, meta }) => draftExpenseClaim(services.deps, body as never, actor, meta),
    },
    patch: {
      summary: 'Change a claim (a draft, a rejected one, or one waiting on approval: that one asks again, its pending approval is invalidated)',
      fields: ExpenseFields,
      schemaId: 'ExpenseClaimPatch',
      run: ({ params, body, actor, services, meta }) => changeExpenseClaim(services.deps, services.readStore, params.id, body, actor, meta),
    },
    actions: [
      recordAction({
        action: 'submit',
        summary: 'Submit the claim: the strictest applying approval policy decides who approves it (none applies: it is approved at once)',
        description: 'Refused with 409 expense.receipt_required (naming the lines) while a line over the company\'s amount has no receipt; 409 approval.no_approver when a step has nobody to take it. Over a budget, the policies\' overBudget condition applies.',
        body: EmptyBody,
        writes: ['status'],
        done: 'Submitted',
        run: ({ params, actor, services, meta }) => submitExpenseClaim(services.deps, services.readStore, params.id, actor, meta),
      }),
      recordAction({
        action: 'recall',
        summary: 'Take a waiting claim back to draft (its approval is recalled; the steps taken stay in its history)',
        body: EmptyBody,
        writes: ['status'],
        done: 'Recalled',
        run: ({ params, actor, services, meta }) => recallExpenseClaim(services.deps, params.id, actor, meta),
      }),
      recordAction({
        action: 'pay',
        summary: 'Record that an approved claim was paid (takes expenses approve; nobody pays their own claim)',
        body: z.object({ reference: z.string().trim().min(1).max(200).optional().describe('The payment reference (e.g. the bank transfer)') }).strict(),
        bodyNamesFields: false,
        permission: 'approve',
        writes: ['status'],
        done: 'Paid',
        run: ({ params, body, actor, services, meta }) => payExpenseClaim(services.deps, params.id, body.reference, actor, meta),
      }),
    ],
  }),
  ...categories.settings,
  ...settingRoutes({
    path: '/api/v1/settings/expenses',
    tags,
    schema: ExpenseSettings,
    read: { summary: 'The expense rules: the amount over which a line needs a receipt', done: 'Settings' },
    write: { summary: 'Change the expense rules', done: 'Changed' },
    load: expenseSettings.read,
    save: ({ body, actor, services, meta }) => expenseSettings.write(services.deps, body, actor, meta),
  }),
  ...recordRoutes<BudgetState>({
    resource: 'budgets',
    view: BudgetView,
    pageSchemaId: 'BudgetPage',
    columns: fieldColumns('id', 'employeeId', 'departmentId', 'category', 'month', 'amount', 'createdAt', 'updatedAt'),
    asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, status: state.status }),
    create: {
      summary: 'Set a budget (费用预算) for an employee or a department (its sub-departments included), an expense category and a month',
      description: 'One per employee or department, category and month (409 budget.already_exists names it: change its amount instead). Claims over it meet the approval policies\' overBudget condition; GET /api/v1/reports/budgets compares it with the claims.',
      body: BudgetInput,
      run: ({ body, actor, services, meta }) => setBudget(services.deps, body as never, actor, meta),
    },
    patch: {
      summary: "Change a budget's amount (its target, category and month stay)",
      fields: BudgetFields,
      schemaId: 'BudgetPatch',
      run: ({ params, body, actor, services, meta }) => changeBudget(services.deps, params.id, body, actor, meta),
    },
    remove: { summary: 'Remove a budget', done: 'Removed', run: ({ params, actor, services, meta }) => removeBudget(services.deps, params.id, actor, meta) },
  }),
  reportRoute({
    name: 'expenses',
    summary: 'Expenses (费用统计) in [from, to) by employee, category, customer, campaign or department: submitted, approved and paid, per currency, from pre-aggregated counters',
    answer: 'The expenses report',
    reads: Object.values(EXPENSES_BY),
    query: ExpenseReportQuery,
    async compute(query, actor, services) {
      return expensesReport(services.readStore, query, await reportScope(services, actor, query));
    },
  }),
  reportRoute({
    name: 'budgets',
    summary: 'Budget against actual (预算执行) per month: each budget in the months asked with what was submitted, approved and paid against it',
    answer: 'Budgets with their actuals',
    reads: ['budgets', BUDGET_ACTUALS],
    query: BudgetReportQuery,
    async compute(query, actor, services) {
      const owners = await reportScope(services, actor, {});
      const filter: Record<string, unknown> = { month: { $gte: query.from, $lte: query.to }, status: 'active' };
      for (const field of ['employeeId', 'departmentId', 'category'] as const) if (query[field]) filter[field] = query[field];
      let budgets = await services.readStore.collection<Doc & z.infer<typeof BudgetFields>>('budgets').find(filter, { sort: { month: 1, _id: 1 }, limit: 5000 });
      // A scoped caller sees the budgets of the people their scope covers (department budgets need an unrestricted scope).
      if (owners) budgets = budgets.filter((b) => b.employeeId !== undefined && owners.includes(b.employeeId));
      const actuals = budgets.length ? await services.readStore.collection<BudgetActualDoc>(BUDGET_ACTUALS).find({ $or: budgets.map((b) => ({ target: targetKey(b), category: b.category, month: b.month, currency: b.amount.currency })) }) : [];
      const actualOf = (b: (typeof budgets)[number]) => actuals.find((a) => a.target === targetKey(b) && a.category === b.category && a.month === b.month && a.currency === b.amount.currency);
      const money = (amount: number, currency: string) => ({ amount, currency });
      return {
        items: budgets.map((b) => {
          const actual = actualOf(b);
          const currency = b.amount.currency;
          return {
            budgetId: b._id,
            employeeId: b.employeeId ?? null,
            departmentId: b.departmentId ?? null,
            category: b.category,
            month: b.month,
            budget: b.amount,
            submitted: money(actual?.submitted ?? 0, currency),
            approved: money(actual?.approved ?? 0, currency),
            paid: money(actual?.paid ?? 0, currency),
            remaining: money(b.amount.amount - (actual?.submitted ?? 0), currency),
            usedPercent: b.amount.amount === 0 ? null : Math.round(((actual?.submitted ?? 0) * 1000) / b.amount.amount) / 10,
          };
        }),
      };
    },
  }),
  reportRoute({
    name: 'approval-turnaround',
    summary: 'Approval turnaround (审批时效) per kind and step: a histogram of the business hours each decision waited, with the median and p90 read from it',
    answer: 'The turnaround per kind and step',
    reads: [APPROVAL_TURNAROUND],
    query: TurnaroundQuery,
    // Company-wide figures of how long decisions took (no document, amount or person in them).
    async compute(query, _actor, services) {
      const docs = await services.readStore.collection<Doc & Record<string, unknown>>(APPROVAL_TURNAROUND).find({ month: { $gte: query.from, $lte: query.to }, ...(query.kind ? { kind: query.kind } : {}) });
      const rows = new Map<string, { kind: string; step: number; count: number; minutes: number; buckets: number[] }>();
      for (const doc of docs) {
        const key = `${doc.kind}|${doc.step}`;
        let row = rows.get(key);
        if (!row) rows.set(key, (row = { kind: String(doc.kind), step: Number(doc.step), count: 0, minutes: 0, buckets: TURNAROUND_BUCKET_LABELS.map(() => 0) }));
        row.count += Number(doc.count ?? 0);
        row.minutes += Number(doc.minutes ?? 0);
        row.buckets = row.buckets.map((n, i) => n + Number(doc[turnaroundBucketField(i)] ?? 0));
      }
      return {
        bucketsHours: TURNAROUND_BUCKET_LABELS,
        items: [...rows.values()]
          .sort((a, b) => a.kind.localeCompare(b.kind) || a.step - b.step)
          .map((row) => ({ kind: row.kind, step: row.step, decisions: row.count, histogram: row.buckets, averageHours: row.count ? Math.round((row.minutes / row.count / 60) * 10) / 10 : null, medianHours: quantileHours(row.buckets, 0.5), p90Hours: quantileHours(row.buckets, 0.9) })),
      };
    },
  }),
];
