import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

describe('field-level security', () => {
  let app: TestApp;
  let token: string;
  let userId: string;
  let customerId: string;
  let roleId: string;
  beforeAll(async () => {
    app = await startTestApp();
    await app.request('POST', '/api/v1/settings/fields/customers', { body: { key: 'creditScore', label: { 'zh-CN': '信用评分', en: 'Credit score' }, type: 'integer' } });
    const department = await app.department('FLS');
    const role = await app.request('POST', '/api/v1/roles', {
      body: {
        name: 'Restricted sales',
        permissions: { customers: ['view', 'create', 'edit', 'export'], contacts: ['view', 'create', 'edit', 'export'] },
        dataScope: 'department',
        fieldSecurity: { customers: { annualRevenue: 'hidden', 'custom.creditScore': 'hidden', phone: 'readonly' }, contacts: { mobile: 'hidden' } },
      },
    });
    expect(role.status).toBe(201);
    roleId = role.body.id;
    const employee = await app.request('POST', '/api/v1/employees', { body: { name: 'Restricted', departmentId: department, username: 'restricted', password: 'restricted-pass', roleIds: [roleId] } });
    userId = employee.body.id;
    token = await app.firstLogin('restricted', 'restricted-pass');
    const created = await app.request('POST', '/api/v1/customers', {
      body: { name: 'Secret Revenue Co', phone: '021-5555', annualRevenue: { amount: 9_900_000_00, currency: 'CNY' }, custom: { creditScore: 500000 }, ownerId: userId },
    });
    customerId = created.body.id;
    await app.request('PATCH', `/api/v1/customers/${customerId}`, { body: { custom: { creditScore: 600000 }, industry: 'Steel' } });
    await app.request('POST', '/api/v1/contacts', { body: { customerId, name: '赵敏', mobile: '13800001234', email: 'zm@x.cn' } });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  });
  afterAll(async () => app.close());

  it('hides fields from a record, its embedded contacts, lists and related panels', async () => {
    const one = await app.request('GET', `/api/v1/customers/${customerId}`, { token });
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('annualRevenue');
    expect(one.body.custom).toEqual({});
    expect(one.body.phone).toBe('021-5555');
    expect(one.body.contacts[0]).not.toHaveProperty('mobile');
    expect(one.body.contacts[0].email).toBe('zm@x.cn');
    const list = await app.request('GET', '/api/v1/customers', { token });
    expect(list.body.items[0]).not.toHaveProperty('annualRevenue');
    expect(JSON.stringify(list.body)).not.toContain('13800001234');
    const contacts = await app.request('GET', '/api/v1/contacts', { token });
    expect(contacts.body.items[0]).not.toHaveProperty('mobile');
    const related = await app.request('GET', `/api/v1/customers/${customerId}/related`, { token });
    expect(related.body.panels[0].items[0]).not.toHaveProperty('mobile');
    // The administrator sees everything.
    const admin = await app.request('GET', `/api/v1/customers/${customerId}`);
    expect(admin.body.annualRevenue.amount).toBe(990000000);
    expect(admin.body.custom.creditScore).toBe(600000);
  });

  it('hides fields from exports and history', async () => {
    const csv = await app.request('GET', '/api/v1/customers', { token, headers: { accept: 'text/csv' } });
    const header = csv.text.split('\r\n')[0]!;
    expect(header).not.toMatch(/annualRevenue|creditScore/);
    expect(csv.text).not.toContain('990000000');
    const contactsCsv = await app.request('GET', '/api/v1/contacts', { token, headers: { accept: 'text/csv' } });
    expect(contactsCsv.text).not.toContain('13800001234');
    const history = await app.request('GET', `/api/v1/customers/${customerId}/history`, { token });
    expect(history.body.items[0].data.fields).not.toHaveProperty('annualRevenue');
    expect(history.body.items[0].data.fields.custom).toEqual({});
    expect(history.body.items[1].data.changes).toEqual({ industry: 'Steel' });
    expect(JSON.stringify(history.body)).not.toMatch(/990000000|600000|500000/);
  });

  it('refuses writes to hidden or read-only fields with 403 naming the field', async () => {
    const patch = await app.request('PATCH', `/api/v1/customers/${customerId}`, { token, body: { phone: '021-0000' } });
    expectProblem(patch, 403, 'field.readonly');
    expect(patch.body.fields).toEqual(['phone']);
    const custom = await app.request('PATCH', `/api/v1/customers/${customerId}`, { token, body: { custom: { creditScore: 1 } } });
    expectProblem(custom, 403, 'field.readonly');
    expect(custom.body.fields).toEqual(['custom.creditScore']);
    expectProblem(await app.request('POST', '/api/v1/customers', { token, body: { name: 'Sneaky Co', annualRevenue: { amount: 1, currency: 'CNY' } } }), 403, 'field.readonly');
    expectProblem(await app.request('POST', '/api/v1/contacts', { token, body: { customerId, name: 'X', mobile: '13900000000' } }), 403, 'field.readonly');
    expect((await app.request('PATCH', `/api/v1/customers/${customerId}`, { token, body: { notes: 'allowed' } })).status).toBe(200);
  });

  it('combines roles like permissions: another role without the rule lifts it', async () => {
    const open = await app.request('POST', '/api/v1/roles', { body: { name: 'Open viewer', permissions: { customers: ['view'] }, dataScope: 'own', fieldSecurity: { customers: { phone: 'hidden' } } } });
    await app.request('PATCH', `/api/v1/employees/${userId}`, { body: { roleIds: [roleId, open.body.id] } });
    const one = await app.request('GET', `/api/v1/customers/${customerId}`, { token });
    expect(one.body.annualRevenue.amount).toBe(990000000);
    expect(one.body.phone).toBe('021-5555');
    expectProblem(await app.request('PATCH', `/api/v1/customers/${customerId}`, { token, body: { phone: '021-0000' } }), 403, 'field.readonly');
    expect((await app.request('GET', '/api/v1/me', { token })).body.fieldRules).toEqual({ customers: { phone: 'readonly' } });
    await app.request('PATCH', `/api/v1/employees/${userId}`, { body: { roleIds: [roleId] } });
  });

  it('refuses rules on unknown resources or fields', async () => {
    const bad = await app.request('POST', '/api/v1/roles', { body: { name: 'Bad', permissions: {}, dataScope: 'own', fieldSecurity: { customers: { colour: 'hidden', 'custom.nope': 'readonly' }, widgets: { a: 'hidden' } } } });
    expectProblem(bad, 400, 'validation');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['fieldSecurity.customers.colour', 'fieldSecurity.customers.custom.nope', 'fieldSecurity.widgets']);
  });
});
