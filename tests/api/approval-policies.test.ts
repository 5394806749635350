import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';
import { delegatorsFor } from '../../src/commands/delegations.ts';

describe('approval policies as data (/api/v1/settings/approval-policies)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app.close());

  const big = { name: '大额报销', kind: 'expense', conditions: { minAmount: { amount: 500_000, currency: 'CNY' } }, steps: [{ approver: 'manager' }, { approver: 'managers_manager' }] };

  it('defines, lists, reads, changes (a new version) and retires a policy', async () => {
    const made = await app.request('POST', '/api/v1/settings/approval-policies', { body: big });
    expect(made.status, made.text).toBe(201);
    const id = made.body.id as string;
    expect(made.headers.get('location')).toBe(`/api/v1/settings/approval-policies/${id}`);
    expect((await app.request('GET', `/api/v1/settings/approval-policies/${id}`)).body).toEqual({ id, ...big, version: 1, retired: false });
    const etag = (await app.request('GET', '/api/v1/settings/approval-policies')).headers.get('etag')!;
    const changed = await app.request('PUT', `/api/v1/settings/approval-policies/${id}`, { body: { ...big, steps: [...big.steps, { approver: { roleKey: 'finance' } }] }, headers: { 'if-match': etag } });
    expect(changed.status, changed.text).toBe(200);
    expectProblem(await app.request('PUT', `/api/v1/settings/approval-policies/${id}`, { body: big, headers: { 'if-match': etag } }), 412, 'precondition_failed');
    expect((await app.request('GET', `/api/v1/settings/approval-policies/${id}`)).body).toMatchObject({ version: 2, steps: [{ approver: 'manager' }, { approver: 'managers_manager' }, { approver: { roleKey: 'finance' } }] });
    expect(((await app.request('GET', '/api/v1/settings/approval-policies')).body.items as { id: string }[]).map((p) => p.id)).toEqual([id]);
    expect((await app.request('DELETE', `/api/v1/settings/approval-policies/${id}`)).status).toBe(200);
    expect((await app.request('GET', '/api/v1/settings/approval-policies')).body.items).toEqual([]);
    expect(((await app.request('GET', '/api/v1/settings/approval-policies?retired=true')).body.items as { retired: boolean }[]).map((p) => p.retired)).toEqual([true]);
    expectProblem(await app.request('PUT', `/api/v1/settings/approval-policies/${id}`, { body: big }), 404, 'approval_policy.not_found');
  });

  it('refuses a malformed policy, a name taken, an unknown id, and anyone without settings rights', async () => {
    expectProblem(await app.request('POST', '/api/v1/settings/approval-policies', { body: { ...big, kind: 'invoice' } }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/settings/approval-policies', { body: { ...big, steps: [] } }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/settings/approval-policies', { body: { ...big, steps: [{ approver: 'ceo' }] } }), 400, 'validation');
    expect((await app.request('POST', '/api/v1/settings/approval-policies', { body: { ...big, name: '折扣审批', kind: 'quote', conditions: { discountOverRoleMax: true } } })).status).toBe(201);
    expectProblem(await app.request('POST', '/api/v1/settings/approval-policies', { body: { ...big, name: '折扣审批' } }), 409, 'approval_policy.duplicate_name');
    expectProblem(await app.request('GET', '/api/v1/settings/approval-policies/0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c12'), 404, 'approval_policy.not_found');
    const seller = await app.userWithToken('policy.seller', ['salesperson'], await app.department('Policy dept'));
    expectProblem(await app.request('GET', '/api/v1/settings/approval-policies', { token: seller.token }), 403, 'forbidden');
    expectProblem(await app.request('POST', '/api/v1/settings/approval-policies', { token: seller.token, body: big }), 403, 'forbidden');
  });

  it('names a delegate for a period: found by the delegate while it lasts; refused for oneself, unknown people and past periods', async () => {
    const department = await app.department('Delegating dept');
    const lead = await app.userWithToken('dlg.lead', ['manager'], department);
    const deputy = await app.userWithToken('dlg.deputy', ['manager'], department);
    expect((await app.request('GET', '/api/v1/me/delegation', { token: lead.token })).body).toEqual({ delegation: null });
    const now = app.services.clock.now().getTime();
    const from = new Date(now - 60_000).toISOString();
    const to = new Date(now + 7 * 86_400_000).toISOString();
    const saved = await app.request('PUT', '/api/v1/me/delegation', { token: lead.token, body: { delegateId: deputy.userId, from, to } });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body).toEqual({ delegation: { delegateId: deputy.userId, from, to } });
    await app.services.runner.waitFor(BigInt(saved.headers.get('x-position')!), 5000);
    expect(await delegatorsFor(app.services.readStore, deputy.userId, new Date(now).toISOString())).toEqual([lead.userId]);
    expect(await delegatorsFor(app.services.readStore, deputy.userId, new Date(now + 8 * 86_400_000).toISOString())).toEqual([]);
    expect(await delegatorsFor(app.services.readStore, lead.userId, new Date(now).toISOString())).toEqual([]);
    expectProblem(await app.request('PUT', '/api/v1/me/delegation', { token: lead.token, body: { delegateId: lead.userId, from, to } }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/me/delegation', { token: lead.token, body: { delegateId: '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c12', from, to } }), 404, 'employee.not_found');
    expectProblem(await app.request('PUT', '/api/v1/me/delegation', { token: lead.token, body: { delegateId: deputy.userId, from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' } }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/me/delegation', { token: lead.token, body: { delegateId: deputy.userId, from: to, to: from } }), 400, 'validation');
    const ended = await app.request('DELETE', '/api/v1/me/delegation', { token: lead.token });
    expect(ended.body).toEqual({ delegation: null });
    await app.services.runner.waitFor(BigInt(ended.headers.get('x-position')!), 5000);
    expect(await delegatorsFor(app.services.readStore, deputy.userId, new Date(now).toISOString())).toEqual([]);
  });
});
