import { expenseCategory, type ExpenseEvent, type ExpenseLine } from '../domain/expense/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { counterDocs, CounterDeltas, monthly } from './counters.ts';
import { ORG, ownerPath } from './org.ts';
import { alreadyApplied, type Projection } from './projection.ts';

/** Expense counters per day of the expense (the line's date) and currency, one collection per report grouping. */
export const EXPENSES_BY = {
  employee: 'expenses_employees',
  category: 'expenses_categories',
  customer: 'expenses_customers',
  campaign: 'expenses_campaigns',
  department: 'expenses_departments',
} as const;
export type ExpenseGroup = keyof typeof EXPENSES_BY;
export const GROUP_FIELD: Record<ExpenseGroup, string> = { employee: 'employeeId', category: 'category', customer: 'customerId', campaign: 'campaignId', department: 'departmentId' };
/** Budget actuals per target (`employee:<id>`, `department:<id>` for each department up the claimant's tree), category, month and currency. */
export const BUDGET_ACTUALS = 'budget_actuals';
const EXPENSE_MIRROR = 'expense_mirror';

/** What is counted: submitted (waiting, approved or paid), approved (approved or paid), paid. Rejected and recalled claims count nowhere. */
export const EXPENSE_MEASURES = ['submitted', 'approved', 'paid'] as const;
type Stage = 'draft' | 'submitted' | 'approved' | 'rejected' | 'paid';
type MirrorLine = { category: string; day: string; amount: number; currency: string };
type Mirror = Doc & { ownerId: string; departmentPath: string; customerId: string | null; campaignId: string | null; lines: MirrorLine[]; stage: Stage; _position: number };

const measuresOf = (stage: Stage): Record<string, number> => ({ submitted: stage === 'submitted' || stage === 'approved' || stage === 'paid' ? 1 : 0, approved: stage === 'approved' || stage === 'paid' ? 1 : 0, paid: stage === 'paid' ? 1 : 0 });
const mirrorLines = (lines: readonly ExpenseLine[]): MirrorLine[] => lines.map((line) => ({ category: line.category, day: line.date, amount: line.amount.amount, currency: line.amount.currency }));
const departmentsOf = (path: string) => path.split('/').filter(Boolean);

/** Adds (sign 1) or takes away (sign -1) what a claim in this state counts for. */
function count(deltas: CounterDeltas, claim: Mirror, sign: number): void {
  const weights = measuresOf(claim.stage);
  if (weights.submitted === 0) return;
  const departments = departmentsOf(claim.departmentPath);
  const none = '';
  for (const line of claim.lines) {
    const inc = Object.fromEntries(EXPENSE_MEASURES.map((m) => [m, weights[m]! * line.amount]));
    // Every counter carries the claimant, so a report reads only the claimants in the caller's scope.
    const base = { day: line.day, currency: line.currency, employeeId: claim.ownerId };
    deltas.add(EXPENSES_BY.employee, base, inc, sign);
    deltas.add(EXPENSES_BY.category, { ...base, category: line.category }, inc, sign);
    deltas.add(EXPENSES_BY.customer, { ...base, customerId: claim.customerId ?? none }, inc, sign);
    deltas.add(EXPENSES_BY.campaign, { ...base, campaignId: claim.campaignId ?? none }, inc, sign);
    deltas.add(EXPENSES_BY.department, { ...base, departmentId: departments.at(-1) ?? none }, inc, sign);
    const month = line.day.slice(0, 7);
    for (const target of [`employee:${claim.ownerId}`, ...departments.map((id) => `department:${id}`)]) deltas.add(BUDGET_ACTUALS, { target, category: line.category, month, currency: line.currency }, inc, sign);
  }
}

/**
 * Expense counters (the expenses report, budget against actual). Each claim's contribution follows its status:
 * when a claim changes, what it counted for before is taken away and what it counts for now is added, in one
 * set of counter updates that remember the event applied.
 */
