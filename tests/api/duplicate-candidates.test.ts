import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

describe('GET /api/v1/customers/duplicate-candidates', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app.close());

  it('lists likely duplicates in the caller\'s scope, best first, with what matched; nothing outside it', async () => {
    const department = await app.department('Duplicates');
    const seller = await app.userWithToken('dup.seller', ['salesperson'], department);
    const outsider = await app.userWithToken('dup.outsider', ['salesperson'], await app.department('Duplicates elsewhere'));
    const create = async (token: string, body: Record<string, unknown>) => (await app.request('POST', '/api/v1/customers', { body, token })).body.id as string;
    const a = await create(seller.token, { name: '上海华东机械有限公司', phone: '021-5555 0101' });
    const b = await create(seller.token, { name: '上海华东机械股份有限公司' });
    const c = await create(seller.token, { name: '宁波港口物流' });
    await app.request('POST', '/api/v1/contacts', { body: { customerId: c, name: '赵六', officePhone: '(021) 5555-0101' }, token: seller.token });
    const theirs = await create(outsider.token, { name: '上海华东机械集团' });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);

    const found = await app.request('GET', '/api/v1/customers/duplicate-candidates', { token: seller.token });
    expect(found.status).toBe(200);
    expect(found.body.scanned).toBe(3);
    expect(found.body.items.map((pair: { score: number; reasons: string[]; customers: { id: string }[] }) => [pair.customers.map((x) => x.id).sort(), pair.score, pair.reasons])).toEqual([
      [[a, b].sort(), 90, ['name']],
      [[a, c].sort(), 60, ['phone']],
    ]);
    expect(JSON.stringify(found.body)).not.toContain(theirs);
    // Everyone in scope: the administrator also sees the outsider's near-duplicate.
    const all = await app.request('GET', '/api/v1/customers/duplicate-candidates?minScore=90');
    expect(all.body.items.some((pair: { customers: { id: string }[] }) => pair.customers.some((x) => x.id === theirs))).toBe(true);
    expectProblem(await app.request('GET', '/api/v1/customers/duplicate-candidates?minScore=0', { token: seller.token }), 400, 'validation');
  });
});
