import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { disableEmployee, systemActor } from '../../src/commands/employees.ts';
import { systemClock } from '../../src/infra/clock.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/**
 * The actor (employee, roles, department chain) and the field definitions are served from memory once read.
 * Each case warms that memory with a request, changes what it holds, and expects the very next request to
 * see the change, whether this process or another one (another store on the same file) made it.
 */
describe('warm caches stay exact', () => {
  let app: TestApp;
  afterEach(async () => app?.close());

  const me = (token: string) => app.request('GET', '/api/v1/me', { token });

  it('a role change takes effect on the next request', async () => {
    app = await startTestApp();
    const role = await app.request('POST', '/api/v1/roles', { body: { name: 'Looker', permissions: { customers: ['view'] }, dataScope: 'all' } });
    const department = await app.department('Looking');
    const hired = await app.request('POST', '/api/v1/employees', { body: { name: 'Looker', departmentId: department, username: 'looker', password: 'looker-password-1', roleIds: [role.body.id] } });
    expect(hired.status).toBe(201);
    const token = await app.firstLogin('looker', 'looker-password-1');
    for (let i = 0; i < 2; i++) expect((await app.request('GET', '/api/v1/customers', { token })).status).toBe(200);
    expect((await app.request('PATCH', `/api/v1/roles/${role.body.id}`, { body: { permissions: { contacts: ['view'] } } })).status).toBe(200);
    expectProblem(await app.request('GET', '/api/v1/customers', { token }), 403, 'forbidden');
    expect((await me(token)).body.permissions).toEqual({ contacts: ['view'] });
    // And another role given to them instead.
    const seller = (await app.request('GET', '/api/v1/roles')).body.items.find((r: { key: string }) => r.key === 'salesperson').id;
    expect((await app.request('PATCH', `/api/v1/employees/${hired.body.id}`, { body: { roleIds: [seller] } })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/customers', { token })).status).toBe(200);
  });

  it('a disable takes effect on the next request', async () => {
    app = await startTestApp();
    const user = await app.userWithToken('soon.gone', ['salesperson'], await app.department('Leaving'));
    for (let i = 0; i < 2; i++) expect((await me(user.token)).status).toBe(200);
    expect((await app.request('POST', `/api/v1/employees/${user.userId}/disable`, { body: {} })).status).toBe(200);
    expectProblem(await me(user.token), 401, 'unauthorized');
  });

  it("a move to another department, and a move of the department itself, take effect on the next request", async () => {
    app = await startTestApp();
    const east = await app.department('East');
    const west = await app.department('West');
    const team = await app.department('Team', east);
    const user = await app.userWithToken('mover', ['salesperson'], team);
    for (let i = 0; i < 2; i++) expect((await me(user.token)).body.departmentPath).toBe(`/${east}/${team}/`);
    expect((await app.request('PATCH', `/api/v1/departments/${team}`, { body: { parentId: west } })).status).toBe(200);
    expect((await me(user.token)).body.departmentPath).toBe(`/${west}/${team}/`);
    expect((await app.request('PATCH', `/api/v1/employees/${user.userId}`, { body: { departmentId: east } })).status).toBe(200);
    expect((await me(user.token)).body).toMatchObject({ departmentId: east, departmentPath: `/${east}/` });
  });

  it('a field definition change takes effect on the next request', async () => {
    app = await startTestApp();
    const define = await app.request('POST', '/api/v1/settings/fields/customers', { body: { key: 'tier', label: { 'zh-CN': '等级', en: 'Tier' }, type: 'select', options: ['gold'] } });
    expect(define.status).toBe(201);
    expect((await app.request('POST', '/api/v1/customers', { body: { name: 'Gold One', custom: { tier: 'gold' } } })).status).toBe(201);
    expectProblem(await app.request('POST', '/api/v1/customers', { body: { name: 'Silver One', custom: { tier: 'silver' } } }), 400, 'validation');
    expect((await app.request('PATCH', '/api/v1/settings/fields/customers/tier', { body: { options: ['gold', 'silver'] } })).status).toBe(200);
    expect((await app.request('POST', '/api/v1/customers', { body: { name: 'Silver One', custom: { tier: 'silver' } } })).status).toBe(201);
    expect((await app.request('POST', '/api/v1/settings/fields/customers/tier/retire')).status).toBe(200);
    expectProblem(await app.request('POST', '/api/v1/customers', { body: { name: 'Gold Two', custom: { tier: 'gold' } } }), 400, 'validation');
  });

  it('a change written by another process takes effect on the next request', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-warm-'));
    app = await startTestApp({ CRM_DATA_DIR: dataDir });
    const user = await app.userWithToken('elsewhere', ['salesperson'], await app.department('Elsewhere'));
    for (let i = 0; i < 2; i++) expect((await me(user.token)).status).toBe(200);
    // What `npm run …` in another process would do: its own store on the same file.
    const other = new SqliteEventStore({ path: join(dataDir, 'events.sqlite') });
    await disableEmployee({ eventStore: other, clock: systemClock }, user.userId, 'from another process', systemActor, app.services.requestMeta('other-process'));
    await other.close();
    expectProblem(await me(user.token), 401, 'unauthorized');
  });
});