export const expensesProjection: Projection = {
  name: 'expense_counters',
  version: 1,
  categories: [expenseCategory],
  collections: [EXPENSE_MIRROR, BUDGET_ACTUALS, ...Object.values(EXPENSES_BY).flatMap((c) => [c, monthly(c)])],
  reads: [ORG.employees],
  async setup(store) {
    for (const collection of Object.values(EXPENSES_BY)) {
      await store.collection(collection).createIndex({ day: 1 });
      await store.collection(monthly(collection)).createIndex({ month: 1 });
    }
    await store.collection(BUDGET_ACTUALS).createIndex({ target: 1, month: 1 });
  },
  async apply(event, store) {
    const e = event as RecordedEvent & ExpenseEvent;
    const mirrors = store.collection<Mirror>(EXPENSE_MIRROR);
    const claimId = e.data.claimId;
    const before = await mirrors.findOne({ _id: claimId });
    if (alreadyApplied(before, event)) return;
    let after: Mirror;
    if (e.type === 'ExpenseClaimDrafted') {
      const { fields, ownerId } = e.data;
      after = { _id: claimId, ownerId, departmentPath: await ownerPath(store, ORG, ownerId), customerId: fields.customerId ?? null, campaignId: fields.campaignId ?? null, lines: mirrorLines(fields.lines), stage: 'draft', _position: 0 };
    } else {
      if (!before) return;
      after = { ...before };
      switch (e.type) {
        case 'ExpenseClaimChanged': {
          const changes = e.data.changes as { lines?: ExpenseLine[]; customerId?: string | null; campaignId?: string | null };
          if (changes.lines) after.lines = mirrorLines(changes.lines);
          if ('customerId' in changes) after.customerId = changes.customerId ?? null;
          if ('campaignId' in changes) after.campaignId = changes.campaignId ?? null;
          if (before.stage === 'rejected') after.stage = 'draft';
          break;
        }
        case 'ExpenseClaimSubmitted':
          after.stage = 'submitted';
          break;
        case 'ExpenseClaimRecalled':
          after.stage = 'draft';
          break;
        case 'ExpenseClaimApproved':
          after.stage = 'approved';
          break;
        case 'ExpenseClaimRejected':
          after.stage = 'rejected';
          break;
        case 'ExpenseClaimPaid':
          after.stage = 'paid';
          break;
        case 'ExpenseClaimMoved':
          after.customerId = e.data.customerId ?? null;
          break;
      }
    }
    after._position = Number(event.position);
    const deltas = new CounterDeltas();
    if (before) count(deltas, before, -1);
    count(deltas, after, 1);
    await deltas.apply(store, event);
    await mirrors.replaceOne({ _id: claimId }, after, { upsert: true });
  },
};

type Counter = Doc & { currency: string } & Partial<Record<(typeof EXPENSE_MEASURES)[number], number>> & Record<string, unknown>;

/**
 * The expenses report in [from, to) (the days the expenses were incurred), grouped by one dimension, per currency,
 * summed from the counters (whole months from the monthly twins). `owners`: the claimants the caller's scope covers
 * (null: everyone).
 */
export async function expensesReport(store: ReadStore, query: { from: string; to: string; groupBy: ExpenseGroup }, owners: string[] | null) {
  const field = GROUP_FIELD[query.groupBy];
  const match = owners ? { employeeId: { $in: owners } } : {};
  const docs = await counterDocs<Counter>(store, EXPENSES_BY[query.groupBy], { from: query.from, to: query.to }, match);
  const sums = new Map<string, { key: string; currency: string; submitted: number; approved: number; paid: number }>();
  for (const doc of docs) {
    const key = String(doc[field] ?? '');
    const id = `${key}\u0000${doc.currency}`;
    let row = sums.get(id);
    if (!row) sums.set(id, (row = { key, currency: doc.currency, submitted: 0, approved: 0, paid: 0 }));
    for (const measure of EXPENSE_MEASURES) row[measure] += doc[measure] ?? 0;
  }
  const money = (amount: number, currency: string) => ({ amount, currency });
  return {
    groupBy: query.groupBy,
    items: [...sums.values()]
      .filter((row) => row.submitted !== 0 || row.approved !== 0 || row.paid !== 0)
      .sort((a, b) => b.submitted - a.submitted || a.key.localeCompare(b.key) || a.currency.localeCompare(b.currency))
      .map((row) => ({ [field]: row.key || null, submitted: money(row.submitted, row.currency), approved: money(row.approved, row.currency), paid: money(row.paid, row.currency) })),
  };
}

export type BudgetActualDoc = Doc & { target: string; category: string; month: string; currency: string } & Record<(typeof EXPENSE_MEASURES)[number], number>;

/** The actuals of a target, category and month per currency. */
export const budgetActuals = (store: ReadStore, keys: { target: string; category: string; month: string }[]) =>
  keys.length === 0 ? Promise.resolve([]) : store.collection<BudgetActualDoc>(BUDGET_ACTUALS).find({ $or: keys.map((key) => ({ ...key })) });

/** What a claim counts for now in the budget actuals (so a resubmission is not counted twice when checking a budget). */
export const claimMirror = (store: ReadStore, claimId: string) => store.collection<Mirror>(EXPENSE_MIRROR).findOne({ _id: claimId });
