import type { Services } from '../app/wiring.ts';
import { actorOf } from '../commands/access.ts';
import { defineApprovalPolicy } from '../commands/approval-policies.ts';
import { actOnOutcome } from '../commands/approval-process.ts';
import { decideApprovalStep } from '../commands/approvals.ts';
import { addAttachment } from '../commands/attachments.ts';
import type { Actor, RequestMeta } from '../commands/context.ts';
import { systemActor } from '../commands/employees.ts';
import { draftExpenseClaim, payExpenseClaim, setBudget, submitExpenseClaim } from '../commands/expenses.ts';
import { changeRole } from '../commands/org.ts';
import type { ApprovalPolicyFields } from '../domain/approval/policy.ts';
import type { ExpenseLine } from '../domain/expense/index.ts';
import { prng } from './seed-data.ts';

const CNY = (yuan: number) => ({ amount: Math.round(yuan * 100), currency: 'CNY' });
/** A one-page PDF standing in for a scanned receipt. */
const RECEIPT = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

const POLICIES: ApprovalPolicyFields[] = [
  { name: '费用报销审批', kind: 'expense', conditions: {}, steps: [{ approver: 'manager' }] },
  { name: '大额或超预算报销', kind: 'expense', conditions: { overBudget: true }, steps: [{ approver: 'manager' }, { approver: 'managers_manager' }] },
  { name: '报价折扣审批', kind: 'quote', conditions: { discountOverRoleMax: true }, steps: [{ approver: 'manager' }] },
  { name: '超信用额度订单', kind: 'order', conditions: { overCredit: true }, steps: [{ approver: 'manager' }, { approver: 'managers_manager' }] },
];

const TRIPS: [string, string, number][] = [
  ['travel', '拜访客户高铁票', 553],
  ['travel', '出差住宿两晚', 860],
  ['entertainment', '客户工作餐', 420],
  ['gifts', '客户节日礼品', 300],
  ['marketing', '展会资料印刷', 1200],
  ['other', '快递及打印', 86],
  ['travel', '市内打车', 128],
];

/**
 * Expense claims in every status, budgets, and a few approvals waiting: the approval policies and the salesperson
 * role's discount maximum as a demo company would set them; this month's travel and entertainment budgets for each
 * salesperson; per salesperson a draft, a claim waiting for the manager, one approved, one rejected, one paid
 * (by the sales director), and an over-budget claim waiting at its second step. Written through the commands,
 * as each person.
 */
export async function seedExpenses(services: Services, people: { salespeople: string[]; director: string; salespersonRoleId: string }) {
  const { deps } = services;
  const random = prng(41);
  const meta = (): RequestMeta => services.requestMeta('seed');
  const caughtUp = async () => services.runner.waitFor(await services.eventStore.headPosition(), 120_000);
  const actors = new Map<string, Actor>();
  const as = async (userId: string) => {
    if (!actors.has(userId)) actors.set(userId, (await actorOf(deps, userId)) ?? { ...systemActor, userId });
    return actors.get(userId)!;
  };
  for (const policy of POLICIES) await defineApprovalPolicy(deps, policy, systemActor, meta());
  await changeRole(deps, people.salespersonRoleId, { maxDiscountPercent: 10 }, systemActor, meta());
  const month = new Date(deps.clock.now().getTime() + 8 * 3_600_000).toISOString().slice(0, 7);
  const day = (n: number) => `${month}-${String(Math.min(28, n)).padStart(2, '0')}`;
  for (const employeeId of people.salespeople) {
    await setBudget(deps, { employeeId, category: 'travel', month, amount: CNY(3000) }, systemActor, meta());
    await setBudget(deps, { employeeId, category: 'entertainment', month, amount: CNY(1500) }, systemActor, meta());
  }
  await caughtUp();
  const counts = { claims: 0, draft: 0, submitted: 0, approved: 0, rejected: 0, paid: 0, budgets: people.salespeople.length * 2 };
  const claim = async (ownerId: string, lines: ExpenseLine[], title: string) => {
    const owner = await as(ownerId);
    const { claimId } = await draftExpenseClaim(deps, { title, lines }, owner, meta());
    for (const [i, line] of lines.entries()) {
      if (line.amount.amount <= 20_000) continue;
      const sha256 = await services.blobs.put(RECEIPT);
      await addAttachment(deps, { resource: 'expenses', recordId: claimId, name: `receipt-${i + 1}.pdf`, contentType: 'application/pdf', size: RECEIPT.length, sha256 }, owner, meta());
    }
    counts.claims += 1;
    return claimId;
  };
  const submit = async (ownerId: string, claimId: string) => {
    const result = await submitExpenseClaim(deps, services.readStore, claimId, await as(ownerId), meta());
    await caughtUp();
    return (result.state as { approvalId: string | null }).approvalId;
  };
  const decide = async (approvalId: string, approverId: string, outcome: 'approved' | 'rejected', comment?: string) => {
    const m = meta();
    await decideApprovalStep(deps, services.readStore, approvalId, { outcome, ...(comment ? { comment } : {}) }, await as(approverId), m);
    await actOnOutcome(deps, approvalId, m);
    await caughtUp();
  };
  const line = (n: number, date: string): ExpenseLine => {
    const [category, description, yuan] = TRIPS[n % TRIPS.length]!;
    return { category, amount: CNY(Math.round(yuan * (0.8 + random() * 0.4))), date, description };
  };
  const waitingOn = async (approvalId: string) => (await services.readStore.collection<{ _id: string; currentApproverId: string | null }>('approvals').findOne({ _id: approvalId }))?.currentApproverId ?? null;
  for (const [index, ownerId] of people.salespeople.entries()) {
    const n = index * 3;
    await claim(ownerId, [line(n, day(2)), line(n + 1, day(2))], '本月客户拜访（草稿）');
    counts.draft += 1;
    const pending = await claim(ownerId, [line(n + 2, day(3))], '客户拜访');
    await submit(ownerId, pending);
    counts.submitted += 1;
    for (const [outcome, title] of [['approved', '展会出差'], ['rejected', '客户招待'], ['paid', '上月差旅']] as const) {
      const id = await claim(ownerId, [line(n + 3, day(1)), line(n + 5, day(1))], title);
      const approvalId = await submit(ownerId, id);
      const approverId = approvalId && (await waitingOn(approvalId));
      if (!approvalId || !approverId) continue;
      await decide(approvalId, approverId, outcome === 'rejected' ? 'rejected' : 'approved', outcome === 'rejected' ? '招待标准超出规定，请补充说明' : '同意');
      if (outcome === 'paid') {
        await payExpenseClaim(deps, id, `BANK-${month.replace('-', '')}-${String(index + 1).padStart(3, '0')}`, await as(people.director), meta());
        counts.paid += 1;
      } else counts[outcome] += 1;
    }
    // Over this month's travel budget: waits for the manager's manager after the manager approved.
    if (index % 2 === 0) {
      const over = await claim(ownerId, [{ category: 'travel', amount: CNY(2600), date: day(5), description: '北京出差机票及住宿' }], '北京出差');
      const approvalId = await submit(ownerId, over);
      const approverId = approvalId && (await waitingOn(approvalId));
      if (approvalId && approverId) await decide(approvalId, approverId, 'approved', '情况属实');
      counts.submitted += 1;
    }
  }
  await caughtUp();
  return counts;
}
