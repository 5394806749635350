import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleIdByKey } from '../../src/commands/org.ts';
import { roleTemplates } from '../../src/domain/role/index.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/**
 * Someone who may edit the company's settings is not an administrator: they cannot give themselves (or anyone)
 * a role, define roles, reset another person's password or lift a lock. Administration (`security`) can do
 * those, but never grant more than it holds itself. A salesperson confirms their own order only within its
 * customer's credit, and never approves anything (over credit, the approval goes to someone else).
 */
describe('privilege escalation through settings', () => {
  let app: TestApp;
  let settingsEditor: { userId: string; token: string };
  let adminId: string;
  let adminRoleId: string;
  let departmentId: string;
  beforeAll(async () => {
    app = await startTestApp();
    departmentId = await app.department('Escalation');
    const role = await app.request('POST', '/api/v1/roles', { body: { name: 'Settings editor', permissions: { settings: ['view', 'create', 'edit'], customers: ['view'] }, dataScope: 'own' } });
    expect(role.status).toBe(201);
    const employee = await app.request('POST', '/api/v1/employees', { body: { name: 'Editor', departmentId, username: 'settings.editor', password: 'editor-password-1', roleIds: [role.body.id] } });
    settingsEditor = { userId: employee.body.id, token: await app.firstLogin('settings.editor', 'editor-password-1') };
    adminRoleId = (await roleIdByKey(app.services.deps, 'admin'))!;
    adminId = (await app.request('GET', '/api/v1/me')).body.userId;
  });
  afterAll(async () => app.close());

  it('settings:edit cannot give itself the admin role, define roles, reset the admin\'s password or unlock', async () => {
    const token = settingsEditor.token;
    expectProblem(await app.request('PATCH', `/api/v1/employees/${settingsEditor.userId}`, { token, body: { roleIds: [adminRoleId] } }), 403, 'forbidden');
    expectProblem(await app.request('POST', '/api/v1/roles', { token, body: { name: 'Mine', permissions: { customers: ['view', 'delete'] }, dataScope: 'all' } }), 403, 'forbidden');
    const ownRole = (await app.request('GET', `/api/v1/employees/${settingsEditor.userId}`)).body.roleIds[0];
    expectProblem(await app.request('PATCH', `/api/v1/roles/${ownRole}`, { token, body: { permissions: { customers: ['view', 'delete'] } } }), 403, 'forbidden');
    expectProblem(await app.request('POST', `/api/v1/employees/${adminId}/reset-password`, { token, body: { newPassword: 'taken-over-password' } }), 403, 'forbidden');
    expectProblem(await app.request('POST', `/api/v1/employees/${adminId}/unlock`, { token, body: {} }), 403, 'forbidden');
    expectProblem(await app.request('POST', '/api/v1/employees', { token, body: { name: 'Sock puppet', departmentId, username: 'puppet', password: 'puppet-password-1', roleIds: [adminRoleId] } }), 403, 'forbidden');
    // The admin still logs in with the old password; nothing was written.
    expect((await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'admin', password: 'admin-password-1' } })).status).toBe(200);
    expect((await app.request('GET', `/api/v1/employees/${settingsEditor.userId}`)).body.roleIds).toEqual([ownRole]);
    // What settings:edit is for still works: hiring without roles.
    expect((await app.request('POST', '/api/v1/employees', { token, body: { name: 'Plain hire', departmentId } })).status).toBe(201);
  });

  it('administration cannot grant more than it holds, nor take over a more powerful account', async () => {
    const role = await app.request('POST', '/api/v1/roles', { body: { name: 'People admin', permissions: { security: ['view', 'create', 'edit'], settings: ['view', 'create', 'edit'], customers: ['view'] }, dataScope: 'department' } });
    await app.request('POST', '/api/v1/employees', { body: { name: 'People admin', departmentId, username: 'people.admin', password: 'people-password-1', roleIds: [role.body.id] } });
    const token = await app.firstLogin('people.admin', 'people-password-1');
    const beyond = await app.request('POST', '/api/v1/roles', { token, body: { name: 'Too much', permissions: { customers: ['view', 'delete'] }, dataScope: 'department' } });
    expectProblem(beyond, 403, 'forbidden.escalation');
    expect(beyond.body.detail).toContain('customers:delete');
    expectProblem(await app.request('POST', '/api/v1/roles', { token, body: { name: 'Too wide', permissions: { customers: ['view'] }, dataScope: 'all' } }), 403, 'forbidden.escalation');
    const fine = await app.request('POST', '/api/v1/roles', { token, body: { name: 'Viewer', permissions: { customers: ['view'] }, dataScope: 'own' } });
    expect(fine.status).toBe(201);
    expectProblem(await app.request('PATCH', `/api/v1/roles/${fine.body.id}`, { token, body: { permissions: { customers: ['view', 'export'] } } }), 403, 'forbidden.escalation');
    expectProblem(await app.request('PATCH', `/api/v1/employees/${settingsEditor.userId}`, { token, body: { roleIds: [adminRoleId] } }), 403, 'forbidden.escalation');
    expectProblem(await app.request('POST', `/api/v1/employees/${adminId}/reset-password`, { token, body: { newPassword: 'taken-over-password' } }), 403, 'forbidden.escalation');
    // The editor holds settings:create and :edit, which this administrator holds too: their password may be reset.
    expect((await app.request('POST', `/api/v1/employees/${settingsEditor.userId}/reset-password`, { token, body: { newPassword: 'a-temporary-password' } })).status).toBe(200);
  });

  it('the administrator role cannot be narrowed, and holds modules added after it was created', async () => {
    expectProblem(await app.request('PATCH', `/api/v1/roles/${adminRoleId}`, { body: { permissions: { customers: ['view'] } } }), 409, 'role.builtin_admin');
    const me = await app.request('GET', '/api/v1/me');
    expect(me.body.permissions.security).toEqual(expect.arrayContaining(['view', 'create', 'edit']));
    expect(me.body.dataScope).toBe('all');
  });

  it('the salesperson template does not hold approve: a salesperson confirms an order only within credit, and never approves their own', async () => {
    const salesperson = roleTemplates.find((t) => t.key === 'salesperson')!;
    for (const [module, allowed] of Object.entries(salesperson.permissions)) expect(allowed, module).not.toContain('approve');
    const seller = await app.userWithToken('own.orders', ['salesperson']);
    const product = await app.request('POST', '/api/v1/products', { body: { code: 'ESC-1', name: 'Widget', unit: '件', standardPrice: { amount: 1000, currency: 'CNY' }, taxRate: 13 } });
    const customer = await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Own Order Co' } });
    const order = await app.request('POST', '/api/v1/orders', { token: seller.token, body: { customerId: customer.body.id, lines: [{ productId: product.body.id, quantity: 1 }] } });
    expect(order.status).toBe(201);
    // Confirming takes orders:edit (the approval issue): within the customer's credit, the seller confirms it.
    expect((await app.request('POST', `/api/v1/orders/${order.body.id}/confirm`, { token: seller.token, body: {} })).status).toBe(200);
    // Over the credit limit, the order waits for an approval the seller can never give (nobody approves their own).
    await app.request('PATCH', `/api/v1/customers/${customer.body.id}`, { body: { creditLimit: { amount: 1500, currency: 'CNY' } } });
    const second = await app.request('POST', '/api/v1/orders', { token: seller.token, body: { customerId: customer.body.id, lines: [{ productId: product.body.id, quantity: 1 }] } });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
    expectProblem(await app.request('POST', `/api/v1/orders/${second.body.id}/confirm`, { token: seller.token, body: {} }), 409, 'order.credit_exceeded');
    expectProblem(await app.request('POST', `/api/v1/orders/${second.body.id}/request-approval`, { token: seller.token, body: {} }), 409, 'approval.no_approver');
  });
});
