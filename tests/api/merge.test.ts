import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import type { ReadStore } from '../../src/infra/readstore/port.ts';
import { CONTACTS, CUSTOMERS } from '../../src/projections/customers.ts';
import { CUSTOMER_SALES_MONTHLY } from '../../src/projections/orders.ts';
import { SERVICE_BY_CUSTOMER } from '../../src/projections/service.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { completedBatch } from '../support/batches.ts';
import { docDigest, digests } from '../support/digests.ts';
import { expectProblem } from '../support/problem.ts';

const caughtUp = async (app: TestApp) => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
const CNY = (amount: number) => ({ amount, currency: 'CNY' });

/**
 * The digests of the counters a collection keeps (documents keyed by what they count), leaving out those that count
 * nothing: a count taken back to 0 is the same count as none.
 */
async function countersDigest(store: ReadStore, collection: string): Promise<string[]> {
  const counts = (doc: Record<string, unknown>) => Object.values(doc).some((value) => typeof value === 'number' && value !== 0 && value !== doc._position);
  return (await store.collection(collection).find({})).filter((doc) => counts(doc as Record<string, unknown>)).map((doc) => docDigest(doc as Record<string, unknown>)).sort();
}

describe('merge duplicate customers, and unmerge (the undo of the merge)', () => {
  let app: TestApp;
  const clock = new ManualClock(new Date('2026-11-10T08:00:00.000Z'));
  let seller: { userId: string; token: string };
  let outsider: { userId: string; token: string };
  let survivor: string;
  let victims: string[];
  const records: Record<string, string[]> = { contacts: [], activities: [], opportunities: [], quotes: [], orders: [], tickets: [], tasks: [], expenses: [] };

  const completed = (batchId: string, token?: string) => completedBatch(app, batchId, token);

  /** Every read-model document a merge touches, by digest: the customers, their records, and the counters kept per customer. */
  async function snapshot() {
    const store = app.services.readStore;
    const docs: Record<string, unknown> = { customers: await digests(store, CUSTOMERS, [survivor, ...victims]) };
    for (const [collection, ids] of Object.entries(records)) docs[collection] = await digests(store, collection === 'contacts' ? CONTACTS : collection, ids);
    for (const counters of [CUSTOMER_SALES_MONTHLY, SERVICE_BY_CUSTOMER, 'expenses_customers']) docs[counters] = await countersDigest(store, counters);
    return docs;
  }

  const post = async (path: string, body: Record<string, unknown>, token?: string) => {
    clock.advance(60_000);
    const response = await app.request('POST', path, { body, token });
    expect(response.status, `${path}: ${JSON.stringify(response.body)}`).toBeLessThan(300);
    return response.body as { id: string } & Record<string, unknown>;
  };

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    const department = await app.department('Merge sales');
    seller = await app.userWithToken('merge.seller', ['salesperson'], department);
    outsider = await app.userWithToken('merge.outsider', ['salesperson'], await app.department('Merge elsewhere'));
    const product = (await post('/api/v1/products', { code: 'MRG-1', name: '合并泵', unit: '台', standardPrice: CNY(10_000_00), taxRate: 13 })).id;
    survivor = (await post('/api/v1/customers', { name: '华东精工机械有限公司', phone: '021-6000 0001', level: 'A' }, seller.token)).id;
    victims = [
      (await post('/api/v1/customers', { name: '华东精工机械（上海）', phone: '021-6000 0002', industry: '机械制造' }, seller.token)).id,
      (await post('/api/v1/customers', { name: 'Huadong Precision Machinery', region: '华东' }, seller.token)).id,
    ];
    const [v1, v2] = victims as [string, string];
    records.contacts!.push((await post('/api/v1/contacts', { customerId: survivor, name: '赵经理' }, seller.token)).id);
    records.contacts!.push((await post('/api/v1/contacts', { customerId: v1, name: '王经理', mobile: '13900002222' }, seller.token)).id);
    records.contacts!.push((await post('/api/v1/contacts', { customerId: v2, name: 'Mr. Li' }, seller.token)).id);
    records.activities!.push((await post('/api/v1/activities', { kind: 'call', customerId: v1, occurredAt: clock.now().toISOString(), summary: '电话沟通' }, seller.token)).id);
    records.opportunities!.push((await post('/api/v1/opportunities', { name: '二期产线', customerId: v1, amount: CNY(500_000_00), expectedCloseDate: '2027-03-31' }, seller.token)).id);
    records.tasks!.push((await post('/api/v1/tasks', { subject: '回访', dueAt: '2026-11-20T08:00:00.000Z', customerId: v1 }, seller.token)).id);
    records.tickets!.push((await post('/api/v1/tickets', { type: 'repair', channel: 'phone', priority: 'normal', customerId: v1, subject: '水泵异响', description: '运行时有异响' }, seller.token)).id);
    records.expenses!.push((await post('/api/v1/expenses', { title: '拜访', customerId: v1, lines: [{ category: 'travel', amount: CNY(150_00), date: '2026-11-09', description: '出租车' }] }, seller.token)).id);
    await post(`/api/v1/expenses/${records.expenses![0]}/submit`, {}, seller.token);
    records.quotes!.push((await post('/api/v1/quotes', { customerId: v2, validUntil: '2026-12-20', lines: [{ productId: product, quantity: 1 }] }, seller.token)).id);
    const order = (await post('/api/v1/orders', { customerId: v1, lines: [{ productId: product, quantity: 2 }] })).id;
    records.orders!.push(order);
    await post(`/api/v1/orders/${order}/confirm`, {});
    await post(`/api/v1/orders/${order}/payments`, { amount: CNY(5_000_00), receivedAt: '2026-11-10T10:00:00Z', method: 'bank_transfer' });
    await caughtUp(app);
  });
  afterAll(async () => app.close());

  it('moves every record of the duplicates to the survivor, which takes the chosen values; the duplicates point at it and take no writes; the undo restores every document exactly', async () => {
    const [v1, v2] = victims as [string, string];
    const before = await snapshot();
    const v1Name = (await app.request('GET', `/api/v1/customers/${v1}`, { token: seller.token })).body.name;
    clock.advance(3_600_000);
    const started = await app.request('POST', `/api/v1/customers/${survivor}/merge`, { body: { victimIds: [v1, v2], fieldChoices: { name: v1, phone: v1, industry: v1, level: survivor } }, token: seller.token });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.headers.get('location')).toBe(`/api/v1/batches/${started.body.batchId}`);
    const batch = await completed(started.body.batchId, seller.token);
    expect(batch).toMatchObject({ kind: 'merge', resource: 'customers', actorId: seller.userId, skipped: 0, conflicts: [], label: { 'zh-CN': '合并重复客户' } });
    // The 2 duplicates, their 9 records (2 contacts, an activity, an opportunity, a task, a ticket, an expense
    // claim, a quote, an order), and the survivor (its values and its note of the merge).
    expect(batch).toMatchObject({ records: 2 + 9 + 1, events: 2 + 9 + 2 });

    // The duplicates: readable, pointing at the survivor, left out of lists, refusing writes and references.
    const merged = await app.request('GET', `/api/v1/customers/${v1}`, { token: seller.token });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({ status: 'merged', mergedInto: survivor });
    expectProblem(await app.request('PATCH', `/api/v1/customers/${v1}`, { body: { notes: 'x' }, token: seller.token }), 409, 'customer.merged');
    expectProblem(await app.request('POST', `/api/v1/customers/${v2}/archive`, { body: {} }), 409, 'customer.merged');
    expectProblem(await app.request('POST', '/api/v1/contacts', { body: { customerId: v1, name: '新联系人' }, token: seller.token }), 409, 'customer.merged');
    const listed = (await app.request('GET', '/api/v1/customers?limit=50', { token: seller.token })).body.items.map((c: { id: string }) => c.id);
    expect(listed).toContain(survivor);
    expect(listed).not.toContain(v1);
    const mergedList = (await app.request('GET', '/api/v1/customers?status=merged', { token: seller.token })).body.items.map((c: { id: string }) => c.id);
    expect(mergedList.sort()).toEqual([v1, v2].sort());
    expectProblem(await app.request('POST', `/api/v1/customers/${survivor}/merge`, { body: { victimIds: [v1] }, token: seller.token }), 409, 'customer.merged');

    // The survivor: the chosen values (its name taken over from the duplicate), all the records.
    const taken = (await app.request('GET', `/api/v1/customers/${survivor}`, { token: seller.token })).body;
    expect(taken).toMatchObject({ name: v1Name, phone: '021-6000 0002', industry: '机械制造', level: 'A', status: 'active', contactCount: 3 });
    expect(taken.lastContactedAt).toBeDefined();
    for (const [resource, ids] of Object.entries(records)) {
      for (const id of ids) expect((await app.request('GET', `/api/v1/${resource}/${id}`)).body.customerId, `${resource} ${id}`).toBe(survivor);
    }
    const sales = await app.services.readStore.collection(CUSTOMER_SALES_MONTHLY).find({});
    expect(sales.filter((doc) => doc.customerId === survivor)).toMatchObject([{ month: '2026-11', orders: 1, collected: 5_000_00 }]);
    expect(sales.filter((doc) => doc.customerId === v1).every((doc) => doc.orders === 0 && doc.collected === 0)).toBe(true);
    // So do its service and expense counts (the service report and the expenses report by customer).
    const service = await app.services.readStore.collection(SERVICE_BY_CUSTOMER).find({ opened: { $gt: 0 } });
    expect(service.map((doc) => doc.customerId)).toEqual([survivor]);
    const expenses = await app.services.readStore.collection('expenses_customers').find({ submitted: { $gt: 0 } });
    expect(expenses.map((doc) => doc.customerId)).toEqual([survivor]);
    // History shows the merge on every record touched.
    const history = (await app.request('GET', `/api/v1/opportunities/${records.opportunities![0]}/history`)).body.items as { type: string; batchId?: string }[];
    expect(history.at(-1)).toMatchObject({ type: 'OpportunityChanged', batchId: started.body.batchId });
    const survivorHistory = (await app.request('GET', `/api/v1/customers/${survivor}/history`)).body.items as { type: string; batchId?: string }[];
    expect(survivorHistory.at(-1)).toMatchObject({ type: 'CustomersMergedIn', batchId: started.body.batchId });

    // Unmerge: the undo of the merge batch.
    clock.advance(3_600_000);
    const undo = await app.request('POST', `/api/v1/batches/${started.body.batchId}/undo`, { body: {}, token: seller.token });
    expect(undo.status).toBe(202);
    const undone = await completed(undo.body.batchId, seller.token);
    expect(undone).toMatchObject({ kind: 'undo', undoes: started.body.batchId, skipped: 0, conflicts: [] });
    expect(await snapshot()).toEqual(before);
    // Each duplicate has its own name again, and it is taken: a new customer cannot have it.
    expectProblem(await app.request('POST', '/api/v1/customers', { body: { name: v1Name }, token: seller.token }), 409, 'customer.duplicate');
    expect((await app.request('PATCH', `/api/v1/customers/${v1}`, { body: { notes: 'after unmerge' }, token: seller.token })).status).toBe(200);
  });

  it('a record changed after the merge is reported by the unmerge and stays with the survivor', async () => {
    const [v1, v2] = victims as [string, string];
    clock.advance(3_600_000);
    const started = await app.request('POST', `/api/v1/customers/${survivor}/merge`, { body: { victimIds: [v2] }, token: seller.token });
    await completed(started.body.batchId, seller.token);
    const quote = records.quotes![0]!;
    expect((await app.request('GET', `/api/v1/quotes/${quote}`)).body.customerId).toBe(survivor);
    const contact = records.contacts![2]!;
    clock.advance(60_000);
    expect((await app.request('PATCH', `/api/v1/contacts/${contact}`, { body: { title: '采购' }, token: seller.token })).status).toBe(200);
    clock.advance(3_600_000);
    const undo = await app.request('POST', `/api/v1/batches/${started.body.batchId}/undo`, { body: {}, token: seller.token });
    const undone = await completed(undo.body.batchId, seller.token);
    expect(undone).toMatchObject({ skipped: 1, conflicts: [{ resource: 'contacts', recordId: contact, reason: 'changed_after_batch', changedBy: seller.userId }] });
    expect((await app.request('GET', `/api/v1/contacts/${contact}`)).body.customerId).toBe(survivor);
    expect((await app.request('GET', `/api/v1/quotes/${quote}`)).body.customerId).toBe(v2);
    expect((await app.request('GET', `/api/v1/customers/${v2}`)).body.status).toBe('active');
    expect(v1).toBeDefined();
  });

  it('contacts: a duplicate contact merged into another takes its activities, tasks and tickets along and leaves its customer; the unmerge restores every document', async () => {
    const customer = (await post('/api/v1/customers', { name: '联系人合并测试有限公司' }, seller.token)).id;
    const keep = (await post('/api/v1/contacts', { customerId: customer, name: '王五', email: 'wang5@example.com' }, seller.token)).id;
    const dup = (await post('/api/v1/contacts', { customerId: customer, name: '王五（重复）', mobile: '13700000001' }, seller.token)).id;
    const activity = (await post('/api/v1/activities', { kind: 'call', customerId: customer, contactId: dup, occurredAt: clock.now().toISOString(), summary: '约拜访' }, seller.token)).id;
    const task = (await post('/api/v1/tasks', { subject: '回电', dueAt: '2026-11-30T08:00:00.000Z', customerId: customer, contactId: dup }, seller.token)).id;
    const ticket = (await post('/api/v1/tickets', { type: 'repair', channel: 'phone', priority: 'normal', customerId: customer, contactId: dup, subject: '报修', description: '不转' }, seller.token)).id;
    await caughtUp(app);
    const snap = async () => ({
      customers: await digests(app.services.readStore, CUSTOMERS, [customer]),
      contacts: await digests(app.services.readStore, CONTACTS, [keep, dup]),
      activities: await digests(app.services.readStore, 'activities', [activity]),
      tasks: await digests(app.services.readStore, 'tasks', [task]),
      tickets: await digests(app.services.readStore, 'tickets', [ticket]),
    });
    const before = await snap();
    clock.advance(3_600_000);
    const started = await app.request('POST', `/api/v1/contacts/${keep}/merge`, { body: { victimIds: [dup], fieldChoices: { mobile: dup } }, token: seller.token });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(await completed(started.body.batchId, seller.token)).toMatchObject({ kind: 'merge', resource: 'contacts', records: 1 + 3 + 1, skipped: 0 });
    expect((await app.request('GET', `/api/v1/contacts/${dup}`, { token: seller.token })).body).toMatchObject({ status: 'merged', mergedInto: keep });
    expect((await app.request('GET', `/api/v1/contacts/${keep}`, { token: seller.token })).body).toMatchObject({ mobile: '13700000001', email: 'wang5@example.com' });
    expectProblem(await app.request('PATCH', `/api/v1/contacts/${dup}`, { body: { title: 'x' }, token: seller.token }), 409, 'contact.merged');
    expectProblem(await app.request('POST', '/api/v1/activities', { body: { kind: 'call', customerId: customer, contactId: dup, occurredAt: clock.now().toISOString(), summary: 'x' }, token: seller.token }), 409, 'contact.merged');
    const owner = (await app.request('GET', `/api/v1/customers/${customer}`, { token: seller.token })).body;
    expect(owner.contactCount).toBe(1);
    expect(owner.contacts.map((c: { id: string }) => c.id)).toEqual([keep]);
    expect((await app.request('GET', `/api/v1/contacts?customerId=${customer}`, { token: seller.token })).body.items.map((c: { id: string }) => c.id)).toEqual([keep]);
    expect((await app.request('GET', `/api/v1/contacts?customerId=${customer}&status=merged`, { token: seller.token })).body.items.map((c: { id: string }) => c.id)).toEqual([dup]);
    for (const [resource, id] of [['activities', activity], ['tasks', task], ['tickets', ticket]] as const) expect((await app.request('GET', `/api/v1/${resource}/${id}`)).body.contactId, resource).toBe(keep);
    clock.advance(3_600_000);
    const undo = await app.request('POST', `/api/v1/batches/${started.body.batchId}/undo`, { body: {}, token: seller.token });
    expect(await completed(undo.body.batchId, seller.token)).toMatchObject({ skipped: 0, conflicts: [] });
    expect(await snap()).toEqual(before);
  });

  it('refuses what cannot be merged, and nobody merges outside their scope', async () => {
    const [v1, v2] = victims as [string, string];
    const merge = (survivorId: string, body: Record<string, unknown>, token = seller.token) => app.request('POST', `/api/v1/customers/${survivorId}/merge`, { body, token });
    expectProblem(await merge(survivor, { victimIds: [v1] }, outsider.token), 404, 'customer.not_found');
    const theirs = (await post('/api/v1/customers', { name: '别处的客户' }, outsider.token)).id;
    expectProblem(await merge(survivor, { victimIds: [theirs] }), 404, 'customer.not_found');
    expectProblem(await merge(theirs, { victimIds: [v1] }), 404, 'customer.not_found');
    expectProblem(await merge(survivor, { victimIds: [survivor] }), 409, 'customer.merge_self');
    expectProblem(await merge(survivor, { victimIds: [v1, v1] }), 400, 'validation');
    expectProblem(await merge(survivor, { victimIds: [] }), 400, 'validation');
    expectProblem(await merge(survivor, { victimIds: [v1], fieldChoices: { name: v2 } }), 409, 'merge.choice_unknown');
    expectProblem(await merge(survivor, { victimIds: [v1], fieldChoices: { ownerId: v1 } }), 400, 'validation');
    const nothingStarted = (await app.request('GET', '/api/v1/batches?kind=merge')).body.items.length;
    expect(nothingStarted).toBe(3);
  });
});
