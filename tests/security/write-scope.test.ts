import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../src/api/app.ts';
import { openApiDocument } from '../../src/api/openapi.ts';
import { scopedReferenceFields } from '../../src/commands/references.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/**
 * Writes cannot reach outside the caller's data scope: every id a body sends that names a scoped record must
 * name one the caller may see, or the answer is 404, the same as for an id that does not exist. Conflict
 * answers name only records the caller may see, and a reference custom field is no existence oracle.
 */
const MISSING = '01900000-0000-7000-8000-00000000beef';
type Ids = { customer: string; contact: string; opportunity: string; quote: string; order: string; ownCustomer: string; ownContact: string; ownLead: string; ownOpportunity: string; ownActivity: string; ownTask: string; ownTicket: string; ownExpense: string; productId: string };
/** Per body field, the kind of record it names (its `<kind>.not_found`) and the fixture holding one outside the seller's scope. */
const outOfScope: Record<string, 'customer' | 'contact' | 'opportunity' | 'quote' | 'order'> = { customerId: 'customer', contactId: 'contact', opportunityId: 'opportunity', quoteId: 'quote', orderId: 'order' };
const ACTIVITY_FIELDS = ['customerId', 'contactId', 'opportunityId', 'quoteId', 'orderId'] as const;

/** Every (operation, body field) pair that sends a scoped id, with a valid request pointing that field at `target`. */
const sweep: Record<string, (ids: Ids, target: string) => { method: string; path: string; body: Record<string, unknown> }> = {
  'POST /api/v1/contacts customerId': (_ids, target) => ({ method: 'POST', path: '/api/v1/contacts', body: { customerId: target, name: 'Reach' } }),
  'PATCH /api/v1/contacts/{id} customerId': (ids, target) => ({ method: 'PATCH', path: `/api/v1/contacts/${ids.ownContact}`, body: { customerId: target } }),
  'POST /api/v1/leads/{id}/convert customerId': (ids, target) => ({ method: 'POST', path: `/api/v1/leads/${ids.ownLead}/convert`, body: { customerId: target } }),
  'POST /api/v1/opportunities customerId': (_ids, target) => ({ method: 'POST', path: '/api/v1/opportunities', body: { name: 'Reach', customerId: target, amount: { amount: 100, currency: 'CNY' }, expectedCloseDate: '2026-12-31' } }),
  'PATCH /api/v1/opportunities/{id} customerId': (ids, target) => ({ method: 'PATCH', path: `/api/v1/opportunities/${ids.ownOpportunity}`, body: { customerId: target } }),
  'POST /api/v1/quotes customerId': (ids, target) => ({ method: 'POST', path: '/api/v1/quotes', body: { customerId: target, validUntil: '2099-12-31', lines: [{ productId: ids.productId, quantity: 1 }] } }),
  'POST /api/v1/quotes opportunityId': (ids, target) => ({
    method: 'POST',
    path: '/api/v1/quotes',
    body: { customerId: ids.ownCustomer, opportunityId: target === MISSING ? MISSING : ids.opportunity, validUntil: '2099-12-31', lines: [{ productId: ids.productId, quantity: 1 }] },
  }),
  'POST /api/v1/orders customerId': (ids, target) => ({ method: 'POST', path: '/api/v1/orders', body: { customerId: target, lines: [{ productId: ids.productId, quantity: 1 }] } }),
  ...Object.fromEntries(
    ACTIVITY_FIELDS.flatMap((field) => [
      [`POST /api/v1/activities ${field}`, (ids: Ids, target: string) => ({ method: 'POST', path: '/api/v1/activities', body: { kind: 'call', customerId: ids.ownCustomer, occurredAt: '2026-11-30T01:00:00Z', summary: 'Reach', [field]: target } })],
      [`PATCH /api/v1/activities/{id} ${field}`, (ids: Ids, target: string) => ({ method: 'PATCH', path: `/api/v1/activities/${ids.ownActivity}`, body: { [field]: target } })],
    ]),
  ),
  ...Object.fromEntries(
    (['customerId', 'contactId', 'opportunityId'] as const).flatMap((field) => [
      [`POST /api/v1/tasks ${field}`, (_ids: Ids, target: string) => ({ method: 'POST', path: '/api/v1/tasks', body: { subject: 'Reach', dueAt: '2099-01-01T00:00:00Z', [field]: target } })],
      [`PATCH /api/v1/tasks/{id} ${field}`, (ids: Ids, target: string) => ({ method: 'PATCH', path: `/api/v1/tasks/${ids.ownTask}`, body: { [field]: target } })],
    ]),
  ),
  ...Object.fromEntries(
    (['customerId', 'contactId', 'orderId'] as const).flatMap((field) => [
      [
        `POST /api/v1/tickets ${field}`,
        (ids: Ids, target: string) => ({ method: 'POST', path: '/api/v1/tickets', body: { type: 'repair', channel: 'phone', priority: 'normal', customerId: ids.ownCustomer, subject: 'Reach', description: 'Reach', [field]: target } }),
      ],
      [`PATCH /api/v1/tickets/{id} ${field}`, (ids: Ids, target: string) => ({ method: 'PATCH', path: `/api/v1/tickets/${ids.ownTicket}`, body: { [field]: target } })],
    ]),
  ),
  ...Object.fromEntries(
    (['customerId', 'opportunityId'] as const).flatMap((field) => [
      [`POST /api/v1/expenses ${field}`, (_ids: Ids, target: string) => ({ method: 'POST', path: '/api/v1/expenses', body: { lines: [{ category: 'travel', amount: { amount: 100, currency: 'CNY' }, date: '2026-11-20', description: 'Reach' }], [field]: target } })],
      [`PATCH /api/v1/expenses/{id} ${field}`, (ids: Ids, target: string) => ({ method: 'PATCH', path: `/api/v1/expenses/${ids.ownExpense}`, body: { [field]: target } })],
    ]),
  ),
};

