import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';
import { ErpBridgeStatus } from '../../src/integrations/erp/status.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });

describe('the ERP bridge, inbound (POST /api/v1/integrations/erp/inbound)', () => {
  let app: TestApp;
  const clock = new ManualClock(new Date('2026-12-01T08:00:00.000Z'));
  let seller: { userId: string; token: string };
  let manager: { userId: string; token: string };
  let otherManager: { userId: string; token: string };

  const inbound = async (...messages: { topic: string; value: unknown }[]) => {
    clock.advance(1000);
    const response = await app.request('POST', '/api/v1/integrations/erp/inbound', { body: { messages } });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    await app.services.runner.waitFor(BigInt(response.headers.get('x-position')!), 10_000);
    return response.body.results as { status: string; recordId?: string; conflictId?: string; reason?: string }[];
  };
  const customer = (erpCode: string, erpVersion: number, fields: Record<string, unknown>) => ({ topic: 'erp.customer', value: { erpCode, erpVersion, ...fields } });
  const get = async (path: string, token?: string) => {
    const response = await app.request('GET', path, { token });
    expect(response.status, `${path}: ${JSON.stringify(response.body)}`).toBe(200);
    return response.body;
  };

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    const sales = await app.department('ERP sales');
    seller = await app.userWithToken('erp.seller', ['salesperson'], sales);
    manager = await app.userWithToken('erp.manager', ['manager'], sales);
    otherManager = await app.userWithToken('erp.other', ['manager'], await app.department('ERP elsewhere'));
  });
  afterAll(() => app.close());

  it('publishes its contract: every topic with its version and JSON Schema', async () => {
    const all = await get('/api/v1/integrations/erp/schema');
    expect(all.topics.map((t: { topic: string }) => t.topic)).toEqual(['erp.employee', 'erp.customer', 'erp.contact', 'erp.product', 'erp.inventory', 'erp.receivable', 'erp.order-ack', 'crm.erp.customer', 'crm.erp.order', 'crm.erp.payment']);
    const one = await get('/api/v1/integrations/erp/schema?topic=erp.customer');
    expect(one.topics).toHaveLength(1);
    expect(one.topics[0]).toMatchObject({ topic: 'erp.customer', direction: 'inbound', version: 1 });
    expect(one.topics[0].schema.required).toEqual(expect.arrayContaining(['erpCode', 'erpVersion', 'name']));
    expectProblem(await app.request('GET', '/api/v1/integrations/erp/schema', { token: seller.token }), 403, 'forbidden');
  });

  it('rejects a new ERP customer until a default owner is set; the owner must be an enabled employee', async () => {
    const [result] = await inbound(customer('C-000', 1, { name: '未设负责人公司' }));
    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringContaining('erp.default_owner_missing') });
    expect((await app.request('PUT', '/api/v1/settings/erp', { body: { defaultOwnerId: '00000000-0000-7000-8000-000000000000' } })).status).toBe(409);
    const saved = await app.request('PUT', '/api/v1/settings/erp', { body: { defaultOwnerId: seller.userId } });
    expect(saved.status).toBe(200);
    expect(await get('/api/v1/settings/erp')).toEqual({ defaultOwnerId: seller.userId });
  });

  it('creates an unknown ERP customer owned by the default owner, written by erp-bridge, listed by erpCode; a redelivery or an older version changes nothing', async () => {
    const [created] = await inbound(customer('C-001', 3, { name: '苏州恒通精密有限公司', phone: '0512-6000 0001', address: '苏州工业园区' }));
    expect(created).toMatchObject({ status: 'applied', recordId: expect.any(String) });
    const doc = await get(`/api/v1/customers/${created!.recordId}`);
    expect(doc).toMatchObject({ name: '苏州恒通精密有限公司', erpCode: 'C-001', ownerId: seller.userId, phone: '0512-6000 0001' });
    const history = await get(`/api/v1/customers/${created!.recordId}/history`);
    expect(history.items.map((item: { actor: string }) => item.actor)).toEqual(['erp-bridge']);
    const listed = await get('/api/v1/customers?erpCode=C-001');
    expect(listed.items.map((c: { id: string }) => c.id)).toEqual([created!.recordId]);

    // The same version again, then an older one, in one request: nothing changes.
    const again = await inbound(customer('C-001', 3, { name: '苏州恒通精密有限公司', phone: '0512-6000 0001', address: '苏州工业园区' }), customer('C-001', 2, { name: '苏州恒通（旧名）' }));
    expect(again).toEqual([{ status: 'unchanged', recordId: created!.recordId }, { status: 'unchanged', recordId: created!.recordId }]);
    expect((await get(`/api/v1/customers/${created!.recordId}`)).name).toBe('苏州恒通精密有限公司');
    expect((await get(`/api/v1/customers/${created!.recordId}/history`)).items).toHaveLength(1);

    // A newer version, twice in one request: written once.
    const newer = await inbound(customer('C-001', 4, { name: '苏州恒通精密有限公司', phone: '0512-6000 0002', address: '苏州工业园区' }), customer('C-001', 4, { name: '苏州恒通精密有限公司', phone: '0512-6000 0002', address: '苏州工业园区' }));
    expect(newer.map((r) => r.status)).toEqual(['applied', 'unchanged']);
    expect((await get(`/api/v1/customers/${created!.recordId}`)).phone).toBe('0512-6000 0002');
    expect((await get(`/api/v1/customers/${created!.recordId}/history`)).items).toHaveLength(2);
  });

  it('never overwrites a CRM edit made since the last sync: the field is a conflict, the rest is written; take erp settles it', async () => {
    const [created] = await inbound(customer('C-010', 1, { name: '无锡华光机电', phone: '0510-1111', address: '无锡' }));
    const id = created!.recordId!;
    const patched = await app.request('PATCH', `/api/v1/customers/${id}`, { body: { phone: '0510-9999' }, token: seller.token });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await app.services.runner.waitFor(BigInt(patched.headers.get('x-position')!), 10_000);
    const [result] = await inbound(customer('C-010', 2, { name: '无锡华光机电', phone: '0510-2222', address: '无锡新吴区' }));
    expect(result).toMatchObject({ status: 'conflict', recordId: id, conflictId: expect.any(String), reason: expect.stringContaining('phone') });
    const kept = await get(`/api/v1/customers/${id}`);
    expect(kept).toMatchObject({ phone: '0510-9999', address: '无锡新吴区' });

    const open = await get('/api/v1/integrations/erp/conflicts', manager.token);
    const conflict = open.items.find((c: { id: string }) => c.id === result!.conflictId);
    expect(conflict).toMatchObject({ kind: 'customer', erpCode: 'C-010', recordId: id, reason: 'edited', status: 'open', fields: [{ field: 'phone', erp: '0510-2222', crm: '0510-9999', base: '0510-1111' }] });
    // Outside the manager's scope it is not there, and cannot be settled (404).
    expect((await get('/api/v1/integrations/erp/conflicts', otherManager.token)).items.map((c: { id: string }) => c.id)).not.toContain(result!.conflictId);
    expectProblem(await app.request('POST', `/api/v1/integrations/erp/conflicts/${result!.conflictId}/resolve`, { body: { take: 'erp' }, token: otherManager.token }), 403, 'forbidden');
    expectProblem(await app.request('POST', `/api/v1/integrations/erp/conflicts/${result!.conflictId}/resolve`, { body: { take: 'erp' }, token: seller.token }), 403, 'forbidden');

    const settled = await app.request('POST', `/api/v1/integrations/erp/conflicts/${result!.conflictId}/resolve`, { body: { take: 'erp' } });
    expect(settled.status, JSON.stringify(settled.body)).toBe(200);
    expect(settled.body).toEqual({ id: result!.conflictId, take: 'erp', recordId: id, status: 'resolved' });
    await app.services.runner.waitFor(BigInt(settled.headers.get('x-position')!), 10_000);
    expect((await get(`/api/v1/customers/${id}`)).phone).toBe('0510-2222');
    expect((await get('/api/v1/integrations/erp/conflicts?status=resolved')).items.find((c: { id: string }) => c.id === result!.conflictId)).toMatchObject({ status: 'resolved', take: 'erp' });
    expectProblem(await app.request('POST', `/api/v1/integrations/erp/conflicts/${result!.conflictId}/resolve`, { body: { take: 'crm' } }), 409, 'erp.conflict_closed');
    expectProblem(await app.request('POST', '/api/v1/integrations/erp/conflicts/nope/resolve', { body: { take: 'crm' } }), 404, 'conflict.not_found');

    // The next ERP version bases its merge on what it said last time: the CRM edit kept is no new conflict.
    const [next] = await inbound(customer('C-010', 3, { name: '无锡华光机电', phone: '0510-2222', address: '无锡新吴区' }));
    expect(next!.status).toBe('unchanged');
  });

  it('links an ERP customer to the CRM customer holding its tax number; another ERP customer with it is an identity conflict', async () => {
    const made = await app.request('POST', '/api/v1/customers', { body: { name: '常州新材料', taxNumber: '91320400MA1X0001', phone: '0519-1' }, token: seller.token });
    expect(made.status).toBe(201);
    const id = made.body.id as string;
    const [linked] = await inbound(customer('C-020', 1, { name: '常州新材料科技有限公司', taxNumber: '91320400MA1X0001' }));
    expect(linked).toEqual({ status: 'applied', recordId: id });
    expect(await get(`/api/v1/customers/${id}`)).toMatchObject({ erpCode: 'C-020', name: '常州新材料科技有限公司', phone: '0519-1' });

    const [clash] = await inbound(customer('C-021', 1, { name: '常州新材料（分部）', taxNumber: '91320400MA1X0001' }));
    expect(clash).toMatchObject({ status: 'conflict', recordId: id, reason: expect.stringContaining('C-020') });
    expect((await get(`/api/v1/customers?erpCode=C-021`)).items).toHaveLength(0);
    const conflict = (await get('/api/v1/integrations/erp/conflicts?kind=customer')).items.find((c: { id: string }) => c.id === clash!.conflictId);
    expect(conflict).toMatchObject({ reason: 'identity', erpCode: 'C-021', recordId: id });
    // Redelivered: the same conflict, not a second one.
    expect((await inbound(customer('C-021', 1, { name: '常州新材料（分部）', taxNumber: '91320400MA1X0001' })))[0]!.status).toBe('unchanged');
    // The ERP is right: the CRM customer now belongs to C-021, and C-020 is unlinked.
    const settled = await app.request('POST', `/api/v1/integrations/erp/conflicts/${clash!.conflictId}/resolve`, { body: { take: 'erp' } });
    expect(settled.status, JSON.stringify(settled.body)).toBe(200);
    await app.services.runner.waitFor(BigInt(settled.headers.get('x-position')!), 10_000);
    expect(await get(`/api/v1/customers/${id}`)).toMatchObject({ erpCode: 'C-021', name: '常州新材料（分部）' });
    // C-020's next version finds the tax number held by a customer linked to C-021: a conflict again, nothing overwritten.
    const [back] = await inbound(customer('C-020', 2, { name: '常州新材料科技有限公司', taxNumber: '91320400MA1X0001' }));
    expect(back!.status).toBe('conflict');
    expect((await get(`/api/v1/customers/${id}`)).name).toBe('常州新材料（分部）');
  });

  it('retires and restores: an ERP customer retired archives the CRM customer', async () => {
    const [created] = await inbound(customer('C-030', 1, { name: '南通港机' }));
    await inbound(customer('C-030', 2, { name: '南通港机', retired: true }));
    expect((await get(`/api/v1/customers/${created!.recordId}`)).status).toBe('archived');
    await inbound(customer('C-030', 3, { name: '南通港机股份', retired: false }));
    expect(await get(`/api/v1/customers/${created!.recordId}`)).toMatchObject({ status: 'active', name: '南通港机股份' });
  });

  it('creates and links products by their ERP code, with erpCode on the product and its list filter', async () => {
    const product = { erpCode: 'P-100', erpVersion: 1, name: '数控车床', spec: 'CK6140', unit: '台', standardPrice: CNY(12_800_000), taxRate: 13 };
    const [created] = await inbound({ topic: 'erp.product', value: product });
    expect(created).toMatchObject({ status: 'applied' });
    expect(await get(`/api/v1/products/${created!.recordId}`)).toMatchObject({ code: 'P-100', erpCode: 'P-100', name: '数控车床', specification: 'CK6140', active: true, standardPrice: CNY(12_800_000) });
    expect((await get('/api/v1/products?erpCode=P-100')).items.map((p: { id: string }) => p.id)).toEqual([created!.recordId]);
    await inbound({ topic: 'erp.product', value: { ...product, erpVersion: 2, standardPrice: CNY(13_000_000), retired: true } });
    expect(await get(`/api/v1/products/${created!.recordId}`)).toMatchObject({ active: false, standardPrice: CNY(13_000_000) });
    // A product the CRM made with the same code is linked, not duplicated.
    const own = await app.request('POST', '/api/v1/products', { body: { code: 'P-200', name: '铣床', unit: '台', standardPrice: CNY(1), taxRate: 13 } });
    const [linked] = await inbound({ topic: 'erp.product', value: { ...product, erpCode: 'P-200', name: '立式铣床' } });
    expect(linked).toEqual({ status: 'applied', recordId: own.body.id });
    const [badCode] = await inbound({ topic: 'erp.product', value: { ...product, erpCode: '车床 1' } });
    expect(badCode).toMatchObject({ status: 'rejected', reason: expect.stringContaining('cannot be a product code') });
  });

  it("adds contacts under their customer's link, matches one the CRM has by e-mail, and removes a retired one", async () => {
    const contact = (erpCode: string, erpVersion: number, fields: Record<string, unknown>) => ({ topic: 'erp.contact', value: { erpCode, erpVersion, ...fields } });
    const [early] = await inbound(contact('K-1', 1, { customerErpCode: 'C-060', name: '周经理' }));
    expect(early).toMatchObject({ status: 'rejected', reason: expect.stringContaining('C-060 is not synced yet') });
    const [owner] = await inbound(customer('C-060', 1, { name: '杭州西湖电气' }));
    const [added] = await inbound(contact('K-1', 2, { customerErpCode: 'C-060', name: '周经理', mobile: '13800000001' }));
    expect(added).toMatchObject({ status: 'applied' });
    expect(await get(`/api/v1/contacts/${added!.recordId}`)).toMatchObject({ name: '周经理', customerId: owner!.recordId, erpCode: 'K-1', mobile: '13800000001' });
    expect((await get('/api/v1/contacts?erpCode=K-1')).items.map((c: { id: string }) => c.id)).toEqual([added!.recordId]);
    // A contact the CRM already has (same customer, same e-mail) is linked, not added twice.
    const own = await app.request('POST', '/api/v1/contacts', { body: { customerId: owner!.recordId, name: '吴工', email: 'wu@xihu.example' } });
    expect(own.status).toBe(201);
    await app.services.runner.waitFor(BigInt(own.headers.get('x-position')!), 10_000);
    const [linked] = await inbound(contact('K-2', 1, { customerErpCode: 'C-060', name: '吴工程师', email: 'wu@xihu.example' }));
    expect(linked).toEqual({ status: 'applied', recordId: own.body.id });
    expect(await get(`/api/v1/contacts/${own.body.id}`)).toMatchObject({ name: '吴工程师', erpCode: 'K-2' });
    await inbound(contact('K-1', 3, { customerErpCode: 'C-060', name: '周经理', retired: true }));
    expect((await app.request('GET', `/api/v1/contacts/${added!.recordId}`)).status).toBe(404);
  });

  it("shows the ERP's stock on products and its receivables on customers; the credit check counts the ERP's books", async () => {
    const [product] = await inbound({ topic: 'erp.product', value: { erpCode: 'P-300', erpVersion: 1, name: '液压泵', unit: '台', standardPrice: CNY(1_000_000), taxRate: 13 } });
    const stock = (warehouse: string, erpVersion: number, quantity: number) => ({ topic: 'erp.inventory', value: { erpCode: 'P-300', erpVersion, warehouse, quantity, available: quantity - 1, asOf: '2026-12-01T07:00:00Z' } });
    expect((await inbound(stock('WH-SH', 5, 12), stock('WH-SZ', 1, 3.5), stock('WH-SH', 4, 99))).map((r) => r.status)).toEqual(['applied', 'applied', 'unchanged']);
    expect((await get(`/api/v1/products/${product!.recordId}`)).inventory).toEqual([
      { warehouse: 'WH-SH', quantity: 12, available: 11, asOf: '2026-12-01T07:00:00Z' },
      { warehouse: 'WH-SZ', quantity: 3.5, available: 2.5, asOf: '2026-12-01T07:00:00Z' },
    ]);

    // 10,000.00 limit; the ERP's books say 8,000.00 owed; an order of 3,390.00 (3,000.00 + 13 % VAT) goes over it.
    const [buyer] = await inbound(customer('C-070', 1, { name: '嘉兴纺机' }));
    const changed = await app.request('PATCH', `/api/v1/customers/${buyer!.recordId}`, { body: { creditLimit: CNY(1_000_000) } });
    expect(changed.status).toBe(200);
    expect((await get(`/api/v1/customers/${buyer!.recordId}`)).receivable).toBeNull();
    await inbound({ topic: 'erp.receivable', value: { erpCode: 'C-070', erpVersion: 1, balance: CNY(800_000), overdue: CNY(100_000), asOf: '2026-11-30T16:00:00Z' } });
    expect((await get(`/api/v1/customers/${buyer!.recordId}`)).receivable).toEqual({ balance: CNY(800_000), overdue: CNY(100_000), asOf: '2026-11-30T16:00:00Z' });
    const order = await app.request('POST', '/api/v1/orders', { body: { customerId: buyer!.recordId, lines: [{ productId: product!.recordId, quantity: 0.3 }] } });
    expect(order.status, JSON.stringify(order.body)).toBe(201);
    const refused = await app.request('POST', `/api/v1/orders/${order.body.id}/confirm`, { body: {} });
    expectProblem(refused, 409, 'order.credit_exceeded');
    expect(refused.body).toMatchObject({ openReceivables: CNY(800_000), orderAmount: CNY(339_000) });
    // Paid down in the ERP: the next report lets it through.
    await inbound({ topic: 'erp.receivable', value: { erpCode: 'C-070', erpVersion: 2, balance: CNY(500_000), asOf: '2026-12-01T16:00:00Z' } });
    expect((await app.request('POST', `/api/v1/orders/${order.body.id}/confirm`, { body: {} })).status).toBe(200);
  });

  it('keeps employees: hired without a login or roles, matched by login name, moved by department name, disabled when retired', async () => {
    const employee = (erpCode: string, erpVersion: number, fields: Record<string, unknown>) => ({ topic: 'erp.employee', value: { erpCode, erpVersion, ...fields } });
    const [hired] = await inbound(employee('E-1', 1, { name: '郑会计', email: 'zheng@erp.example', departmentName: 'ERP sales' }));
    expect(hired).toMatchObject({ status: 'applied' });
    const doc = await get(`/api/v1/employees/${hired!.recordId}`);
    expect(doc).toMatchObject({ name: '郑会计', erpCode: 'E-1', username: null, roleIds: [], disabled: false });
    expect((await get('/api/v1/employees?erpCode=E-1')).items.map((e: { id: string }) => e.id)).toEqual([hired!.recordId]);
    const [matched] = await inbound(employee('E-2', 1, { name: 'ERP Seller', username: 'erp.seller' }));
    expect(matched).toEqual({ status: 'applied', recordId: seller.userId });
    const [nowhere] = await inbound(employee('E-3', 1, { name: '无部门', departmentName: '不存在的部门' }));
    expect(nowhere).toMatchObject({ status: 'rejected', reason: expect.stringContaining('No department named') });
    await inbound(employee('E-1', 2, { name: '郑会计', email: 'zheng@erp.example', retired: true }));
    expect((await get(`/api/v1/employees/${hired!.recordId}`)).disabled).toBe(true);
  });

  it('rejects what breaks the contract, says why, and goes on with the other messages', async () => {
    const results = await inbound(
      { topic: 'erp.customer', value: { erpCode: 'C-040', name: '缺版本' } },
      { topic: 'erp.nothing', value: {} },
      { topic: 'erp.customer', value: { erpCode: 'C-041', erpVersion: 1, name: '扬州机床', fax: '1' } },
      customer('C-042', 1, { name: '镇江动力' }),
    );
    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.stringContaining('erpVersion') });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: expect.stringContaining('Unknown inbound topic erp.nothing') });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: expect.stringContaining('fax') });
    expect(results[3]).toMatchObject({ status: 'applied' });
  });

  it('reports per topic what it took and the last error; a rejection degrades /readyz until a message is taken', async () => {
    await inbound({ topic: 'erp.receivable', value: { erpCode: 'C-080', erpVersion: 1, balance: CNY(1) } });
    let ready = await app.request('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', checks: { 'erp:erp.receivable': 'retrying' } });
    const status = await get('/api/v1/integrations/erp/status', manager.token);
    expect(status).toMatchObject({ transport: 'http', inboundLag: null, openConflicts: expect.any(Number) });
    expect(status.links.customer).toBeGreaterThan(3);
    const receivables = status.topics.find((t: { topic: string }) => t.topic === 'erp.receivable');
    expect(receivables).toMatchObject({ rejected: 1, troubled: true, lastError: expect.stringContaining('asOf'), lastErrorAt: expect.any(String) });
    await inbound({ topic: 'erp.receivable', value: { erpCode: 'C-080', erpVersion: 1, balance: CNY(1), asOf: '2026-12-01T00:00:00Z' } });
    ready = await app.request('GET', '/readyz', { token: null });
    expect(ready.body.checks['erp:erp.receivable']).toBeUndefined();
    expect((await get('/api/v1/integrations/erp/status')).topics.find((t: { topic: string }) => t.topic === 'erp.receivable')).toMatchObject({ troubled: false, applied: expect.any(Number) });
    const metrics = await app.request('GET', '/metrics', { token: null });
    expect(metrics.text).toContain('crm_erp_messages{topic="erp.receivable",outcome="rejected"} 1');
  });

  it('reports the whole bridge from any instance: what another instance (the leading worker) handled counts too', async () => {
    const before = (await get('/api/v1/integrations/erp/status')).topics.find((t: { topic: string }) => t.topic === 'erp.order-ack');
    const worker = new ErpBridgeStatus(() => new Date('2030-01-01T00:00:00Z'), app.services.integrationStore, 'worker-elsewhere');
    worker.handled('erp.order-ack', { status: 'applied' });
    worker.handled('erp.order-ack', { status: 'unchanged' });
    await worker.flush();
    const after = (await get('/api/v1/integrations/erp/status')).topics.find((t: { topic: string }) => t.topic === 'erp.order-ack');
    expect(after).toMatchObject({ messages: (before?.messages ?? 0) + 2, applied: (before?.applied ?? 0) + 1, lastMessageAt: '2030-01-01T00:00:00.000Z', troubled: false });
  });

  it('is for administrators: a salesperson or a manager may not feed it', async () => {
    const body = { messages: [customer('C-050', 1, { name: '无权公司' })] };
    expectProblem(await app.request('POST', '/api/v1/integrations/erp/inbound', { body, token: seller.token }), 403, 'forbidden');
    expectProblem(await app.request('POST', '/api/v1/integrations/erp/inbound', { body, token: manager.token }), 403, 'forbidden');
    expectProblem(await app.request('POST', '/api/v1/integrations/erp/inbound', { body: { messages: [] } }), 400, 'validation');
  });
});
