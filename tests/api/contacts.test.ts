import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

describe('contacts over HTTP', () => {
  let app: TestApp;
  let customerId: string;
  let otherCustomerId: string;
  beforeAll(async () => {
    app = await startTestApp();
    customerId = (await app.request('POST', '/api/v1/customers', { body: { name: '深圳华星电子有限公司' } })).body.id;
    otherCustomerId = (await app.request('POST', '/api/v1/customers', { body: { name: 'Other Customer Co' } })).body.id;
  });
  afterAll(async () => app.close());

  const seen = async (response: { headers: Headers }) => app.services.runner.waitFor(BigInt(response.headers.get('x-position')!), 2000);
  const add = async (body: Record<string, unknown>) => {
    const response = await app.request('POST', '/api/v1/contacts', { body: { customerId, ...body } });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    await seen(response);
    return response.body.id as string;
  };

  it('adds a contact; the customer shows it among its related objects', async () => {
    const response = await app.request('POST', '/api/v1/contacts', {
      body: { customerId, name: '李娜', title: '采购总监', dealRole: 'decision_maker', mobile: '13900001111', email: 'lina@huaxing.example.cn', birthday: '1985-04-12' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/api/v1/contacts/${response.body.id}`);
    const contact = await app.request('GET', `/api/v1/contacts/${response.body.id}`, { headers: { 'x-min-position': response.headers.get('x-position')! } });
    expect(contact.body).toMatchObject({ id: response.body.id, revision: 0, name: '李娜', customerId, customerName: '深圳华星电子有限公司', dealRole: 'decision_maker' });
    const customer = await app.request('GET', `/api/v1/customers/${customerId}`);
    expect(customer.body.contacts).toEqual([expect.objectContaining({ id: response.body.id, name: '李娜', title: '采购总监', email: 'lina@huaxing.example.cn' })]);
  });

  it('refuses invalid fields, an unknown customer and an archived customer', async () => {
    const invalid = await app.request('POST', '/api/v1/contacts', { body: { customerId, name: 'X', email: 'not-an-email', birthday: '1985-02-30', dealRole: 'boss' } });
    expectProblem(invalid, 400, 'validation');
    expect(invalid.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['birthday', 'dealRole', 'email']);
    expectProblem(await app.request('POST', '/api/v1/contacts', { body: { name: 'X' } }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/contacts', { body: { customerId: '01900000-0000-7000-8000-000000000000', name: 'X' } }), 404, 'customer.not_found');
    const archived = (await app.request('POST', '/api/v1/customers', { body: { name: 'Archived For Contacts' } })).body.id;
    await app.request('POST', `/api/v1/customers/${archived}/archive`);
    expectProblem(await app.request('POST', '/api/v1/contacts', { body: { customerId: archived, name: 'X' } }), 409, 'contact.customer_archived');
  });

  it('finds customers by a contact name', async () => {
    await add({ name: 'Zhang Wei Unique' });
    const response = await app.request('GET', '/api/v1/customers?q=wei%20uniq');
    expect(response.body.items.map((c: { id: string }) => c.id)).toEqual([customerId]);
  });

  it('changes a contact, and a rename reaches the customer summary', async () => {
    const id = await add({ name: 'Before Rename', title: 'Engineer' });
    const changed = await app.request('PATCH', `/api/v1/contacts/${id}`, { body: { name: 'After Rename', title: null } });
    expect(changed.body).toEqual({ id, revision: 1 });
    await seen(changed);
    const contact = await app.request('GET', `/api/v1/contacts/${id}`);
    expect(contact.body.name).toBe('After Rename');
    expect(contact.body).not.toHaveProperty('title');
    const customer = await app.request('GET', `/api/v1/customers/${customerId}`);
    expect(customer.body.contacts.map((c: { name: string }) => c.name)).toContain('After Rename');
    expect(customer.body.contacts.map((c: { name: string }) => c.name)).not.toContain('Before Rename');
    expectProblem(await app.request('PATCH', `/api/v1/contacts/${id}`, { body: { name: 'X' }, headers: { 'if-match': '"0"' } }), 412, 'precondition_failed');
  });

  it('moves a contact to another customer', async () => {
    const id = await add({ name: 'Mover' });
    const moved = await app.request('PATCH', `/api/v1/contacts/${id}`, { body: { customerId: otherCustomerId } });
    expect(moved.status).toBe(200);
    await seen(moved);
    expect((await app.request('GET', `/api/v1/contacts/${id}`)).body).toMatchObject({ customerId: otherCustomerId, customerName: 'Other Customer Co' });
    const before = await app.request('GET', `/api/v1/customers/${customerId}`);
    const after = await app.request('GET', `/api/v1/customers/${otherCustomerId}`);
    expect(before.body.contacts.map((c: { id: string }) => c.id)).not.toContain(id);
    expect(after.body.contacts.map((c: { id: string }) => c.id)).toContain(id);
  });

  it("follows its customer's renamed name and new owner", async () => {
    const id = await add({ name: 'Follower' });
    const owner = await app.userWithToken('contact-owner', ['salesperson'], await app.department('Contact Owners'));
    await app.request('PATCH', `/api/v1/customers/${customerId}`, { body: { name: '深圳华星电子股份有限公司' } });
    const assigned = await app.request('POST', `/api/v1/customers/${customerId}/assign`, { body: { ownerId: owner.userId } });
    await seen(assigned);
    expect((await app.request('GET', `/api/v1/contacts/${id}`)).body).toMatchObject({ customerName: '深圳华星电子股份有限公司', ownerId: owner.userId });
    const visible = await app.request('GET', `/api/v1/contacts/${id}`, { token: owner.token });
    expect(visible.status).toBe(200);
  });

  it('removes a contact: gone from lists, history still readable', async () => {
    const id = await add({ name: 'Leaver' });
    const removed = await app.request('DELETE', `/api/v1/contacts/${id}`);
    expect(removed.body).toEqual({ id, revision: 1 });
    await seen(removed);
    expectProblem(await app.request('GET', `/api/v1/contacts/${id}`), 404, 'contact.not_found');
    expectProblem(await app.request('DELETE', `/api/v1/contacts/${id}`), 404, 'contact.not_found');
    const history = await app.request('GET', `/api/v1/contacts/${id}/history`);
    expect(history.body.items.map((i: { type: string }) => i.type)).toEqual(['ContactAdded', 'ContactRemoved']);
    const customer = await app.request('GET', `/api/v1/customers/${customerId}`);
    expect(customer.body.contacts.map((c: { id: string }) => c.id)).not.toContain(id);
  });

  it('answers ?asOf= from the events', async () => {
    const id = await add({ name: 'Time Traveller', title: 'Intern' });
    const then = app.services.clock.now().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await app.request('PATCH', `/api/v1/contacts/${id}`, { body: { title: 'Director' } });
    const response = await app.request('GET', `/api/v1/contacts/${id}?asOf=${encodeURIComponent(then)}`);
    expect(response.body).toMatchObject({ id, revision: 0, title: 'Intern', customerId });
  });

  it('lists contacts: filter by customer, search, page, export', async () => {
    const list = await app.request('GET', `/api/v1/contacts?customerId=${otherCustomerId}`);
    expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(['Mover']);
    const search = await app.request('GET', '/api/v1/contacts?q=13900001111');
    expect(search.body.items.map((c: { name: string }) => c.name)).toEqual(['李娜']);
    const page = await app.request('GET', '/api/v1/contacts?limit=2&sort=name');
    expect(page.body.items).toHaveLength(2);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await app.request('GET', `/api/v1/contacts?limit=2&sort=name&cursor=${page.body.nextCursor}`);
    expect(next.body.items[0].name >= page.body.items[1].name).toBe(true);
    const csv = await app.request('GET', '/api/v1/contacts', { headers: { accept: 'text/csv' } });
    expect(csv.text.split('\r\n')[0]).toBe('id,name,title,dealRole,officePhone,mobile,email,birthday,customerId,customerName,ownerId,createdAt,updatedAt');
    expectProblem(await app.request('GET', '/api/v1/contacts?dealRole=boss'), 400, 'validation');
  });

  it('keeps contacts of customers outside the scope hidden', async () => {
    const sales = await app.userWithToken('contact-scope', ['salesperson'], await app.department('Contact Scope'));
    const id = await add({ name: 'Hidden Contact' });
    expectProblem(await app.request('GET', `/api/v1/contacts/${id}`, { token: sales.token }), 404, 'contact.not_found');
    expectProblem(await app.request('GET', `/api/v1/contacts/${id}/history`, { token: sales.token }), 404, 'contact.not_found');
    const list = await app.request('GET', '/api/v1/contacts?q=hidden', { token: sales.token });
    expect(list.body.items).toEqual([]);
    expectProblem(await app.request('DELETE', `/api/v1/contacts/${id}`, { token: sales.token }), 403, 'forbidden');
  });
});