/** The (operation, field) pairs the OpenAPI document says send a scoped id, found by walking every request body. */
function idBearingFields(): string[] {
  const document = openApiDocument(apiRoutes, { version: 'test' }) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>; components: { schemas: Record<string, unknown> } };
  const resolve = (schema: unknown): Record<string, unknown> | undefined => {
    const s = schema as { $ref?: string } | undefined;
    return (s?.$ref ? document.components.schemas[s.$ref.split('/').pop()!] : s) as Record<string, unknown> | undefined;
  };
  const found: string[] = [];
  const walk = (schema: unknown, key: string) => {
    const s = resolve(schema);
    if (!s || typeof s !== 'object') return;
    for (const combinator of ['anyOf', 'oneOf', 'allOf']) for (const inner of (s[combinator] as unknown[] | undefined) ?? []) walk(inner, key);
    if (s.items) walk(s.items, key);
    for (const [name, inner] of Object.entries((s.properties as Record<string, unknown> | undefined) ?? {})) {
      if (name in scopedReferenceFields) found.push(`${key} ${name}`);
      walk(inner, key);
    }
  };
  for (const [path, methods] of Object.entries(document.paths))
    for (const [method, operation] of Object.entries(methods)) walk(operation.requestBody?.content['application/json']?.schema, `${method.toUpperCase()} ${path}`);
  return [...new Set(found)].sort();
}

