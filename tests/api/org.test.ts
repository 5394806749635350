import { managersAbove } from '../../src/commands/org.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHandover } from '../../src/commands/handover.ts';
import { systemActor } from '../../src/commands/employees.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { resumeHandovers, startBackgroundWork } from '../../src/app/jobs.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const caughtUp = async (app: TestApp) => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);

describe('organisation and access control', () => {
  let app: TestApp;
  const clock = new ManualClock(new Date('2026-11-01T08:00:00.000Z'));
  beforeAll(async () => {
    app = await startTestApp({}, { clock });
  });
  afterAll(async () => app.close());

  describe('departments', () => {
    it('builds a tree; paths follow the ancestry; cycles and unknown parents are refused', async () => {
      const root = await app.request('POST', '/api/v1/departments', { body: { name: '销售中心' } });
      expect(root.status).toBe(201);
      const east = await app.request('POST', '/api/v1/departments', { body: { name: '华东', parentId: root.body.id } });
      const shanghai = await app.request('POST', '/api/v1/departments', { body: { name: '上海', parentId: east.body.id } });
      await caughtUp(app);
      const read = await app.request('GET', `/api/v1/departments/${shanghai.body.id}`);
      expect(read.body).toMatchObject({ name: '上海', parentId: east.body.id, path: `/${root.body.id}/${east.body.id}/${shanghai.body.id}/` });
      expectProblem(await app.request('PATCH', `/api/v1/departments/${east.body.id}`, { body: { parentId: shanghai.body.id } }), 409, 'department.cycle');
      expectProblem(await app.request('POST', '/api/v1/departments', { body: { name: 'X', parentId: '01900000-0000-7000-8000-000000000000' } }), 409, 'department.parent_unknown');
      const list = await app.request('GET', `/api/v1/departments?parentId=${root.body.id}`);
      expect(list.body.items.map((d: { name: string }) => d.name)).toEqual(['华东']);
    });

    it('a department names its manager; the managers above an employee come nearest first, never the employee', async () => {
      const head = await app.department('Managed head');
      const team = await app.department('Managed team', head);
      const boss = await app.userWithToken('mgr.boss', ['manager'], head);
      const lead = await app.userWithToken('mgr.lead', ['manager'], team);
      const member = await app.userWithToken('mgr.member', ['salesperson'], team);
      expect((await app.request('PATCH', `/api/v1/departments/${head}`, { body: { managerId: boss.userId } })).status).toBe(200);
      expect((await app.request('PATCH', `/api/v1/departments/${team}`, { body: { managerId: lead.userId } })).status).toBe(200);
      expect(await managersAbove(app.services.deps, member.userId)).toEqual([lead.userId, boss.userId]);
      expect(await managersAbove(app.services.deps, lead.userId)).toEqual([boss.userId]);
      expect(await managersAbove(app.services.deps, boss.userId)).toEqual([]);
      await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
      expect((await app.request('GET', `/api/v1/departments/${team}`)).body).toMatchObject({ managerId: lead.userId });
      expectProblem(await app.request('PATCH', `/api/v1/departments/${team}`, { body: { managerId: '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c12' } }), 404, 'employee.not_found');
      expectProblem(await app.request('PATCH', `/api/v1/departments/${team}`, { token: member.token, body: { managerId: member.userId } }), 403, 'forbidden');
      expect((await app.request('PATCH', `/api/v1/departments/${team}`, { body: { managerId: null } })).status).toBe(200);
      expect(await managersAbove(app.services.deps, member.userId)).toEqual([boss.userId]);
    });

    it('moving a department moves its people and their records into the new scope', async () => {
      const north = await app.department('North Region');
      const south = await app.department('South Region');
      const team = await app.department('Team T', south);
      const northManager = await app.userWithToken('north-manager', ['manager'], north);
      const seller = await app.userWithToken('team-t-seller', ['salesperson'], team);
      const created = await app.request('POST', '/api/v1/customers', { body: { name: 'Moving Scope Co' }, token: seller.token });
      await caughtUp(app);
      expect((await app.request('GET', `/api/v1/customers/${created.body.id}`, { token: northManager.token })).status).toBe(404);
      const moved = await app.request('PATCH', `/api/v1/departments/${team}`, { body: { parentId: north } });
      expect(moved.status).toBe(200);
      await caughtUp(app);
      const seen = await app.request('GET', `/api/v1/customers/${created.body.id}`, { token: northManager.token });
      expect(seen.status).toBe(200);
      expect(seen.body.departmentPath).toBe(`/${north}/${team}/`);
      expect((await app.request('GET', `/api/v1/customers/${created.body.id}/history`, { token: northManager.token })).status).toBe(200);
    });
  });

  describe('employees and accounts', () => {
    it('adds employees with and without a login; lists them without secrets', async () => {
      const department = await app.department('Directory');
      const salesperson = (await app.request('GET', '/api/v1/roles')).body.items.find((r: { key: string }) => r.key === 'salesperson').id;
      const withLogin = await app.request('POST', '/api/v1/employees', { body: { name: '陈静', departmentId: department, title: '销售代表', username: 'chen.jing', password: 'a-long-password', roleIds: [salesperson] } });
      expect(withLogin.status).toBe(201);
      const without = await app.request('POST', '/api/v1/employees', { body: { name: '仓库 老王', departmentId: department } });
      expect(without.status).toBe(201);
      await caughtUp(app);
      const list = await app.request('GET', `/api/v1/employees?departmentId=${department}`);
      expect(list.body.items).toHaveLength(2);
      expect(list.body.items.find((e: { name: string }) => e.name === '陈静')).toMatchObject({ username: 'chen.jing', roleIds: [salesperson], departmentId: department, disabled: false });
      expect(list.body.items.find((e: { name: string }) => e.name === '仓库 老王')).toMatchObject({ username: null });
      expect(JSON.stringify(list.body)).not.toMatch(/hash|scrypt|"password"/i);
      expect((await app.request('GET', '/api/v1/employees?q=chen')).body.items.map((e: { name: string }) => e.name)).toEqual(['陈静']);
      expect((await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'chen.jing', password: 'a-long-password' } })).status).toBe(200);
    });

    it('refuses a taken username, a short password, an unknown department or role, and a lone username', async () => {
      const department = await app.department('Refusals');
      await app.userWithToken('taken.name', ['salesperson'], department);
      expectProblem(await app.request('POST', '/api/v1/employees', { body: { name: 'X', departmentId: department, username: 'Taken.Name', password: 'a-long-password' } }), 409, 'employee.username_taken');
      expectProblem(await app.request('POST', '/api/v1/employees', { body: { name: 'X', departmentId: department, username: 'shorty', password: 'short' } }), 409, 'employee.password_too_short');
      expectProblem(await app.request('POST', '/api/v1/employees', { body: { name: 'X', departmentId: '01900000-0000-7000-8000-000000000000' } }), 409, 'employee.department_unknown');
      expectProblem(await app.request('POST', '/api/v1/employees', { body: { name: 'X', departmentId: department, roleIds: ['01900000-0000-7000-8000-000000000000'] } }), 409, 'employee.role_unknown');
      expectProblem(await app.request('POST', '/api/v1/employees', { body: { name: 'X', departmentId: department, username: 'lonely' } }), 400, 'validation');
    });

    it('disabling an account stops its tokens at once; enabling lets it log in again', async () => {
      const user = await app.userWithToken('to.disable', ['salesperson'], await app.department('Disable'));
      expect((await app.request('GET', '/api/v1/me', { token: user.token })).status).toBe(200);
      expect((await app.request('POST', `/api/v1/employees/${user.userId}/disable`, { body: { reason: 'left the company' } })).status).toBe(200);
      expectProblem(await app.request('GET', '/api/v1/me', { token: user.token }), 401, 'unauthorized');
      expectProblem(await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'to.disable', password: 'to.disable-password-1' } }), 401, 'invalid_credentials');
      await app.request('POST', `/api/v1/employees/${user.userId}/enable`);
      expect((await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'to.disable', password: 'to.disable-password-1' } })).status).toBe(200);
    });

    it('a reset password revokes tokens and must be changed before anything else', async () => {
      const user = await app.userWithToken('to.reset', ['salesperson'], await app.department('Reset'));
      expect((await app.request('POST', `/api/v1/employees/${user.userId}/reset-password`, { body: { newPassword: 'temporary-pass-1' } })).status).toBe(200);
      expectProblem(await app.request('GET', '/api/v1/me', { token: user.token }), 401, 'unauthorized');
      const login = await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'to.reset', password: 'temporary-pass-1' } });
      expect(login.body.mustChangePassword).toBe(true);
      expectProblem(await app.request('GET', '/api/v1/customers', { token: login.body.token }), 403, 'auth.password_change_required');
      expectProblem(await app.request('POST', '/api/v1/auth/change-password', { token: login.body.token, body: { currentPassword: 'wrong-one-here', newPassword: 'my-own-password-1' } }), 409, 'auth.wrong_password');
      const changed = await app.request('POST', '/api/v1/auth/change-password', { token: login.body.token, body: { currentPassword: 'temporary-pass-1', newPassword: 'my-own-password-1' } });
      expect(changed.status).toBe(200);
      expectProblem(await app.request('GET', '/api/v1/me', { token: login.body.token }), 401, 'unauthorized');
      expect((await app.request('GET', '/api/v1/customers', { token: changed.body.token })).status).toBe(200);
      expectProblem(await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'to.reset', password: 'temporary-pass-1' } }), 401, 'invalid_credentials');
    });

    it('throttles repeated failed logins for one username: slower, then locked (429 with Retry-After)', async () => {
      await app.userWithToken('to.throttle', ['salesperson'], await app.department('Throttle'));
      const attempt = (password = 'wrong-password') => app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'to.throttle', password } });
      for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(401);
      const throttled = await attempt('to.throttle-password-1');
      expectProblem(throttled, 429, 'auth.throttled');
      expect(throttled.headers.get('retry-after')).toBe('1');
      for (let i = 0; i < 7; i++) {
        clock.advance(70_000);
        expect((await attempt()).status).toBe(401);
      }
      clock.advance(5 * 60_000);
      const locked = await attempt('to.throttle-password-1');
      expectProblem(locked, 429, 'auth.throttled');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(500);
      clock.advance(16 * 60_000);
      expect((await attempt('to.throttle-password-1')).status).toBe(200);
      // Another username is not affected by this one's failures.
      expect((await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'admin', password: 'admin-password-1' } })).status).toBe(200);
    });
  });

  describe('roles', () => {
    it('lists the built-in templates and applies a changed role on the next request', async () => {
      const roles = await app.request('GET', '/api/v1/roles');
      expect(roles.body.items.map((r: { key: string }) => r.key).sort()).toEqual(expect.arrayContaining(['admin', 'manager', 'salesperson']));
      const salesperson = roles.body.items.find((r: { key: string }) => r.key === 'salesperson');
      expect(salesperson.dataScope).toBe('own');
      expect(salesperson.permissions.customers).not.toContain('export');
      const viewer = await app.request('POST', '/api/v1/roles', { body: { name: 'Viewer', permissions: { customers: ['view'] }, dataScope: 'all' } });
      const department = await app.department('Roles');
      const employee = await app.request('POST', '/api/v1/employees', { body: { name: 'Viewer', departmentId: department, username: 'viewer.one', password: 'viewer-password', roleIds: [viewer.body.id] } });
      const token = await app.firstLogin('viewer.one', 'viewer-password');
      expect((await app.request('GET', '/api/v1/customers', { token })).status).toBe(200);
      expectProblem(await app.request('POST', '/api/v1/customers', { token, body: { name: 'Viewer Co' } }), 403, 'forbidden');
      await app.request('PATCH', `/api/v1/roles/${viewer.body.id}`, { body: { permissions: { customers: ['view', 'create'] } } });
      expect((await app.request('POST', '/api/v1/customers', { token, body: { name: 'Viewer Co' } })).status).toBe(201);
      // Several roles: the union of permissions and the widest scope.
      const exporter = await app.request('POST', '/api/v1/roles', { body: { name: 'Exporter', permissions: { contacts: ['view', 'export'] }, dataScope: 'own' } });
      await app.request('PATCH', `/api/v1/employees/${employee.body.id}`, { body: { roleIds: [viewer.body.id, exporter.body.id] } });
      const me = await app.request('GET', '/api/v1/me', { token });
      expect(me.body).toMatchObject({ dataScope: 'all', permissions: { customers: ['view', 'create'], contacts: ['view', 'export'] } });
      expectProblem(await app.request('POST', '/api/v1/roles', { body: { name: 'Bad', permissions: { customers: ['fly'] }, dataScope: 'everything' } }), 400, 'validation');
    });
  });

  describe('customer pool', () => {
    it('release → visible in the pool to everyone → first claim wins, concurrent claims get 409', async () => {
      const department = await app.department('Pool');
      const owner = await app.userWithToken('pool.owner', ['salesperson'], department);
      const others = await Promise.all(Array.from({ length: 6 }, (_, i) => app.userWithToken(`pool.claimer${i}`, ['salesperson'], department)));
      const created = await app.request('POST', '/api/v1/customers', { body: { name: 'Pooled Co', industry: '化工材料' }, token: owner.token });
      expect((await app.request('POST', `/api/v1/customers/${created.body.id}/release`, { body: { reason: 'not interested now' }, token: owner.token })).status).toBe(200);
      await caughtUp(app);
      const pool = await app.request('GET', '/api/v1/customer-pool?q=pooled', { token: others[0]!.token });
      expect(pool.body.items.map((c: { id: string }) => c.id)).toEqual([created.body.id]);
      expect((await app.request('GET', `/api/v1/customers/${created.body.id}`, { token: others[1]!.token })).status).toBe(200);
      expectProblem(await app.request('PATCH', `/api/v1/customers/${created.body.id}`, { body: { industry: 'X' }, token: others[1]!.token }), 409, 'customer.in_pool');
      const claims = await Promise.all(others.map((o) => app.request('POST', `/api/v1/customers/${created.body.id}/claim`, { token: o.token })));
      expect(claims.filter((c) => c.status === 200)).toHaveLength(1);
      expect(claims.filter((c) => c.status === 409).every((c) => c.body.code === 'customer.already_claimed')).toBe(true);
      const winner = others[claims.findIndex((c) => c.status === 200)]!;
      await caughtUp(app);
      expect((await app.request('GET', `/api/v1/customers/${created.body.id}`, { token: winner.token })).body).toMatchObject({ ownerId: winner.userId, inPool: false });
      expect((await app.request('GET', '/api/v1/customer-pool?q=pooled', { token: others[0]!.token })).body.items).toEqual([]);
    });

    it('returns customers without follow-up for N days to the pool', async () => {
      const owner = await app.userWithToken('idle.owner', ['salesperson'], await app.department('Idle'));
      const idle = await app.request('POST', '/api/v1/customers', { body: { name: 'Idle Co' }, token: owner.token });
      expect((await app.request('PUT', '/api/v1/settings/customer-pool', { body: { autoReturnDays: 30 } })).status).toBe(200);
      clock.advance(20 * 86_400_000);
      const busy = await app.request('POST', '/api/v1/customers', { body: { name: 'Busy Co' }, token: await app.login('idle.owner', 'idle.owner-password-1') });
      clock.advance(11 * 86_400_000);
      const called = await app.request('PATCH', `/api/v1/customers/${busy.body.id}`, { body: { notes: 'called today' }, token: await app.login('idle.owner', 'idle.owner-password-1') });
      expect(called.status).toBe(200);
      await caughtUp(app);
      const run = await app.request('POST', '/api/v1/settings/customer-pool/run');
      expect(run.body.released).toBeGreaterThanOrEqual(1);
      await caughtUp(app);
      expect((await app.request('GET', `/api/v1/customers/${idle.body.id}`)).body).toMatchObject({ inPool: true, ownerId: null });
      expect((await app.request('GET', `/api/v1/customers/${busy.body.id}`)).body).toMatchObject({ inPool: false, ownerId: owner.userId });
      const history = await app.request('GET', `/api/v1/customers/${idle.body.id}/history`);
      expect(history.body.items.at(-1)).toMatchObject({ type: 'CustomerReleased', data: { reason: 'no_follow_up_30_days' } });
      await app.request('PUT', '/api/v1/settings/customer-pool', { body: { autoReturnDays: null } });
      expectProblem(await app.request('PUT', '/api/v1/settings/customer-pool', { body: { autoReturnDays: 0 } }), 400, 'validation');
    });
  });

  it('collision check: a salesperson learns a customer is taken, and by whom, but nothing more', async () => {
    const department = await app.department('Collision');
    const owner = await app.userWithToken('collision.owner', ['salesperson'], department);
    const other = await app.userWithToken('collision.other', ['salesperson'], department);
    await app.request('POST', '/api/v1/customers', { body: { name: '杭州远航五金有限公司', phone: '0571-88776655', taxNumber: '91330100MA27XYZ12K', notes: 'secret pricing' }, token: owner.token });
    await caughtUp(app);
    const byName = await app.request('GET', `/api/v1/customers/duplicates?name=${encodeURIComponent('杭州 远航五金有限公司')}`, { token: other.token });
    expect(byName.body.matches).toEqual([{ name: '杭州远航五金有限公司', ownerName: 'collision.owner', inPool: false, matchedOn: ['name'] }]);
    const byTax = await app.request('GET', '/api/v1/customers/duplicates?taxNumber=91330100-ma27xyz12k', { token: other.token });
    expect(byTax.body.matches[0]).toMatchObject({ name: '杭州远航五金有限公司', matchedOn: ['taxNumber'] });
    const byPhone = await app.request('GET', '/api/v1/customers/duplicates?phone=0571-88776655', { token: other.token });
    expect(byPhone.body.matches).toHaveLength(1);
    expect(JSON.stringify(byPhone.body)).not.toContain('secret');
    expectProblem(await app.request('GET', '/api/v1/customers/duplicates', { token: other.token }), 400, 'validation');
  });

  it('handover moves every customer (and so their contacts) to the receiver, and resumes after an interruption', async () => {
    const department = await app.department('Handover');
    const leaver = await app.userWithToken('handover.leaver', ['salesperson'], department);
    const receiver = await app.userWithToken('handover.receiver', ['salesperson'], department);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await app.request('POST', '/api/v1/customers', { body: { name: `Handover Co ${i}` }, token: leaver.token })).body.id);
    await app.request('POST', '/api/v1/contacts', { body: { customerId: ids[0], name: 'Contact Follows' }, token: leaver.token });
    await caughtUp(app);
    const started = await app.request('POST', `/api/v1/employees/${leaver.userId}/handover`, { body: { toEmployeeId: receiver.userId } });
    expect(started.status).toBe(202);
    let status = started.body;
    for (let i = 0; i < 100 && status.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await app.request('GET', started.headers.get('location')!)).body;
    }
    expect(status).toMatchObject({ status: 'completed', moved: 5, fromEmployeeId: leaver.userId, toEmployeeId: receiver.userId });
    await caughtUp(app);
    const mine = await app.request('GET', '/api/v1/customers?q=handover%20co', { token: receiver.token });
    expect(mine.body.items).toHaveLength(5);
    expect((await app.request('GET', '/api/v1/contacts?q=contact%20follows', { token: receiver.token })).body.items).toHaveLength(1);
    expect((await app.request('GET', '/api/v1/customers?q=handover%20co', { token: leaver.token })).body.items).toHaveLength(0);

    // Interrupted: started, never run; the next start resumes it.
    const more = (await app.request('POST', '/api/v1/customers', { body: { name: 'Handover Later Co' }, token: receiver.token })).body.id;
    await caughtUp(app);
    const { handoverId } = await startHandover(app.services.deps, receiver.userId, leaver.userId, systemActor, app.services.requestMeta('test'));
    resumeHandovers(app.services);
    for (let i = 0; i < 100 && (await app.request('GET', `/api/v1/handovers/${handoverId}`)).body.status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await app.request('GET', `/api/v1/handovers/${handoverId}`)).body).toMatchObject({ status: 'completed', moved: 6 });
    await caughtUp(app);
    expect((await app.request('GET', `/api/v1/customers/${more}`)).body.ownerId).toBe(leaver.userId);
    expectProblem(await app.request('POST', `/api/v1/employees/${leaver.userId}/handover`, { body: { toEmployeeId: leaver.userId } }), 409, 'handover.same_employee');
  });

  it('a handover started through an API instance (CRM_ROLE=api) is left to the leading worker, which picks it up', async () => {
    const department = await app.department('Handover via API');
    const leaver = await app.userWithToken('handover.api.leaver', ['salesperson'], department);
    const receiver = await app.userWithToken('handover.api.receiver', ['salesperson'], department);
    for (let i = 0; i < 3; i++) await app.request('POST', '/api/v1/customers', { body: { name: `Picked Up Co ${i}` }, token: leaver.token });
    await caughtUp(app);
    // As an API instance does: the route starts it and leaves the run to the worker.
    const inProcess = app.services.backgroundOrWorker;
    app.services.backgroundOrWorker = () => {};
    let started;
    try {
      started = await app.request('POST', `/api/v1/employees/${leaver.userId}/handover`, { body: { toEmployeeId: receiver.userId } });
    } finally {
      app.services.backgroundOrWorker = inProcess;
    }
    expect(started.status).toBe(202);
    await new Promise((r) => setTimeout(r, 200));
    expect((await app.request('GET', started.headers.get('location')!)).body.status).not.toBe('completed');
    // The leading worker's background work looks for unfinished handovers every pickupEveryMs.
    const stop = startBackgroundWork(app.services, { pickupEveryMs: 50 });
    try {
      await expect.poll(async () => (await app.request('GET', started.headers.get('location')!)).body.status, { timeout: 10_000 }).toBe('completed');
    } finally {
      await stop();
    }
    await caughtUp(app);
    expect((await app.request('GET', '/api/v1/customers?q=picked%20up%20co', { token: receiver.token })).body.items).toHaveLength(3);
  });

  it('keeps a security audit trail readable by admins only', async () => {
    const user = await app.userWithToken('audited.user', ['salesperson'], await app.department('Audit'));
    await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'audited.user', password: 'nope-nope-nope' } });
    await app.request('POST', `/api/v1/employees/${user.userId}/disable`);
    await caughtUp(app);
    const failures = await app.request('GET', '/api/v1/audit?type=LoginFailed&limit=200');
    expect(failures.body.items.some((e: { data: { username: string; reason: string } }) => e.data.username === 'audited.user' && e.data.reason === 'wrong_password')).toBe(true);
    const disabled = await app.request('GET', '/api/v1/audit?type=EmployeeDisabled');
    expect(disabled.body.items[0]).toMatchObject({ type: 'EmployeeDisabled', subject: user.userId });
    const all = await app.request('GET', '/api/v1/audit?limit=2');
    expect(all.body.items).toHaveLength(2);
    expect(all.body.items[0].position).toBeGreaterThan(all.body.items[1].position);
    const next = await app.request('GET', `/api/v1/audit?limit=2&cursor=${all.body.nextCursor}`);
    expect(next.body.items[0].position).toBeLessThan(all.body.items[1].position);
    const everything = await app.request('GET', '/api/v1/audit?limit=200');
    expect(JSON.stringify(everything.body)).not.toMatch(/scrypt|passwordHash/);
    const other = await app.userWithToken('audit.peeker', ['manager'], await app.department('Peek'));
    expectProblem(await app.request('GET', '/api/v1/audit', { token: other.token }), 403, 'forbidden');
  });
});
