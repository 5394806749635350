import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOWED_STAGES } from '../../src/api/analytics-pipeline.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/**
 * POST /api/v1/analytics/query: an analyst's aggregation over a record type's read model, in their data scope,
 * with the fields hidden from them gone before their first stage, and nothing outside the allowed stages.
 */
describe('analytics query', () => {
  let app: TestApp;
  let manager: string;
  let restricted: string;
  let seller: string;
  let noCustomers: string;
  // $count over nothing answers no row on MongoDB and { n: 0 } in process: both are a count of 0.
  const countOf = (items: { n: number }[]) => items[0]?.n ?? 0;
  const query = (token: string | undefined, collection: string, pipeline: unknown[]) => app.request('POST', '/api/v1/analytics/query', { token, body: { collection, pipeline } });

  beforeAll(async () => {
    app = await startTestApp({ CRM_ANALYTICS_MAX_ROWS: '3' });
    await app.request('POST', '/api/v1/settings/fields/customers', { body: { key: 'creditScore', label: { 'zh-CN': '信用评分', en: 'Credit score' }, type: 'integer' } });
    const east = await app.department('East');
    const west = await app.department('West');
    manager = (await app.userWithToken('east-manager', ['manager'], east)).token;
    const eastSeller = await app.userWithToken('east-seller', ['salesperson'], east);
    seller = eastSeller.token;
    const westSeller = await app.userWithToken('west-seller', ['salesperson'], west);
    const role = await app.request('POST', '/api/v1/roles', {
      body: {
        name: 'Restricted analyst',
        permissions: { analytics: ['query'], customers: ['view'], contacts: ['view'] },
        dataScope: 'all',
        fieldSecurity: { customers: { phone: 'hidden', 'custom.creditScore': 'hidden' }, contacts: { mobile: 'hidden' } },
      },
    });
    expect(role.status).toBe(201);
    const analyst = await app.request('POST', '/api/v1/employees', { body: { name: 'Analyst', departmentId: west, username: 'analyst', password: 'analyst-pass-1', roleIds: [role.body.id] } });
    expect(analyst.status).toBe(201);
    restricted = await app.firstLogin('analyst', 'analyst-pass-1');
    const blind = await app.request('POST', '/api/v1/roles', { body: { name: 'Query, no customers', permissions: { analytics: ['query'] }, dataScope: 'all' } });
    await app.request('POST', '/api/v1/employees', { body: { name: 'Blind', departmentId: west, username: 'blind', password: 'blind-pass-1', roleIds: [blind.body.id] } });
    noCustomers = await app.firstLogin('blind', 'blind-pass-1');

    const customers = [
      { name: '东方机械', industry: '机械制造', phone: '021-1111', custom: { creditScore: 700 }, ownerId: eastSeller.userId },
      { name: '东海电子', industry: '电子元器件', phone: '021-2222', custom: { creditScore: 650 }, ownerId: eastSeller.userId },
      { name: '西部化工', industry: '化工材料', phone: '028-3333', custom: { creditScore: 500 }, ownerId: westSeller.userId },
    ];
    for (const body of customers) {
      const created = await app.request('POST', '/api/v1/customers', { body });
      expect(created.status).toBe(201);
      await app.request('POST', '/api/v1/contacts', { body: { customerId: created.body.id, name: `联系人 ${body.name}`, mobile: '13800001234' } });
    }
    await app.request('POST', '/api/v1/competitors', { body: { name: '德国精密泵业' } });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  });
  afterAll(async () => app.close());

  it('answers an aggregation within the caller\'s data scope', async () => {
    const byIndustry = [{ $group: { _id: '$industry', count: { $sum: 1 } } }, { $sort: { _id: 1 } }];
    const all = await query(undefined, 'customers', byIndustry);
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(all.body).toEqual({ items: [{ _id: '化工材料', count: 1 }, { _id: '机械制造', count: 1 }, { _id: '电子元器件', count: 1 }], truncated: false });
    // The East manager's tree holds the East seller's two customers, not the West one.
    const east = await query(manager, 'customers', [{ $count: 'customers' }]);
    expect(east.body.items).toEqual([{ customers: 2 }]);
    const names = await query(manager, 'customers', [{ $project: { name: 1, _id: 0 } }, { $sort: { name: 1 } }]);
    expect(names.body.items.map((row: { name: string }) => row.name)).toEqual(['东方机械', '东海电子']);
  });

  it('takes hidden fields out before the first stage: they cannot be matched, grouped, projected or unwound', async () => {
    expect(countOf((await query(undefined, 'customers', [{ $match: { phone: '021-1111' } }, { $count: 'n' }])).body.items)).toBe(1);
    expect(countOf((await query(restricted, 'customers', [{ $match: { phone: '021-1111' } }, { $count: 'n' }])).body.items)).toBe(0);
    expect((await query(restricted, 'customers', [{ $group: { _id: '$phone' } }])).body.items).toEqual([{ _id: null }]);
    expect((await query(restricted, 'customers', [{ $group: { _id: null, total: { $sum: '$custom.creditScore' } } }])).body.items).toEqual([{ _id: null, total: 0 }]);
    const projected = await query(restricted, 'customers', [{ $project: { name: 1, phone: 1, custom: 1, doubled: { $multiply: ['$custom.creditScore', 2] } } }]);
    expect(projected.status).toBe(200);
    for (const row of projected.body.items) {
      expect(row).not.toHaveProperty('phone');
      expect(row.custom ?? {}).not.toHaveProperty('creditScore');
      expect(row.doubled ?? null).toBeNull();
    }
    // A customer's embedded contacts lose the contact fields hidden from the caller, as the contacts do.
    const embedded = await query(restricted, 'customers', [{ $unwind: '$contacts' }, { $project: { mobile: '$contacts.mobile', name: '$contacts.name' } }]);
    expect(embedded.body.items.length).toBeGreaterThan(0);
    for (const row of embedded.body.items) expect(row.mobile).toBeUndefined();
    const contacts = await query(restricted, 'contacts', [{ $match: { mobile: { $exists: true } } }, { $count: 'n' }]);
    expect(countOf(contacts.body.items)).toBe(0);
    expect(countOf((await query(undefined, 'contacts', [{ $match: { mobile: { $exists: true } } }, { $count: 'n' }])).body.items)).toBe(3);
  });

  it('never shows a read model\'s bookkeeping (search text, folded state, positions, what was sent to the ERP)', async () => {
    // An order sent to the ERP and cancelled: its read model keeps bookkeeping of both versions.
    const customerId = (await query(undefined, 'customers', [{ $limit: 1 }])).body.items[0]._id;
    const productId = (await app.request('POST', '/api/v1/products', { body: { code: 'AQ-1', name: '分析泵', unit: '台', standardPrice: { amount: 100, currency: 'CNY' }, taxRate: 13 } })).body.id;
    const orderId = (await app.request('POST', '/api/v1/orders', { body: { customerId, lines: [{ productId, quantity: 1 }] } })).body.id;
    expect((await app.request('POST', `/api/v1/orders/${orderId}/confirm`, { body: {} })).status).toBe(200);
    const cancelled = await app.request('POST', `/api/v1/orders/${orderId}/cancel`, { body: { reason: '分析' } });
    expect(cancelled.status).toBe(200);
    await app.services.runner.waitFor(BigInt(cancelled.headers.get('x-position')!), 5000);
    for (const collection of ['customers', 'contacts', 'competitors', 'orders']) {
      const rows = await query(undefined, collection, [{ $limit: 3 }]);
      expect(rows.status).toBe(200);
      expect(rows.body.items.length, collection).toBeGreaterThan(0);
      for (const row of rows.body.items) expect(Object.keys(row).filter((key) => key.startsWith('_') && key !== '_id'), collection).toEqual([]);
    }
  });

  it('answers at most CRM_ANALYTICS_MAX_ROWS rows and says when it cut the answer', async () => {
    const contacts = await query(undefined, 'contacts', [{ $project: { name: 1 } }]);
    expect(contacts.body).toMatchObject({ truncated: false });
    expect(contacts.body.items).toHaveLength(3);
    const unwound = await query(undefined, 'customers', [{ $project: { copies: [1, 2] } }, { $unwind: '$copies' }]);
    expect(unwound.body.items).toHaveLength(3);
    expect(unwound.body.truncated).toBe(true);
  });

  it('refuses every stage outside the allowed ones, naming it', async () => {
    expect(ALLOWED_STAGES).toEqual(['$match', '$group', '$sort', '$limit', '$skip', '$project', '$unwind', '$count']);
    const stages = [
      { $lookup: { from: 'employees', localField: 'ownerId', foreignField: '_id', as: 'owner' } },
      { $unionWith: { coll: 'org_employees' } },
      { $graphLookup: { from: 'customers', startWith: '$id', connectFromField: 'id', connectToField: 'id', as: 'x' } },
      { $out: 'stolen' },
      { $merge: { into: 'stolen' } },
      { $facet: { a: [{ $count: 'n' }] } },
      { $addFields: { x: 1 } },
      { $set: { x: 1 } },
      { $replaceRoot: { newRoot: '$$ROOT' } },
      { $sample: { size: 1 } },
      { $bucket: { groupBy: '$x', boundaries: [0, 1] } },
    ];
    for (const stage of stages) {
      const name = Object.keys(stage)[0]!;
      const refused = await query(undefined, 'customers', [{ $match: {} }, stage]);
      expectProblem(refused, 400, 'analytics.stage_not_allowed');
      expect(refused.body).toMatchObject({ stage: name, index: 1 });
      expect(refused.body.detail).toContain(name);
    }
  });

  it('refuses operators that run code or take regular expressions, wherever they are nested', async () => {
    const cases: [unknown, string][] = [
      [{ $match: { $where: 'this.name.length > 1' } }, '$where'],
      [{ $match: { $expr: { $function: { body: 'function () { return true }', args: [], lang: 'js' } } } }, '$function'],
      [{ $project: { x: { $function: { body: 'function () { return 1 }', args: [], lang: 'js' } } } }, '$function'],
      [{ $group: { _id: null, x: { $accumulator: { init: 'function () {}', accumulate: 'function () {}', accumulateArgs: [], merge: 'function () {}', lang: 'js' } } } }, '$accumulator'],
      [{ $match: { name: { $regex: '^(a+)+$' } } }, '$regex'],
      [{ $project: { x: { $regexMatch: { input: '$name', regex: 'a' } } } }, '$regexMatch'],
      [{ $match: { $and: [{ industry: '机械制造' }, { $or: [{ $text: { $search: 'x' } }] }] } }, '$text'],
    ];
    for (const [stage, operator] of cases) {
      const refused = await query(undefined, 'customers', [stage]);
      expectProblem(refused, 400, 'analytics.operator_not_allowed');
      expect(refused.body.detail).toContain(operator);
    }
    expectProblem(await query(undefined, 'customers', [{ $match: {}, $limit: 1 }]), 400, 'analytics.invalid_pipeline');
    expectProblem(await query(undefined, 'customers', [{ $limit: -1 }]), 400, 'analytics.invalid_pipeline');
    expectProblem(await query(undefined, 'org_employees', [{ $limit: 1 }]), 400, 'analytics.collection_not_allowed');
    expectProblem(await query(undefined, '_projections', [{ $limit: 1 }]), 400, 'analytics.collection_not_allowed');
  });

  it('needs analytics:query, and view on the record type', async () => {
    expectProblem(await query(seller, 'customers', [{ $count: 'n' }]), 403, 'forbidden');
    expectProblem(await query(noCustomers, 'customers', [{ $count: 'n' }]), 403, 'forbidden');
    expect((await query(restricted, 'customers', [{ $count: 'n' }])).status).toBe(200);
    expectProblem(await query(restricted, 'opportunities', [{ $count: 'n' }]), 403, 'forbidden');
  });

  it('describes the read models the caller may query: schema as they see it, indexes, the events that feed them', async () => {
    const all = await app.request('GET', '/api/v1/read-models');
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    const names = all.body.items.map((item: { name: string }) => item.name);
    expect(names).toEqual(expect.arrayContaining(['customers', 'contacts', 'opportunities', 'orders', 'tickets', 'competitors']));
    const customers = all.body.items.find((item: { name: string }) => item.name === 'customers');
    expect(customers).toMatchObject({ module: 'customers', scope: 'owner', feeds: { categories: expect.arrayContaining(['customer', 'contact']) } });
    expect(Object.keys(customers.schema.properties)).toEqual(expect.arrayContaining(['_id', 'name', 'phone', 'ownerId', 'departmentPath', 'contacts', 'custom']));
    expect(customers.schema.properties.custom.properties.creditScore).toMatchObject({ type: 'integer', title: 'Credit score', description: '信用评分' });
    expect(all.body.items.find((item: { name: string }) => item.name === 'contacts').schema.properties).toHaveProperty('mobile');
    expect(customers.indexes).toEqual(expect.arrayContaining([expect.objectContaining({ keys: { ownerId: 1 } })]));
    for (const item of all.body.items) for (const index of item.indexes) expect(Object.keys(index.keys).some((field) => field.startsWith('_') && field !== '_id'), `${item.name} ${index.name}`).toBe(false);

    // The restricted analyst sees the two record types they may view, without the fields hidden from them.
    const restrictedView = await app.request('GET', '/api/v1/read-models', { token: restricted });
    expect(restrictedView.body.items.map((item: { name: string }) => item.name).sort()).toEqual(['contacts', 'customers']);
    const [theirContacts, theirCustomers] = [...restrictedView.body.items].sort((a, b) => a.name.localeCompare(b.name));
    expect(theirCustomers.schema.properties).not.toHaveProperty('phone');
    expect(theirCustomers.schema.properties.custom?.properties ?? {}).not.toHaveProperty('creditScore');
    expect(JSON.stringify(theirCustomers.schema.properties.contacts)).not.toContain('mobile');
    expect(theirContacts.schema.properties).not.toHaveProperty('mobile');
    // Nowhere in the answer, $defs included.
    expect(JSON.stringify(restrictedView.body)).not.toMatch(/creditScore|"mobile"/);
    expectProblem(await app.request('GET', '/api/v1/read-models', { token: seller }), 403, 'forbidden');
  });
});
