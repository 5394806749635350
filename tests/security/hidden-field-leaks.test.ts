import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/**
 * A role that hides a field must not learn its values by any side door: sorting by it (and reading the order or
 * the cursor), filtering by it (yes/no answers), searching text that contains it, the company-wide collision
 * check, CSV exports, history or related panels.
 */
const SECRET_PHONE = '021-8765-4321';
const SECRET_MOBILE = '13912345678';
const SECRET_INDUSTRY = 'Tungsten mining';

describe('hidden fields do not leak through lists', () => {
  let app: TestApp;
  let token: string;
  let namelessToken: string;
  let analystToken: string;
  let customerId: string;
  beforeAll(async () => {
    app = await startTestApp();
    await app.request('POST', '/api/v1/settings/fields/customers', { body: { key: 'creditScore', label: { 'zh-CN': '信用评分', en: 'Credit score' }, type: 'integer' } });
    const department = await app.department('Leak test');
    const role = async (name: string, fieldSecurity: unknown) =>
      (
        await app.request('POST', '/api/v1/roles', {
          body: { name, permissions: { customers: ['view', 'create', 'edit', 'export'], contacts: ['view', 'export'] }, dataScope: 'department', fieldSecurity },
        })
      ).body.id as string;
    const hiding = await role('Hides phone, industry, credit', { customers: { phone: 'hidden', industry: 'hidden', 'custom.creditScore': 'hidden' }, contacts: { mobile: 'hidden' } });
    const nameless = await role('Hides names', { customers: { name: 'hidden' } });
    const hire = async (username: string, roleId: string) => {
      const employee = await app.request('POST', '/api/v1/employees', { body: { name: username, departmentId: department, username, password: `${username}-pass-1`, roleIds: [roleId] } });
      const token = await app.firstLogin(username, `${username}-pass-1`);
      return { id: employee.body.id as string, token };
    };
    const restricted = await hire('leaky', hiding);
    const analyst = (
      await app.request('POST', '/api/v1/roles', {
        body: { name: 'Analyst, same hidden fields', permissions: { analytics: ['query'], customers: ['view'], contacts: ['view'] }, dataScope: 'department', fieldSecurity: { customers: { phone: 'hidden', industry: 'hidden', 'custom.creditScore': 'hidden' }, contacts: { mobile: 'hidden' } } },
      })
    ).body.id as string;
    analystToken = (await hire('leaky-analyst', analyst)).token;
    token = restricted.token;
    namelessToken = (await hire('nameless', nameless)).token;
    for (const [i, limit] of [100, 900_000, 300, 700_000].entries()) {
      const created = await app.request('POST', '/api/v1/customers', {
        body: { name: `Leak Co ${i}`, ...(i === 1 ? { phone: SECRET_PHONE, industry: SECRET_INDUSTRY } : {}), custom: { creditScore: limit }, ownerId: restricted.id },
      });
      if (i === 1) customerId = created.body.id;
    }
    await app.request('POST', '/api/v1/contacts', { body: { customerId, name: '钱七', mobile: SECRET_MOBILE } });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  });
  afterAll(async () => app.close());

  it('refuses to sort by a hidden field (400 naming it), in either direction', async () => {
    for (const sort of ['custom.creditScore', '-custom.creditScore']) {
      const response = await app.request('GET', `/api/v1/customers?sort=${sort}`, { token });
      expectProblem(response, 400, 'validation');
      expect(response.body.detail).toContain('custom.creditScore');
    }
    expect((await app.request('GET', '/api/v1/customers?sort=-custom.creditScore')).status).toBe(200);
  });

  it('refuses to filter by a hidden field, standard or custom', async () => {
    for (const filter of ['industry=Tungsten%20mining', 'custom.creditScore=900000']) {
      const response = await app.request('GET', `/api/v1/customers?${filter}`, { token });
      expectProblem(response, 400, 'validation');
      expect(response.body.detail).toContain(filter.split('=')[0]);
    }
    expect((await app.request('GET', '/api/v1/customers?industry=Tungsten%20mining')).body.items).toHaveLength(1);
  });

  it('a saved view that sorts by a hidden field pages in the default order instead', async () => {
    const view = await app.request('POST', '/api/v1/me/views/customers', { token, body: { name: 'By credit', sort: '-custom.creditScore' } });
    if (view.status === 201) {
      const response = await app.request('GET', `/api/v1/customers?view=${view.body.id}`, { token });
      expect(response.status).toBe(200);
      expect(response.body.sort).not.toContain('creditScore');
    } else expect(view.status).toBe(400);
  });

  it('cursors are opaque, tamper-proof and bound to the caller and the list', async () => {
    const first = await app.request('GET', '/api/v1/customers?sort=name&limit=1', { token });
    const cursor = first.body.nextCursor as string;
    expect(cursor).toBeTruthy();
    const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
    expect(decoded).not.toContain('Leak Co');
    expect(decoded).not.toContain('"v"');
    const second = await app.request('GET', `/api/v1/customers?sort=name&limit=1&cursor=${cursor}`, { token });
    expect(second.status).toBe(200);
    expect(second.body.items[0].name).toBe('Leak Co 1');
    // Altered, forged from the old plain format, used by someone else, or with another sort: refused.
    const flipped = `${cursor.slice(0, 20)}${cursor[20] === 'A' ? 'B' : 'A'}${cursor.slice(21)}`;
    const forged = Buffer.from(JSON.stringify({ f: 'custom.creditScore', d: 1, v: 500_000, id: customerId })).toString('base64url');
    for (const [path, caller] of [
      [`/api/v1/customers?sort=name&limit=1&cursor=${flipped}`, token],
      [`/api/v1/customers?sort=custom.creditScore&limit=1&cursor=${forged}`, undefined],
      [`/api/v1/customers?sort=name&limit=1&cursor=${cursor}`, undefined],
      [`/api/v1/customers?sort=-name&limit=1&cursor=${cursor}`, token],
      [`/api/v1/contacts?sort=name&limit=1&cursor=${cursor}`, token],
    ] as const)
      expectProblem(await app.request('GET', path, caller === undefined ? {} : { token: caller }), 400, 'validation');
  });

  it('q searches only the text the caller may see', async () => {
    const visible = await app.request('GET', '/api/v1/customers?q=Leak%20Co%201', { token });
    expect(visible.body.items.map((c: { name: string }) => c.name)).toEqual(['Leak Co 1']);
    for (const q of ['8765', SECRET_MOBILE, '1391234']) {
      expect((await app.request('GET', `/api/v1/customers?q=${q}`, { token })).body.items, q).toEqual([]);
      expect((await app.request('GET', `/api/v1/customers?q=${q}`)).body.items, `admin ${q}`).toHaveLength(1);
    }
    expect((await app.request('GET', `/api/v1/contacts?q=${SECRET_MOBILE}`, { token })).body.items).toEqual([]);
    expect((await app.request('GET', '/api/v1/contacts?q=钱七', { token })).body.items).toHaveLength(1);
    expect((await app.request('GET', `/api/v1/contacts?q=${SECRET_MOBILE}`)).body.items).toHaveLength(1);
  });

  it('the collision check matches phones only exactly (normalised), and never shows a hidden name', async () => {
    expectProblem(await app.request('GET', '/api/v1/customers/duplicates?phone=8765', { token }), 400, 'validation');
    for (const phone of ['021-8765', '87654321', '1391234567'])
      expect((await app.request('GET', `/api/v1/customers/duplicates?phone=${phone}`, { token })).body.matches, phone).toEqual([]);
    for (const phone of ['02187654321', '021 8765 4321', '+86 139 1234 5678', SECRET_MOBILE]) {
      const found = await app.request('GET', `/api/v1/customers/duplicates?phone=${encodeURIComponent(phone)}`, { token });
      expect(found.body.matches.map((m: { name: string }) => m.name), phone).toEqual(['Leak Co 1']);
    }
    const nameless = await app.request('GET', `/api/v1/customers/duplicates?phone=${SECRET_MOBILE}`, { token: namelessToken });
    expect(nameless.body.matches).toEqual([{ name: null, ownerName: 'leaky', inPool: false, matchedOn: ['phone'] }]);
  });

  it('no answer the caller can reach carries a hidden value: records, lists, CSV, history, related panels', async () => {
    const paths = [
      `/api/v1/customers/${customerId}`,
      `/api/v1/customers/${customerId}/history`,
      `/api/v1/customers/${customerId}/related`,
      '/api/v1/customers',
      '/api/v1/customers?sort=name&limit=2',
      '/api/v1/contacts',
      `/api/v1/contacts?customerId=${customerId}`,
    ];
    for (const path of paths) {
      const response = await app.request('GET', path, { token });
      expect(response.status, path).toBe(200);
      for (const secret of [SECRET_PHONE, SECRET_MOBILE, SECRET_INDUSTRY, '900000']) expect(response.text, `${path} leaks ${secret}`).not.toContain(secret);
    }
    for (const path of ['/api/v1/customers', '/api/v1/contacts']) {
      const csv = await app.request('GET', path, { token, headers: { accept: 'text/csv' } });
      expect(csv.status).toBe(200);
      for (const secret of [SECRET_PHONE, SECRET_MOBILE, SECRET_INDUSTRY, '900000']) expect(csv.text, `${path} CSV leaks ${secret}`).not.toContain(secret);
    }
  });

  it('an analyst\'s query sees no hidden value, whatever its stages do with the documents', async () => {
    const pipelines: [string, unknown[]][] = [
      ['customers', []],
      ['customers', [{ $project: { phone: 1, industry: 1, custom: 1, contacts: 1 } }]],
      ['customers', [{ $group: { _id: null, all: { $push: '$$ROOT' } } }]],
      ['customers', [{ $group: { _id: '$phone', industries: { $addToSet: '$industry' }, credit: { $max: '$custom.creditScore' } } }]],
      ['customers', [{ $unwind: '$contacts' }, { $project: { contact: '$contacts' } }]],
      ['customers', [{ $match: { phone: SECRET_PHONE } }, { $project: { name: 1 } }]],
      ['customers', [{ $sort: { 'custom.creditScore': -1 } }, { $limit: 1 }, { $project: { name: 1, rank: { $literal: 1 } } }]],
      ['contacts', [{ $project: { mobile: 1, m: { $concat: ['x', '$mobile'] } } }]],
    ];
    for (const [collection, pipeline] of pipelines) {
      const response = await app.request('POST', '/api/v1/analytics/query', { token: analystToken, body: { collection, pipeline } });
      expect(response.status, JSON.stringify(pipeline)).toBe(200);
      for (const secret of [SECRET_PHONE, SECRET_MOBILE, SECRET_INDUSTRY, '900000', '700000']) expect(response.text, `${JSON.stringify(pipeline)} leaks ${secret}`).not.toContain(secret);
    }
    // Sorting by a hidden value orders nothing: the first customer is not the one with the highest credit.
    const top = await app.request('POST', '/api/v1/analytics/query', { token: analystToken, body: { collection: 'customers', pipeline: [{ $sort: { 'custom.creditScore': -1, _id: 1 } }, { $limit: 1 }] } });
    const byId = await app.request('POST', '/api/v1/analytics/query', { token: analystToken, body: { collection: 'customers', pipeline: [{ $sort: { _id: 1 } }, { $limit: 1 }] } });
    expect(top.body.items[0]._id).toBe(byId.body.items[0]._id);
  });

  it('the duplicates finder neither compares nor shows a hidden field; a mass update or a merge cannot set one', async () => {
    const other = await app.request('POST', '/api/v1/customers', { body: { name: 'Unrelated Widgets', phone: SECRET_PHONE } });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
    const admin = await app.request('GET', '/api/v1/customers/duplicate-candidates');
    expect(admin.body.items.some((pair: { reasons: string[]; customers: { id: string }[] }) => pair.reasons.includes('phone') && pair.customers.some((c) => c.id === other.body.id))).toBe(true);
    const hidden = await app.request('GET', '/api/v1/customers/duplicate-candidates', { token });
    expect(hidden.status).toBe(200);
    expect(JSON.stringify(hidden.body)).not.toContain(SECRET_PHONE);
    expect(hidden.body.items.every((pair: { reasons: string[] }) => !pair.reasons.includes('phone'))).toBe(true);
    const nameless = await app.request('GET', '/api/v1/customers/duplicate-candidates', { token: namelessToken });
    expect(JSON.stringify(nameless.body)).not.toContain('Leak Co');
    expectProblem(await app.request('POST', '/api/v1/customers/bulk', { token, body: { set: { phone: '010-1' } } }), 403, 'field.readonly');
    expectProblem(await app.request('POST', '/api/v1/customers/bulk', { token, body: { filter: { industry: SECRET_INDUSTRY }, set: { level: 'A' } } }), 400, 'validation');
    // Nor can a merge choose whose hidden value the survivor keeps.
    expectProblem(await app.request('POST', `/api/v1/customers/${customerId}/merge`, { token, body: { victimIds: [other.body.id], fieldChoices: { phone: other.body.id } } }), 403, 'field.readonly');
  });

  it("the ERP bridge's sync conflicts leave out a hidden field, and settling one cannot write it", async () => {
    const integrator = (
      await app.request('POST', '/api/v1/roles', {
        body: { name: 'ERP clerk, phone hidden', permissions: { integrations: ['view', 'edit'], customers: ['view'] }, dataScope: 'all', fieldSecurity: { customers: { phone: 'hidden' } } },
      })
    ).body.id as string;
    const employee = await app.request('POST', '/api/v1/employees', { body: { name: 'erp-clerk', departmentId: await app.department('ERP leak'), username: 'erp-clerk', password: 'erp-clerk-pass-1', roleIds: [integrator] } });
    expect(employee.status).toBe(201);
    const clerk = await app.firstLogin('erp-clerk', 'erp-clerk-pass-1');
    const feed = async (erpVersion: number, phone: string) => {
      const response = await app.request('POST', '/api/v1/integrations/erp/inbound', { body: { messages: [{ topic: 'erp.customer', value: { erpCode: 'LEAK-1', erpVersion, name: 'Leak Co 1', phone } }] } });
      await app.services.runner.waitFor(BigInt(response.headers.get('x-position')!), 5000);
      return response.body.results[0] as { status: string; conflictId?: string };
    };
    expect((await feed(1, SECRET_PHONE)).status).toBe('applied');
    await app.request('PATCH', `/api/v1/customers/${customerId}`, { body: { phone: '021-0000-0001', industry: 'Other' } });
    const conflict = await feed(2, '021-0000-0002');
    expect(conflict.status).toBe('conflict');
    const admin = await app.request('GET', '/api/v1/integrations/erp/conflicts');
    expect(JSON.stringify(admin.body)).toContain(SECRET_PHONE);
    const hidden = await app.request('GET', '/api/v1/integrations/erp/conflicts', { token: clerk });
    expect(hidden.status).toBe(200);
    expect(hidden.body.items.map((c: { id: string }) => c.id)).toContain(conflict.conflictId);
    expect(JSON.stringify(hidden.body)).not.toContain(SECRET_PHONE);
    expect(JSON.stringify(hidden.body)).not.toContain('021-0000-000');
    expectProblem(await app.request('POST', `/api/v1/integrations/erp/conflicts/${conflict.conflictId}/resolve`, { token: clerk, body: { take: 'erp' } }), 403, 'field.readonly');
  });
});
