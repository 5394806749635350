import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalProcess } from '../../src/commands/approval-process.ts';
import { decideApprovalStep } from '../../src/commands/approvals.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import type { Actor } from '../../src/commands/context.ts';
import { multipartFile } from '../support/multipart.ts';
import { expectProblem } from '../support/problem.ts';
import { acting } from '../support/acting.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const HOUR = 3_600_000;
type User = { userId: string; token: string; actor: Actor };
const CNY = (amount: number) => ({ amount, currency: 'CNY' });
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]), Buffer.alloc(2000, 0x11)]);
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(1500, 0x20), Buffer.from('\n%%EOF\n')]);
/** A Windows executable, renamed to look like a receipt. */
const EXE = Buffer.concat([Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00]), Buffer.alloc(1000)]);
const MAX_BYTES = 256 * 1024;

/**
 * Expense claims (费用报销) through the approval engine. Company time Asia/Shanghai; business hours 09:00–18:00
 * local are 01:00–10:00 UTC. 2026-11-23 is a Monday.
 */
describe('expense claims, budgets and approvals', () => {
  const clock = new ManualClock(new Date('2026-11-23T02:00:00.000Z'));
  const dataDir = mkdtempSync(join(tmpdir(), 'crm-expenses-'));
  let app: TestApp;
  let seller: User; // 销售 in Sales east
  let colleague: User; // another seller in Sales east
  let lead: User; // Sales east's manager
  let director: User; // Sales's manager (the manager's manager)
  let deputy: User; // the lead's delegate
  let finance: User; // pays claims
  let outsider: User; // a seller elsewhere
  let auditor: User; // reads a named step's documents, scope own
  const users: [User, string][] = [];
  const { caughtUp, as, ok } = acting(() => app);
  const upload = (user: User, claimId: string, name: string, bytes: Buffer) => app.request('POST', `/api/v1/expenses/${claimId}/attachments`, { token: user.token, ...multipartFile(name, bytes) });
  const claim = (id: string, user: User = seller) => ok(user, 'GET', `/api/v1/expenses/${id}`);
  const waiting = async (user: User) => (await ok(user, 'GET', '/api/v1/me/approvals')).items as { id: string; documentId: string; step: number; approverId: string; asDelegate: boolean }[];
  const advance = async (ms: number) => {
    clock.advance(ms);
    for (const [user, name] of users) user.token = await app.login(name, `${name}-password-1`);
    await caughtUp();
    const fired = await app.services.timers.tick();
    await caughtUp();
    return fired;
  };
  const blobFiles = () => (existsSync(join(dataDir, 'blobs')) ? readdirSync(join(dataDir, 'blobs'), { recursive: true }).length : 0);

  beforeAll(async () => {
    app = await startTestApp({ CRM_DATA_DIR: dataDir, CRM_ATTACHMENT_MAX_BYTES: String(MAX_BYTES) }, { clock, timers: [approvalProcess] });
    const sales = await app.department('Sales');
    const east = await app.department('Sales east', sales);
    const finances = await app.department('Finance');
    const make = async (name: string, roles: string[], department: string) => {
      const user = await app.userWithToken(name, roles, department);
      users.push([user, name]);
      return user;
    };
    seller = await make('exp.seller', ['salesperson'], east);
    colleague = await make('exp.colleague', ['salesperson'], east);
    lead = await make('exp.lead', ['manager'], east);
    director = await make('exp.director', ['manager'], sales);
    deputy = await make('exp.deputy', ['manager'], east);
    finance = await make('exp.finance', ['admin'], finances);
    outsider = await make('exp.outsider', ['salesperson'], await app.department('Elsewhere'));
    // An own-scope reviewer who may approve expenses, named by a policy: reads what waits on them, only then.
    const reviewerRole = (await app.request('POST', '/api/v1/roles', { body: { name: 'Expense reviewer', permissions: { expenses: ['view', 'approve'], approvals: ['view'] }, dataScope: 'own' } })).body.id;
    auditor = await make('exp.reviewer', [], finances);
    await app.request('PATCH', `/api/v1/employees/${auditor.userId}`, { body: { roleIds: [reviewerRole] } });
    auditor.token = await app.login('exp.reviewer', 'exp.reviewer-password-1');
    await app.request('PATCH', `/api/v1/departments/${east}`, { body: { managerId: lead.userId } });
    await app.request('PATCH', `/api/v1/departments/${sales}`, { body: { managerId: director.userId } });
    // Every claim: the manager. Over budget: the manager, then the manager's manager (the strictest wins).
    await ok(finance, 'POST', '/api/v1/settings/approval-policies', { name: '报销审批', kind: 'expense', conditions: {}, steps: [{ approver: 'manager' }] });
    await ok(finance, 'POST', '/api/v1/settings/approval-policies', { name: '超预算报销', kind: 'expense', conditions: { overBudget: true }, steps: [{ approver: 'manager' }, { approver: 'managers_manager' }] });
    await ok(finance, 'POST', '/api/v1/budgets', { employeeId: seller.userId, category: 'travel', month: '2026-11', amount: CNY(100_000) });
  });
  afterAll(async () => app.close());

  it('a claim journey: receipts required and sniffed, one step within budget, two over it, rejection, resubmission, payment', async () => {
    // Lines over 200.00 CNY need a receipt each.
    const first = await ok(seller, 'POST', '/api/v1/expenses', {
      title: '杭州客户拜访',
      lines: [
        { category: 'travel', amount: CNY(60_000), date: '2026-11-20', description: '高铁及住宿' },
        { category: 'entertainment', amount: CNY(15_000), date: '2026-11-20', description: '工作餐' },
      ],
    });
    expect(await claim(first.id)).toMatchObject({ status: 'draft', ownerId: seller.userId, total: CNY(75_000), version: 1, categories: ['travel', 'entertainment'] });
    expectProblem(await as(seller, 'POST', `/api/v1/expenses/${first.id}/submit`, {}), 409, 'expense.receipt_required');
    // A renamed executable and an Office document are refused; a photographed receipt is kept.
    expectProblem(await upload(seller, first.id, 'receipt.pdf', EXE), 415, 'attachment.type_not_allowed');
    expectProblem(await upload(seller, first.id, 'receipt.docx', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100)])), 415, 'attachment.type_not_allowed');
    const receipt = await upload(seller, first.id, '高铁票.jpg', JPEG);
    expect(receipt.status, receipt.text).toBe(201);
    expect(receipt.body).toMatchObject({ id: expect.any(String), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: JPEG.length, contentType: 'image/jpeg' });
    await ok(seller, 'POST', `/api/v1/expenses/${first.id}/submit`, {});
    const submitted = await claim(first.id);
    expect(submitted).toMatchObject({ status: 'submitted', overBudget: false, approvalId: expect.any(String) });
    // Within budget: one step, the seller's manager; never the seller themselves.
    expect(await waiting(seller)).toEqual([]);
    expect(await waiting(lead)).toEqual([expect.objectContaining({ id: submitted.approvalId, kind: 'expense', documentId: first.id, step: 0, submittedBy: seller.userId, approverId: lead.userId, asDelegate: false })]);
    await ok(lead, 'POST', `/api/v1/approvals/${submitted.approvalId}/approve`, { comment: '同意' });
    expect(await claim(first.id)).toMatchObject({ status: 'approved' });

    // 600 + 500 takes November's travel budget (1,000) over: two steps.
    const second = await ok(seller, 'POST', '/api/v1/expenses', { lines: [{ category: 'travel', amount: CNY(50_000), date: '2026-11-25', description: '北京出差机票' }] });
    await upload(seller, second.id, 'ticket.pdf', PDF);
    await ok(seller, 'POST', `/api/v1/expenses/${second.id}/submit`, {});
    const over = await claim(second.id);
    expect(over).toMatchObject({ status: 'submitted', overBudget: true });
    const rejectedId = over.approvalId as string;
    expect((await ok(lead, 'GET', `/api/v1/approvals/${rejectedId}`)).steps.map((s: { approverId: string }) => s.approverId)).toEqual([lead.userId, director.userId]);
    // Steps go in turn: the director cannot decide the first.
    expectProblem(await as(director, 'POST', `/api/v1/approvals/${rejectedId}/approve`, {}), 409, 'approval.not_approver');
    await ok(lead, 'POST', `/api/v1/approvals/${rejectedId}/approve`, {});
    expect(await waiting(director)).toEqual([expect.objectContaining({ id: rejectedId, step: 1 })]);
    expectProblem(await as(director, 'POST', `/api/v1/approvals/${rejectedId}/reject`, {}), 400, 'validation');
    await ok(director, 'POST', `/api/v1/approvals/${rejectedId}/reject`, { comment: '超出预算，请改乘火车' });
    expect(await claim(second.id)).toMatchObject({ status: 'rejected' });
    expectProblem(await as(seller, 'POST', `/api/v1/expenses/${second.id}/pay`, {}), 403, 'forbidden');
    expectProblem(await as(finance, 'POST', `/api/v1/expenses/${second.id}/pay`, {}), 409, 'expense.not_approved');

    // Edited to fit the budget and submitted again: a new request, one step; the rejected one keeps its history.
    await ok(seller, 'PATCH', `/api/v1/expenses/${second.id}`, { lines: [{ category: 'travel', amount: CNY(30_000), date: '2026-11-25', description: '北京出差火车票' }] });
    expect(await claim(second.id)).toMatchObject({ status: 'draft', version: 2 });
    await ok(seller, 'POST', `/api/v1/expenses/${second.id}/submit`, {});
    const again = await claim(second.id);
    expect(again).toMatchObject({ status: 'submitted', overBudget: false });
    expect(again.approvalId).not.toBe(rejectedId);
    const old = await ok(seller, 'GET', `/api/v1/approvals/${rejectedId}`);
    expect(old).toMatchObject({ status: 'rejected', documentVersion: 1 });
    expect(old.steps.map((s: { decision: { outcome: string; actorId: string; comment?: string } }) => s.decision)).toEqual([
      expect.objectContaining({ outcome: 'approved', actorId: lead.userId }),
      expect.objectContaining({ outcome: 'rejected', actorId: director.userId, comment: '超出预算，请改乘火车' }),
    ]);
    await ok(lead, 'POST', `/api/v1/approvals/${again.approvalId}/approve`, {});
    expect(await claim(second.id)).toMatchObject({ status: 'approved' });
    await ok(finance, 'POST', `/api/v1/expenses/${second.id}/pay`, { reference: 'BANK-2026-1130-01' });
    expect(await claim(second.id)).toMatchObject({ status: 'paid' });
    const types = (await ok(seller, 'GET', `/api/v1/expenses/${second.id}/history`)).items.map((e: { type: string }) => e.type);
    expect(types).toEqual(['ExpenseClaimDrafted', 'ExpenseClaimSubmitted', 'ExpenseClaimRejected', 'ExpenseClaimChanged', 'ExpenseClaimSubmitted', 'ExpenseClaimApproved', 'ExpenseClaimPaid']);

    // Budget against actual, and the expenses report from the counters.
    const budgets = await ok(finance, 'GET', '/api/v1/reports/budgets?from=2026-11&to=2026-11');
    expect(budgets.items).toEqual([expect.objectContaining({ employeeId: seller.userId, category: 'travel', month: '2026-11', budget: CNY(100_000), submitted: CNY(90_000), approved: CNY(90_000), paid: CNY(30_000), remaining: CNY(10_000), usedPercent: 90 })]);
    const byCategory = await ok(finance, 'GET', '/api/v1/reports/expenses?from=2026-11-01&to=2026-12-01&groupBy=category');
    expect(byCategory.items).toEqual([
      { category: 'travel', submitted: CNY(90_000), approved: CNY(90_000), paid: CNY(30_000) },
      { category: 'entertainment', submitted: CNY(15_000), approved: CNY(15_000), paid: CNY(0) },
    ]);
    const byEmployee = await ok(seller, 'GET', '/api/v1/reports/expenses?from=2026-11-01&to=2026-12-01&groupBy=employee');
    expect(byEmployee.items).toEqual([{ employeeId: seller.userId, submitted: CNY(105_000), approved: CNY(105_000), paid: CNY(30_000) }]);
    // A colleague with own scope sees none of it.
    expect((await ok(colleague, 'GET', '/api/v1/reports/expenses?from=2026-11-01&to=2026-12-01&groupBy=category')).items).toEqual([]);
    // Turnaround: each decision counted per kind and step in business-hour buckets.
    const turnaround = await ok(finance, 'GET', '/api/v1/reports/approval-turnaround?from=2026-11&to=2026-11&kind=expense');
    expect(turnaround.items.map((row: { step: number; decisions: number }) => [row.step, row.decisions])).toEqual([
      [0, 3],
      [1, 1],
    ]);
    expect(turnaround.items[0]).toMatchObject({ medianHours: expect.any(Number), p90Hours: expect.any(Number) });
  });

  it('nobody pays their own claim, and only the claimant submits or recalls', async () => {
    const own = await ok(lead, 'POST', '/api/v1/expenses', { lines: [{ category: 'other', amount: CNY(1_000), date: '2026-11-23', description: '文具' }] });
    expectProblem(await as(seller, 'GET', `/api/v1/expenses/${own.id}`), 404, 'expense.not_found');
    expectProblem(await as(director, 'POST', `/api/v1/expenses/${own.id}/submit`, {}), 409, 'expense.not_claimant');
    await ok(lead, 'POST', `/api/v1/expenses/${own.id}/submit`, {});
    // The lead's own manager is the director; the lead never decides their own claim.
    const { approvalId } = await claim(own.id, lead);
    expect((await waiting(lead)).map((w) => w.id)).not.toContain(approvalId);
    expectProblem(await as(lead, 'POST', `/api/v1/approvals/${approvalId}/approve`, {}), 409, 'approval.own_document');
    await ok(director, 'POST', `/api/v1/approvals/${approvalId}/approve`, {});
    expectProblem(await as(lead, 'POST', `/api/v1/expenses/${own.id}/pay`, {}), 409, 'expense.own_claim');
  });

  it('a recall ends the request, an edit while waiting invalidates it and asks again; every step stays', async () => {
    const made = await ok(seller, 'POST', '/api/v1/expenses', { lines: [{ category: 'gifts', amount: CNY(9_000), date: '2026-11-23', description: '客户节日礼品' }] });
    await ok(seller, 'POST', `/api/v1/expenses/${made.id}/submit`, {});
    const first = (await claim(made.id)).approvalId;
    await ok(seller, 'POST', `/api/v1/expenses/${made.id}/recall`, {});
    expect(await claim(made.id)).toMatchObject({ status: 'draft' });
    expect((await ok(seller, 'GET', `/api/v1/approvals/${first}`)).status).toBe('recalled');
    expect((await waiting(lead)).map((w) => w.id)).not.toContain(first);
    expectProblem(await as(lead, 'POST', `/api/v1/approvals/${first}/approve`, {}), 409, 'approval.closed');

    await ok(seller, 'POST', `/api/v1/expenses/${made.id}/submit`, {});
    const second = (await claim(made.id)).approvalId;
    await ok(seller, 'PATCH', `/api/v1/expenses/${made.id}`, { title: '礼品（更正）' });
    const edited = await claim(made.id);
    expect(edited).toMatchObject({ status: 'submitted', version: 2 });
    expect(edited.approvalId).not.toBe(second);
    expect(await ok(seller, 'GET', `/api/v1/approvals/${second}`)).toMatchObject({ status: 'invalidated', documentVersion: 1 });
    expect(await ok(seller, 'GET', `/api/v1/approvals/${edited.approvalId}`)).toMatchObject({ status: 'pending', documentVersion: 2 });
    const listed = await ok(seller, 'GET', `/api/v1/approvals?documentId=${made.id}`);
    expect(listed.items.map((a: { status: string }) => a.status).sort()).toEqual(['invalidated', 'pending', 'recalled']);
  });

  it('a delegate acts on the steps of an approver away, in their period; the step records both', async () => {
    await ok(lead, 'PUT', '/api/v1/me/delegation', { delegateId: deputy.userId, from: '2026-11-01T00:00:00Z', to: '2026-12-31T00:00:00Z' });
    const made = await ok(seller, 'POST', '/api/v1/expenses', { lines: [{ category: 'marketing', amount: CNY(8_000), date: '2026-11-23', description: '展会物料' }] });
    await ok(seller, 'POST', `/api/v1/expenses/${made.id}/submit`, {});
    const { approvalId } = await claim(made.id);
    expect((await waiting(deputy)).find((w) => w.id === approvalId)).toMatchObject({ approverId: lead.userId, asDelegate: true });
    await ok(deputy, 'POST', `/api/v1/approvals/${approvalId}/approve`, { comment: '代批' });
    const decided = await ok(seller, 'GET', `/api/v1/approvals/${approvalId}`);
    expect(decided.steps[0]).toMatchObject({ approverId: lead.userId, decision: { outcome: 'approved', actorId: deputy.userId, comment: '代批' } });
    await ok(lead, 'DELETE', '/api/v1/me/delegation');
  });

  it('an approver reads the document waiting on them, outside their scope, only while it waits', async () => {
    await ok(finance, 'POST', '/api/v1/settings/approval-policies', { name: '大额报销复核', kind: 'expense', conditions: { minAmount: CNY(500_000) }, steps: [{ approver: 'manager' }, { approver: { employeeId: auditor.userId } }] });
    const big = await ok(seller, 'POST', '/api/v1/expenses', { lines: [{ category: 'marketing', amount: CNY(600_000), date: '2026-11-23', description: '行业展会展位' }] });
    await upload(seller, big.id, 'contract.pdf', PDF);
    const receiptId = (await ok(seller, 'GET', `/api/v1/expenses/${big.id}/attachments`)).items[0].id;
    expectProblem(await as(auditor, 'GET', `/api/v1/expenses/${big.id}`), 404, 'expense.not_found');
    await ok(seller, 'POST', `/api/v1/expenses/${big.id}/submit`, {});
    const { approvalId } = await claim(big.id);
    // Waiting on the manager: not yet on the reviewer.
    expectProblem(await as(auditor, 'GET', `/api/v1/expenses/${big.id}`), 404, 'expense.not_found');
    await ok(lead, 'POST', `/api/v1/approvals/${approvalId}/approve`, {});
    expect((await waiting(auditor)).map((w) => w.id)).toEqual([approvalId]);
    expect((await ok(auditor, 'GET', `/api/v1/expenses/${big.id}`)).total).toEqual(CNY(600_000));
    expect((await as(auditor, 'GET', `/api/v1/attachments/${receiptId}`)).status).toBe(200);
    expect((await as(auditor, 'GET', `/api/v1/expenses/${big.id}/history`)).status).toBe(200);
    await ok(auditor, 'POST', `/api/v1/approvals/${approvalId}/approve`, {});
    // Decided: out of their scope again, the receipt with it.
    expectProblem(await as(auditor, 'GET', `/api/v1/expenses/${big.id}`), 404, 'expense.not_found');
    expectProblem(await as(auditor, 'GET', `/api/v1/attachments/${receiptId}`), 404, 'attachment.not_found');
    expectProblem(await as(outsider, 'GET', `/api/v1/attachments/${receiptId}`), 404, 'attachment.not_found');
    expect((await as(seller, 'GET', `/api/v1/attachments/${receiptId}`)).status).toBe(200);
    await ok(finance, 'DELETE', `/api/v1/settings/approval-policies/${(await ok(finance, 'GET', '/api/v1/settings/approval-policies')).items.find((p: { name: string }) => p.name === '大额报销复核').id}`);
  });

  it('reminds a waiting approver after the reminder business hours, once per step', async () => {
    await ok(finance, 'PUT', '/api/v1/settings/approvals', { reminderBusinessHours: 10 });
    const made = await ok(seller, 'POST', '/api/v1/expenses', { lines: [{ category: 'other', amount: CNY(2_000), date: '2026-11-23', description: '快递费' }] });
    await ok(seller, 'POST', `/api/v1/expenses/${made.id}/submit`, {});
    const { approvalId } = await claim(made.id);
    const reminders = async () => (await ok(lead, 'GET', '/api/v1/me/notifications')).items.filter((n: { kind: string; subject?: { id: string } }) => n.kind === 'approval.reminder' && n.subject?.id === approvalId);
    // 10 business hours: submitted Monday 10:00 local; 8 that day, 2 on Tuesday: due Tuesday 11:00 local (03:00Z).
    await advance(25 * HOUR - 60_000);
    expect(await reminders()).toHaveLength(0);
    await advance(2 * 60_000);
    expect(await reminders()).toHaveLength(1);
    await advance(24 * HOUR);
    expect(await reminders()).toHaveLength(1);
    expect((await ok(seller, 'GET', `/api/v1/approvals/${approvalId}`)).remindedSteps).toEqual([0]);
    // Told when the step started waiting, and the claimant told of the outcome: once each.
    const about = async (user: User, kind: string) => (await ok(user, 'GET', '/api/v1/me/notifications')).items.filter((n: { kind: string; subject?: { id: string } }) => n.kind === kind && n.subject?.id === approvalId);
    expect(await about(lead, 'approval.waiting')).toHaveLength(1);
    await ok(lead, 'POST', `/api/v1/approvals/${approvalId}/approve`, {});
    await advance(60_000);
    await advance(60_000);
    expect(await about(seller, 'approval.completed')).toEqual([expect.objectContaining({ title: expect.objectContaining({ 'zh-CN': '审批通过：费用报销' }) })]);
    expect(await about(lead, 'approval.waiting')).toHaveLength(1);
  });

  it('the process manager: a crash between the approval and the document acting resumes without a second action', async () => {
    const made = await ok(seller, 'POST', '/api/v1/expenses', { lines: [{ category: 'other', amount: CNY(3_000), date: '2026-11-23', description: '打印费' }] });
    await ok(seller, 'POST', `/api/v1/expenses/${made.id}/submit`, {});
    const { approvalId } = await claim(made.id);
    // The approval is decided, and the process "crashes" before the claim acts on it.
    await decideApprovalStep(app.services.deps, app.services.readStore, approvalId, { outcome: 'approved' }, lead.actor, app.services.requestMeta('crash'));
    await caughtUp();
    expect(await claim(made.id)).toMatchObject({ status: 'submitted' });
    // The worker starts again: the process finds the decided approval and the claim acts, once.
    await app.services.timers.tick();
    await caughtUp();
    expect(await claim(made.id)).toMatchObject({ status: 'approved' });
    await app.services.timers.tick();
    await app.services.timers.tick();
    await caughtUp();
    const events = await app.services.eventStore.readStream(`expense-${made.id}`);
    expect(events.filter((e) => e.type === 'ExpenseClaimApproved')).toHaveLength(1);
  });

  it('an oversized upload gets 413 without a byte stored, declared or streamed', async () => {
    const made = await ok(seller, 'POST', '/api/v1/expenses', { lines: [{ category: 'other', amount: CNY(1_000), date: '2026-11-23', description: 'x' }] });
    const before = blobFiles();
    const huge = Buffer.concat([PDF, Buffer.alloc(4 * MAX_BYTES, 0x20)]);
    expectProblem(await upload(seller, made.id, 'huge.pdf', huge), 413, 'attachment.too_large');
    // Without a declared length (chunked), it is cut off at the limit.
    const { raw, headers } = multipartFile('chunked.pdf', Buffer.concat([PDF, Buffer.alloc(MAX_BYTES + 10, 0x20)]));
    const chunks = [raw.subarray(0, 1000), raw.subarray(1000)];
    const stream = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const response = await fetch(`${app.baseUrl}/api/v1/expenses/${made.id}/attachments`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${seller.token}` }, body: stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect(blobFiles()).toBe(before);
    expect((await ok(seller, 'GET', `/api/v1/expenses/${made.id}/attachments`)).items).toEqual([]);
  });
});
