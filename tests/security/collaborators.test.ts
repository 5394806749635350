import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/**
 * Team selling: the collaborators an opportunity names see it and work on it as its owner's colleagues would,
 * whatever their own data scope. The opportunity's customer stays the owner's: collaborating on a deal does
 * not open the account.
 */
describe('collaborators widen an opportunity\'s scope', () => {
  let app: TestApp;
  let owner: { userId: string; token: string };
  let teammate: { userId: string; token: string };
  let outsider: { userId: string; token: string };
  let customerId: string;
  let opportunityId: string;
  let productId: string;
  beforeAll(async () => {
    app = await startTestApp();
    const east = await app.department('Team East');
    const west = await app.department('Team West');
    owner = await app.userWithToken('team.owner', ['salesperson'], west);
    teammate = await app.userWithToken('team.mate', ['salesperson'], east);
    outsider = await app.userWithToken('team.outsider', ['salesperson'], east);
    productId = (await app.request('POST', '/api/v1/products', { body: { code: 'TEAM-1', name: 'Widget', unit: '件', standardPrice: { amount: 1000, currency: 'CNY' }, taxRate: 13 } })).body.id;
    customerId = (await app.request('POST', '/api/v1/customers', { token: owner.token, body: { name: 'Team Account Co' } })).body.id;
    const created = await app.request('POST', '/api/v1/opportunities', {
      token: owner.token,
      body: { name: 'Shared deal', customerId, amount: { amount: 500_00, currency: 'CNY' }, expectedCloseDate: '2027-03-31', collaborators: [teammate.userId] },
    });
    expect(created.status).toBe(201);
    opportunityId = created.body.id;
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  });
  afterAll(async () => app.close());

  it('a collaborator lists, reads, replays and moves it; an outsider gets 404 everywhere', async () => {
    const listed = await app.request('GET', '/api/v1/opportunities', { token: teammate.token });
    expect(listed.body.items.map((o: { id: string }) => o.id)).toContain(opportunityId);
    expect((await app.request('GET', `/api/v1/opportunities/${opportunityId}`, { token: teammate.token })).status).toBe(200);
    expect((await app.request('GET', `/api/v1/opportunities/${opportunityId}/history`, { token: teammate.token })).status).toBe(200);
    expect((await app.request('GET', `/api/v1/opportunities/${opportunityId}?asOf=2099-01-01T00:00:00Z`, { token: teammate.token })).status).toBe(200);
    expect((await app.request('PATCH', `/api/v1/opportunities/${opportunityId}`, { token: teammate.token, body: { notes: 'Called the buyer' } })).status).toBe(200);

    expect((await app.request('GET', '/api/v1/opportunities', { token: outsider.token })).body.items.map((o: { id: string }) => o.id)).not.toContain(opportunityId);
    expectProblem(await app.request('GET', `/api/v1/opportunities/${opportunityId}`, { token: outsider.token }), 404, 'opportunity.not_found');
    expectProblem(await app.request('GET', `/api/v1/opportunities/${opportunityId}/history`, { token: outsider.token }), 404, 'opportunity.not_found');
    expectProblem(await app.request('PATCH', `/api/v1/opportunities/${opportunityId}`, { token: outsider.token, body: { notes: 'x' } }), 404, 'opportunity.not_found');
  });

  it('the account stays the owner\'s: a collaborator cannot read the customer or quote against it', async () => {
    expectProblem(await app.request('GET', `/api/v1/customers/${customerId}`, { token: teammate.token }), 404, 'customer.not_found');
    const quote = await app.request('POST', '/api/v1/quotes', { token: teammate.token, body: { customerId, opportunityId, validUntil: '2099-12-31', lines: [{ productId, quantity: 1 }] } });
    expectProblem(quote, 404, 'customer.not_found');
  });

  it('taken off the team, the former collaborator loses it at once', async () => {
    expect((await app.request('PATCH', `/api/v1/opportunities/${opportunityId}`, { token: owner.token, body: { collaborators: [] } })).status).toBe(200);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
    expectProblem(await app.request('GET', `/api/v1/opportunities/${opportunityId}`, { token: teammate.token }), 404, 'opportunity.not_found');
    expect((await app.request('GET', '/api/v1/opportunities', { token: teammate.token })).body.items.map((o: { id: string }) => o.id)).not.toContain(opportunityId);
  });
});