describe('writes stay inside the caller\'s data scope', () => {
  let app: TestApp;
  let seller: { userId: string; token: string };
  let ids: Ids;
  beforeAll(async () => {
    app = await startTestApp();
    const east = await app.department('East');
    const west = await app.department('West');
    seller = await app.userWithToken('scope.seller', ['salesperson'], east);
    const other = await app.userWithToken('scope.other', ['salesperson'], west);
    const as = (token: string) => ({ token });
    const productId = (await app.request('POST', '/api/v1/products', { body: { code: 'SCOPE-1', name: 'Widget', unit: '件', standardPrice: { amount: 1000, currency: 'CNY' }, taxRate: 13 } })).body.id;
    const customer = (await app.request('POST', '/api/v1/customers', { ...as(other.token), body: { name: 'Other Side Co', taxNumber: '91310000MA1FL9999X' } })).body.id;
    const opportunity = (await app.request('POST', '/api/v1/opportunities', { ...as(other.token), body: { name: 'Their deal', customerId: customer, amount: { amount: 100, currency: 'CNY' }, expectedCloseDate: '2026-12-31' } })).body.id;
    const ownCustomer = (await app.request('POST', '/api/v1/customers', { ...as(seller.token), body: { name: 'My Own Co' } })).body.id;
    const ownContact = (await app.request('POST', '/api/v1/contacts', { ...as(seller.token), body: { customerId: ownCustomer, name: '自己人' } })).body.id;
    const ownLead = (await app.request('POST', '/api/v1/leads', { ...as(seller.token), body: { company: 'Lead Co', person: '某人' } })).body.id;
    const ownOpportunity = (await app.request('POST', '/api/v1/opportunities', { ...as(seller.token), body: { name: 'My deal', customerId: ownCustomer, amount: { amount: 100, currency: 'CNY' }, expectedCloseDate: '2026-12-31' } })).body.id;
    const contact = (await app.request('POST', '/api/v1/contacts', { ...as(other.token), body: { customerId: customer, name: '别人的联系人' } })).body.id;
    const quote = (await app.request('POST', '/api/v1/quotes', { ...as(other.token), body: { customerId: customer, validUntil: '2099-12-31', lines: [{ productId, quantity: 1 }] } })).body.id;
    const order = (await app.request('POST', '/api/v1/orders', { ...as(other.token), body: { customerId: customer, lines: [{ productId, quantity: 1 }] } })).body.id;
    const ownActivity = (await app.request('POST', '/api/v1/activities', { ...as(seller.token), body: { kind: 'call', customerId: ownCustomer, occurredAt: '2026-11-30T01:00:00Z', summary: 'Mine' } })).body.id;
    const ownTask = (await app.request('POST', '/api/v1/tasks', { ...as(seller.token), body: { subject: 'Mine', dueAt: '2099-01-01T00:00:00Z' } })).body.id;
    const ownTicket = (await app.request('POST', '/api/v1/tickets', { ...as(seller.token), body: { type: 'repair', channel: 'phone', priority: 'normal', customerId: ownCustomer, subject: 'Mine', description: 'Mine' } })).body.id;
    const ownExpense = (await app.request('POST', '/api/v1/expenses', { ...as(seller.token), body: { lines: [{ category: 'travel', amount: { amount: 100, currency: 'CNY' }, date: '2026-11-20', description: 'Mine' }] } })).body.id;
    ids = { customer, contact, opportunity, quote, order, ownCustomer, ownContact, ownLead, ownOpportunity, ownActivity, ownTask, ownTicket, ownExpense, productId };
    for (const id of Object.values(ids)) expect(id, JSON.stringify(ids)).toBeTruthy();
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  });
  afterAll(async () => app.close());

  it('the sweep covers every body field of the API that sends a scoped id', () => {
    expect(Object.keys(sweep).sort()).toEqual(idBearingFields());
  });

  it('an id outside the scope answers 404 like a missing one, naming the field, and writes nothing', async () => {
    const failures: string[] = [];
    for (const [name, build] of Object.entries(sweep)) {
      const field = name.split(' ').pop()!;
      const kind = outOfScope[field]!;
      for (const target of [ids[kind], MISSING]) {
        const before = await app.services.eventStore.headPosition();
        const { method, path, body } = build(ids, target);
        const response = await app.request(method, path, { token: seller.token, body });
        if (response.status !== 404 || response.body.code !== `${kind}.not_found` || response.body.errors?.[0]?.path !== field)
          failures.push(`${name} → ${target === MISSING ? 'missing' : 'out of scope'}: ${response.status} ${response.text.slice(0, 160)}`);
        const written = await app.services.eventStore.readAll({ after: before });
        if (written.some((event) => !event.streamId.startsWith('login-'))) failures.push(`${name} wrote ${written.map((e) => e.type).join(', ')}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('conflict answers name only what the caller may see', async () => {
    const duplicate = await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Other Side Co' } });
    expectProblem(duplicate, 409, 'customer.duplicate');
    expect(duplicate.text).not.toContain(ids.customer);
    const byTax = await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Another name', taxNumber: '91310000MA1FL9999X' } });
    expectProblem(byTax, 409, 'customer.duplicate');
    expect(byTax.text).not.toContain(ids.customer);
    // The administrator, who sees it, is told which customer it is.
    expect((await app.request('POST', '/api/v1/customers', { body: { name: 'Other Side Co' } })).body.existingCustomerId).toBe(ids.customer);

    await app.request('POST', '/api/v1/settings/fields/customers', { body: { key: 'erpCode', label: { 'zh-CN': 'ERP 编码', en: 'ERP code' }, type: 'text', unique: true } });
    await app.request('PATCH', `/api/v1/customers/${ids.customer}`, { body: { custom: { erpCode: 'ERP-1' } } });
    const taken = await app.request('PATCH', `/api/v1/customers/${ids.ownCustomer}`, { token: seller.token, body: { custom: { erpCode: 'ERP-1' } } });
    expectProblem(taken, 409, 'field.value_taken');
    expect(taken.text).not.toContain(ids.customer);

    await app.request('POST', `/api/v1/customers/${ids.ownCustomer}/release`, { token: seller.token, body: {} });
    const admin = (await app.request('GET', '/api/v1/me')).body.userId;
    await app.request('POST', `/api/v1/customers/${ids.ownCustomer}/claim`, { body: {} });
    const claimed = await app.request('POST', `/api/v1/customers/${ids.ownCustomer}/claim`, { token: seller.token, body: {} });
    expect([404, 409]).toContain(claimed.status);
    expect(claimed.text).not.toContain(admin);
  });

  it('a reference custom field answers the same for a record outside the scope and one that does not exist', async () => {
    await app.request('POST', '/api/v1/settings/fields/contacts', { body: { key: 'referredBy', label: { 'zh-CN': '推荐客户', en: 'Referred by' }, type: 'reference', referenceTo: 'customers' } });
    const mine = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Referrer Co' } })).body.id;
    const answers = [];
    for (const target of [ids.customer, MISSING]) {
      const response = await app.request('POST', '/api/v1/contacts', { token: seller.token, body: { customerId: mine, name: '介绍人', custom: { referredBy: target } } });
      answers.push({ status: response.status, code: response.body.code, detail: String(response.body.detail).replace(target, '<id>') });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]!.status, JSON.stringify(answers)).toBe(404);
    const ok = await app.request('POST', '/api/v1/contacts', { token: seller.token, body: { customerId: mine, name: '介绍人', custom: { referredBy: mine } } });
    expect(ok.status).toBe(201);
  });
});
