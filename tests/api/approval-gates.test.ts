import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/problem.ts';
import { acting } from '../support/acting.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

type User = { userId: string; token: string };
const CNY = (amount: number) => ({ amount, currency: 'CNY' });

/** Discounts over the role maximum and orders over the customer's credit wait for an approval (the approval issue). */
describe('the discount and credit gates', () => {
  let app: TestApp;
  let seller: User;
  let lead: User;
  let productId: string;
  let customerId: string;
  const { as, ok } = acting(() => app);

  beforeAll(async () => {
    app = await startTestApp();
    const east = await app.department('Gate east');
    seller = await app.userWithToken('gate.seller', ['salesperson'], east);
    lead = await app.userWithToken('gate.lead', ['manager'], east);
    await app.request('PATCH', `/api/v1/departments/${east}`, { body: { managerId: lead.userId } });
    const roles = (await app.request('GET', '/api/v1/roles')).body.items as { id: string; key: string | null }[];
    const salesperson = roles.find((role) => role.key === 'salesperson')!.id;
    await ok({ token: await app.login() }, 'PATCH', `/api/v1/roles/${salesperson}`, { maxDiscountPercent: 10 });
    expect((await app.request('GET', `/api/v1/roles/${salesperson}`)).body.maxDiscountPercent).toBe(10);
    productId = (await app.request('POST', '/api/v1/products', { body: { code: 'GATE-1', name: '水泵', unit: '台', standardPrice: CNY(100_000), taxRate: 13 } })).body.id;
    customerId = (await as(seller, 'POST', '/api/v1/customers', { name: 'Gate Pumps Ltd', creditLimit: CNY(2_000_000) })).body.id;
  });
  afterAll(async () => app.close());

  it("a quote discounting more than the owner's role maximum is sent once its version is approved", async () => {
    const quote = await ok(seller, 'POST', '/api/v1/quotes', { customerId, validUntil: '2099-12-31', lines: [{ productId, quantity: 2, discountPercent: 15 }] });
    const refused = await as(seller, 'POST', `/api/v1/quotes/${quote.id}/send`, {});
    expectProblem(refused, 409, 'quote.approval_required');
    expect(refused.body).toMatchObject({ lines: [0], maxDiscountPercent: 10, approvalId: null });
    const { approvalId } = await ok(seller, 'POST', `/api/v1/quotes/${quote.id}/request-approval`, {});
    expect(approvalId).toEqual(expect.any(String));
    // Asked once per version.
    expect((await ok(seller, 'POST', `/api/v1/quotes/${quote.id}/request-approval`, {})).approvalId).toBe(approvalId);
    expect((await as(seller, 'POST', `/api/v1/quotes/${quote.id}/send`, {})).body).toMatchObject({ code: 'quote.approval_required', approvalId, approvalStatus: 'pending' });
    const waiting = (await ok(lead, 'GET', '/api/v1/me/approvals')).items;
    expect(waiting).toEqual([expect.objectContaining({ id: approvalId, kind: 'quote', documentId: quote.id, approverId: lead.userId })]);
    // The manager reads the quote it waits on (in their scope anyway), approves, and the quote may be sent.
    await ok(lead, 'POST', `/api/v1/approvals/${approvalId}/approve`, { comment: '大客户，同意15%' });
    await ok(seller, 'POST', `/api/v1/quotes/${quote.id}/send`, {});
    expect((await ok(seller, 'GET', `/api/v1/quotes/${quote.id}`)).status).toBe('sent');

    // A new version is a new question: the approval was for the old one.
    await ok(seller, 'POST', `/api/v1/quotes/${quote.id}/revise`, { validUntil: '2099-12-31', lines: [{ productId, quantity: 3, discountPercent: 12 }] });
    expectProblem(await as(seller, 'POST', `/api/v1/quotes/${quote.id}/send`, {}), 409, 'quote.approval_required');
    const again = (await ok(seller, 'POST', `/api/v1/quotes/${quote.id}/request-approval`, {})).approvalId;
    expect(again).not.toBe(approvalId);
    // A revision while it waits invalidates the pending request.
    await ok(seller, 'POST', `/api/v1/quotes/${quote.id}/revise`, { validUntil: '2099-12-31', lines: [{ productId, quantity: 3, discountPercent: 11 }] });
    expect((await ok(seller, 'GET', `/api/v1/approvals/${again}`)).status).toBe('invalidated');
    // Within the maximum, nothing to approve.
    const plain = await ok(seller, 'POST', '/api/v1/quotes', { customerId, validUntil: '2099-12-31', lines: [{ productId, quantity: 1, discountPercent: 10 }] });
    expectProblem(await as(seller, 'POST', `/api/v1/quotes/${plain.id}/request-approval`, {}), 409, 'quote.approval_not_needed');
    await ok(seller, 'POST', `/api/v1/quotes/${plain.id}/send`, {});
  });

  it("an order over its customer's credit (open receivables plus the order) is confirmed once approved, and the answer names the figures", async () => {
    // 15,000.00 confirmed and unpaid: 5,000.00 of the 20,000.00 limit left.
    const first = await ok(seller, 'POST', '/api/v1/orders', { customerId, lines: [{ productId, quantity: 15 }] });
    await ok(seller, 'POST', `/api/v1/orders/${first.id}/confirm`, {});
    const second = await ok(seller, 'POST', '/api/v1/orders', { customerId, lines: [{ productId, quantity: 6 }] });
    const total = (await ok(seller, 'GET', `/api/v1/orders/${second.id}`)).total as { amount: number; currency: string };
    const refused = await as(seller, 'POST', `/api/v1/orders/${second.id}/confirm`, {});
    expectProblem(refused, 409, 'order.credit_exceeded');
    const firstTotal = (await ok(seller, 'GET', `/api/v1/orders/${first.id}`)).total as { amount: number };
    expect(refused.body).toMatchObject({ creditLimit: CNY(2_000_000), openReceivables: CNY(firstTotal.amount), orderAmount: total, exceededBy: CNY(firstTotal.amount + total.amount - 2_000_000) });
    const { approvalId } = await ok(seller, 'POST', `/api/v1/orders/${second.id}/request-approval`, {});
    expectProblem(await as(seller, 'POST', `/api/v1/approvals/${approvalId}/approve`, {}), 409, 'approval.own_document');
    await ok(lead, 'POST', `/api/v1/approvals/${approvalId}/reject`, { comment: '先回款' });
    expect((await as(seller, 'POST', `/api/v1/orders/${second.id}/confirm`, {})).body).toMatchObject({ code: 'order.credit_exceeded', approvalStatus: 'rejected' });
    // Asked again after a rejection: a new request; approved, the order is confirmed.
    const again = (await ok(seller, 'POST', `/api/v1/orders/${second.id}/request-approval`, {})).approvalId;
    expect(again).not.toBe(approvalId);
    await ok(lead, 'POST', `/api/v1/approvals/${again}/approve`, {});
    await ok(seller, 'POST', `/api/v1/orders/${second.id}/confirm`, {});
    // Once the first order is paid, a small order fits the credit again.
    await ok(seller, 'POST', `/api/v1/orders/${first.id}/payments`, { amount: CNY(firstTotal.amount), receivedAt: '2026-12-01T02:00:00Z', method: 'bank_transfer' });
    const third = await ok(seller, 'POST', '/api/v1/orders', { customerId, lines: [{ productId, quantity: 1 }] });
    expectProblem(await as(seller, 'POST', `/api/v1/orders/${third.id}/request-approval`, {}), 409, 'order.approval_not_needed');
    await ok(seller, 'POST', `/api/v1/orders/${third.id}/confirm`, {});
  });

  it('a caller for whom the credit limit is hidden is refused without learning it', async () => {
    const roles = (await app.request('GET', '/api/v1/roles')).body.items as { id: string; key: string | null }[];
    const salesperson = roles.find((role) => role.key === 'salesperson')!.id;
    await app.request('PATCH', `/api/v1/roles/${salesperson}`, { body: { fieldSecurity: { customers: { creditLimit: 'hidden' } } } });
    seller.token = await app.login('gate.seller', 'gate.seller-password-1');
    expect((await ok(seller, 'GET', `/api/v1/customers/${customerId}`)).creditLimit).toBeUndefined();
    const big = await ok(seller, 'POST', '/api/v1/orders', { customerId, lines: [{ productId, quantity: 30 }] });
    const refused = await as(seller, 'POST', `/api/v1/orders/${big.id}/confirm`, {});
    expectProblem(refused, 409, 'order.credit_exceeded');
    expect(refused.body.creditLimit).toBeUndefined();
    expect(refused.body.exceededBy).toBeUndefined();
    expect(refused.text).not.toContain('20000.00');
    expect(refused.body.orderAmount).toEqual(expect.objectContaining({ currency: 'CNY' }));
  });
});
