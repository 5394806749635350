import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCustomer } from '../../src/commands/customers.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { seededIds } from '../../src/infra/ids.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

describe('sales pipeline: products, leads, opportunities, funnel', () => {
  let app: TestApp;
  const clock = new ManualClock(new Date('2026-11-02T01:00:00.000Z'));
  beforeAll(async () => {
    app = await startTestApp({}, { clock });
  });
  afterAll(async () => app.close());
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  const day = 86_400_000;

  it('products: unique codes, list and change', async () => {
    const pump = await app.request('POST', '/api/v1/products', { body: { code: 'PUMP-100', name: '离心泵', unit: '台', standardPrice: { amount: 12_800_00, currency: 'CNY' }, taxRate: 13 } });
    expect(pump.status).toBe(201);
    expectProblem(await app.request('POST', '/api/v1/products', { body: { code: 'pump-100', name: 'Dup', unit: '台', standardPrice: { amount: 1, currency: 'CNY' }, taxRate: 13 } }), 409, 'product.duplicate_code');
    expectProblem(await app.request('POST', '/api/v1/products', { body: { code: 'X', name: 'Bad', unit: '台', standardPrice: { amount: 1.5, currency: 'CNY' }, taxRate: 13.333 } }), 400, 'validation');
    await app.request('PATCH', `/api/v1/products/${pump.body.id}`, { body: { active: false } });
    await caughtUp();
    const list = await app.request('GET', '/api/v1/products?active=false');
    expect(list.body.items.map((p: { code: string }) => p.code)).toEqual(['PUMP-100']);
    const salesperson = await app.userWithToken('sales.products', ['salesperson'], await app.department('Products'));
    expect((await app.request('GET', `/api/v1/products/${pump.body.id}`, { token: salesperson.token })).body.name).toBe('离心泵');
  });

  it('lead → work → qualify → convert (customer, contact, opportunity); converting again is refused', async () => {
    const lead = await app.request('POST', '/api/v1/leads', { body: { company: '苏州新锐汽配有限公司', person: '周杰', phone: '0512-6688 1234', email: 'zhou@xinrui.example.cn', source: '展会' } });
    expect(lead.status).toBe(201);
    expect((await app.request('POST', `/api/v1/leads/${lead.body.id}/work`)).status).toBe(200);
    expect((await app.request('POST', `/api/v1/leads/${lead.body.id}/qualify`)).status).toBe(200);
    const converted = await app.request('POST', `/api/v1/leads/${lead.body.id}/convert`, {
      body: { createOpportunity: { name: '新锐 二期产线', amount: { amount: 1_200_000_00, currency: 'CNY' }, expectedCloseDate: '2026-12-31' } },
      headers: { 'idempotency-key': 'convert-xinrui' },
    });
    expect(converted.status).toBe(200);
    const { customerId, contactId, opportunityId } = converted.body;
    expect([customerId, contactId, opportunityId].every((id: string) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);
    const replay = await app.request('POST', `/api/v1/leads/${lead.body.id}/convert`, { body: { createOpportunity: { name: '新锐 二期产线', amount: { amount: 1_200_000_00, currency: 'CNY' }, expectedCloseDate: '2026-12-31' } }, headers: { 'idempotency-key': 'convert-xinrui' } });
    expect(replay.body).toEqual(converted.body);
    expectProblem(await app.request('POST', `/api/v1/leads/${lead.body.id}/convert`, { body: {} }), 409, 'lead.already_converted');
    await caughtUp();
    expect((await app.request('GET', `/api/v1/leads/${lead.body.id}`)).body).toMatchObject({ status: 'converted', converted: { customerId, contactId, opportunityId } });
    expect((await app.request('GET', `/api/v1/customers/${customerId}`)).body).toMatchObject({ name: '苏州新锐汽配有限公司', contacts: [expect.objectContaining({ id: contactId, name: '周杰' })] });
    expect((await app.request('GET', `/api/v1/opportunities/${opportunityId}`)).body).toMatchObject({ customerId, stage: 'initial_contact', status: 'open', source: '展会' });
  });

  it('an interrupted conversion resumes without a second customer', async () => {
    const lead = await app.request('POST', '/api/v1/leads', { body: { company: 'Interrupted Trading Co', person: 'Wu' } });
    // Simulate a crash after the first step: the customer was registered under the conversion's request id.
    const events = await app.services.eventStore.readStream(`lead-${lead.body.id}`);
    const seed = `convert:${lead.body.id}`;
    const firstStep = { correlationId: 'crash', requestId: seed, ids: seededIds(seed, new Date(events[0]!.metadata.at).getTime()) };
    const admin = (await app.request('GET', '/api/v1/me')).body;
    const partial = await registerCustomer(app.services.deps, { fields: { name: 'Interrupted Trading Co' }, ownerId: admin.userId }, admin, firstStep);
    const converted = await app.request('POST', `/api/v1/leads/${lead.body.id}/convert`, { body: {} });
    expect(converted.status).toBe(200);
    expect(converted.body.customerId).toBe(partial.customerId);
    const registrations = (await app.services.eventStore.readAll({ filter: { eventTypes: ['CustomerRegistered'] } })).filter((e) => (e.data as { fields: { name: string } }).fields.name === 'Interrupted Trading Co');
    expect(registrations).toHaveLength(1);
  });

  it('a disqualified lead cannot be converted; conversion to an existing customer links it', async () => {
    const lead = await app.request('POST', '/api/v1/leads', { body: { company: 'Nope Co', person: 'N' } });
    await app.request('POST', `/api/v1/leads/${lead.body.id}/disqualify`, { body: { reason: 'student project' } });
    expectProblem(await app.request('POST', `/api/v1/leads/${lead.body.id}/convert`, { body: {} }), 409, 'lead.disqualified');
    const existing = await app.request('POST', '/api/v1/customers', { body: { name: 'Existing Link Co' } });
    const second = await app.request('POST', '/api/v1/leads', { body: { company: 'Existing Link Co', person: 'Ma' } });
    expectProblem(await app.request('POST', `/api/v1/leads/${second.body.id}/convert`, { body: {} }), 409, 'customer.duplicate');
    const linked = await app.request('POST', `/api/v1/leads/${second.body.id}/convert`, { body: { customerId: existing.body.id } });
    expect(linked.body.customerId).toBe(existing.body.id);
  });

  it('stages are data; moves, win, lose, reopen feed the funnel, win rate, cycle and time in stage', async () => {
    const stages = await app.request('GET', '/api/v1/settings/opportunity-stages');
    expect(stages.body.items.map((s: { name: string; probability: number }) => `${s.name} ${s.probability}`)).toEqual(['初步接洽 10', '需求确定 30', '方案报价 60', '谈判审核 80', '赢单 100', '输单 0']);
    expectProblem(await app.request('PUT', '/api/v1/settings/opportunity-stages', { body: { items: stages.body.items.filter((s: { isWon: boolean }) => !s.isWon) } }), 400, 'validation');

    const seller = await app.userWithToken('funnel.seller', ['salesperson'], await app.department('Funnel'));
    const customer = (await app.request('POST', '/api/v1/customers', { body: { name: 'Funnel Customer Co' }, token: seller.token })).body.id;
    clock.set('2026-11-10T02:00:00.000Z');
    // The clock jumps: log in again when it has.
    const as = async () => ({ token: await app.login('funnel.seller', 'funnel.seller-password-1') });
    seller.token = (await as()).token;
    const open = async (name: string, amount: number) =>
      (await app.request('POST', '/api/v1/opportunities', { token: seller.token, body: { name, customerId: customer, amount: { amount, currency: 'CNY' }, expectedCloseDate: '2026-12-31' } })).body.id;
    const a = await open('A', 1_000_000);
    const b = await open('B', 2_000_000);
    const c = await open('C', 3_000_000);
    clock.advance(2 * day);
    seller.token = (await as()).token;
    await app.request('POST', `/api/v1/opportunities/${a}/stage`, { token: seller.token, body: { stage: 'proposal' } });
    await app.request('POST', `/api/v1/opportunities/${b}/stage`, { token: seller.token, body: { stage: 'proposal' } });
    clock.advance(3 * day);
    seller.token = (await as()).token;
    expect((await app.request('POST', `/api/v1/opportunities/${a}/win`, { token: seller.token })).status).toBe(200);
    await app.request('POST', `/api/v1/opportunities/${c}/lose`, { token: seller.token, body: { reason: 'price', competitor: 'Rival' } });
    expectProblem(await app.request('POST', `/api/v1/opportunities/${a}/stage`, { token: seller.token, body: { stage: 'negotiation' } }), 409, 'opportunity.closed');
    await caughtUp();

    const funnel = await app.request('GET', `/api/v1/reports/funnel?from=2026-11-01&to=2026-12-01&ownerId=${seller.userId}`);
    const byStage = Object.fromEntries(funnel.body.stages.map((s: { stage: string; count: number; amount: { amount: number }; weightedAmount: { amount: number } }) => [s.stage, [s.count, s.amount.amount, s.weightedAmount.amount]]));
    expect(byStage).toMatchObject({ initial_contact: [0, 0, 0], proposal: [1, 2_000_000, 1_200_000], won: [1, 1_000_000, 1_000_000], lost: [1, 3_000_000, 0] });
    expect(funnel.body).toMatchObject({ won: 1, lost: 1, winRate: 0.5, averageCycleDays: 5 });
    const time = await app.request('GET', `/api/v1/reports/time-in-stage?from=2026-11-01&to=2026-12-01&ownerId=${seller.userId}`);
    const initial = time.body.stages.find((s: { stage: string }) => s.stage === 'initial_contact');
    const proposal = time.body.stages.find((s: { stage: string }) => s.stage === 'proposal');
    expect(initial).toMatchObject({ exits: 3, averageDays: 3 }); // A, B after 2 days; C after 5 days
    expect(proposal).toMatchObject({ exits: 1, averageDays: 3 });

    // Reopening takes the close back out of the win rate; the history keeps every stage with its time.
    await app.request('POST', `/api/v1/opportunities/${a}/reopen`, { token: seller.token });
    await caughtUp();
    const after = await app.request('GET', `/api/v1/reports/funnel?from=2026-11-01&to=2026-12-01&ownerId=${seller.userId}`);
    expect(after.body).toMatchObject({ won: 0, lost: 1, winRate: 0 });
    const history = (await app.request('GET', `/api/v1/opportunities/${a}`)).body.stageHistory.map((h: { stage: string }) => h.stage);
    expect(history).toEqual(['initial_contact', 'proposal', 'won', 'proposal']);

    // Reports respect scopes: another salesperson sees nothing of this.
    const other = await app.userWithToken('funnel.other', ['salesperson'], await app.department('Funnel 2'));
    const theirs = await app.request('GET', '/api/v1/reports/funnel?from=2026-11-01&to=2026-12-01', { token: other.token });
    expect(theirs.body.stages.every((s: { count: number }) => s.count === 0)).toBe(true);
    expectProblem(await app.request('GET', '/api/v1/reports/funnel?from=2026-12-01&to=2026-11-01'), 400, 'validation');
  });
});
