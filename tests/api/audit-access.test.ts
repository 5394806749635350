import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const HOUR = 3_600_000;
const clock = new ManualClock(new Date('2026-11-02T01:00:00.000Z'));

/**
 * Access forensics across a role change, a department move and a handover: asked at an instant before and after
 * each, the answer follows the events as they stood then (the expectation is written from the story, not from the
 * code that answers).
 */
describe('who could see a record at an instant, and why', () => {
  let app: TestApp;
  let auditor: string;
  let customerId: string;
  const people: Record<string, string> = {};
  let east: string;
  let west: string;
  let linRole: string;
  const instants: Record<'created' | 'roleChanged' | 'moved' | 'handedOver', string> = { created: '', roleChanged: '', moved: '', handedOver: '' };
  const step = async () => {
    clock.advance(HOUR);
    return new Date(clock.now().getTime() - HOUR / 2).toISOString();
  };
  const access = async (at: string) => {
    const response = await app.request('GET', `/api/v1/audit/access?recordId=${customerId}&at=${encodeURIComponent(at)}`, { token: auditor });
    expect(response.status).toBe(200);
    return response.body as { record: { ownerId: string; ownerDepartmentPath: string }; access: { employeeId: string; name: string; read: boolean; edit: boolean; why: string[] }[] };
  };
  const names = (answer: Awaited<ReturnType<typeof access>>) => answer.access.map((grant) => grant.name).sort();

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    const root = await app.department('Sales 销售部');
    east = await app.department('East 华东', root);
    west = await app.department('West 华西', root);
    auditor = (await app.userWithToken('auditor', ['auditor'], null)).token;
    people.repE = (await app.userWithToken('rep-east', ['salesperson'], east)).userId;
    people.repW = (await app.userWithToken('rep-west', ['salesperson'], west)).userId;
    people.mgrE = (await app.userWithToken('manager-east', ['manager'], east)).userId;
    people.mgrW = (await app.userWithToken('manager-west', ['manager'], west)).userId;
    // Lin reads customers with a role of her own, first over her own records only.
    linRole = (await app.request('POST', '/api/v1/roles', { body: { name: 'Regional reader', permissions: { customers: ['view'] }, dataScope: 'own' } })).body.id as string;
    const lin = await app.request('POST', '/api/v1/employees', { body: { name: 'Lin', departmentId: west, roleIds: [linRole], username: 'lin', password: 'lin-password-1' } });
    expect(lin.status).toBe(201);
    people.lin = lin.body.id as string;
    clock.advance(HOUR);
    customerId = (await app.request('POST', '/api/v1/customers', { body: { name: 'Forensic Trading Co', ownerId: people.repE } })).body.id as string;
    instants.created = await step();
    expect((await app.request('PATCH', `/api/v1/roles/${linRole}`, { body: { dataScope: 'all' } })).status).toBe(200);
    instants.roleChanged = await step();
    // East moves under West: West's manager now covers East's records.
    expect((await app.request('PATCH', `/api/v1/departments/${east}`, { body: { parentId: west } })).status).toBe(200);
    instants.moved = await step();
    // A handover finds what the person owns through the read models.
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);
    const handover = await app.request('POST', `/api/v1/employees/${people.repE}/handover`, { body: { toEmployeeId: people.repW } });
    expect(handover.status).toBe(202);
    for (let i = 0; i < 500 && (await app.request('GET', handover.headers.get('location')!)).body.status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 20));
    instants.handedOver = await step();
    // The dossier and the forensics find related records and employees through the read models.
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);
  });
  afterAll(async () => app.close());

  it('before the role change: the owner, the owner’s manager (department tree), the auditor and the administrator', async () => {
    const answer = await access(instants.created);
    expect(answer.record.ownerId).toBe(people.repE);
    expect(answer.record.ownerDepartmentPath).toMatch(new RegExp(`/${east}/$`));
    expect(names(answer)).toEqual(['Administrator 管理员', 'auditor', 'manager-east', 'rep-east']);
    const byName = Object.fromEntries(answer.access.map((grant) => [grant.name, grant]));
    expect(byName['rep-east']).toMatchObject({ read: true, edit: true });
    expect(byName['rep-east']!.why).toContain('owns it');
    expect(byName['manager-east']!.why.at(-1)).toMatch(/department_tree/);
    // The auditor reads everything and changes nothing.
    expect(byName.auditor).toMatchObject({ read: true, edit: false });
    expect(byName.auditor!.why.at(-1)).toBe('data scope all: every record');
  });

  it('after the role change: Lin too, by her role’s new data scope', async () => {
    const answer = await access(instants.roleChanged);
    expect(names(answer)).toEqual(['Administrator 管理员', 'Lin', 'auditor', 'manager-east', 'rep-east']);
    const lin = answer.access.find((grant) => grant.name === 'Lin')!;
    expect(lin).toMatchObject({ read: true, edit: false });
    expect(lin.why).toEqual(['customers:view from Regional reader', 'data scope all: every record']);
  });

  it('after the department move: West’s manager too, East being under West now', async () => {
    const answer = await access(instants.moved);
    expect(answer.record.ownerDepartmentPath).toMatch(new RegExp(`/${west}/${east}/$`));
    expect(names(answer)).toEqual(['Administrator 管理员', 'Lin', 'auditor', 'manager-east', 'manager-west', 'rep-east']);
    expect(answer.access.find((grant) => grant.name === 'manager-west')!.why.at(-1)).toMatch(new RegExp(`within their department /.*${west}/ \\(data scope department_tree\\)`));
  });

  it('after the handover: the new owner instead of the old one, and East’s manager no longer', async () => {
    const answer = await access(instants.handedOver);
    expect(answer.record.ownerId).toBe(people.repW);
    expect(names(answer)).toEqual(['Administrator 管理员', 'Lin', 'auditor', 'manager-west', 'rep-west']);
    // Asked about a moment before anything existed: the record did not exist, nobody could see it.
    const before = await access('2026-11-01T00:00:00.000Z');
    expect(before).toMatchObject({ record: { exists: false }, access: [] });
  });

  it('what one employee could see, then and later', async () => {
    const ask = async (id: string, at: string) => (await app.request('GET', `/api/v1/audit/access?employeeId=${id}&at=${encodeURIComponent(at)}`, { token: auditor })).body;
    expect(await ask(people.lin!, instants.created)).toMatchObject({ employee: { name: 'Lin', canLogIn: true }, dataScope: 'own', permissions: { customers: ['view'] }, roles: [{ name: 'Regional reader', dataScope: 'own' }] });
    expect(await ask(people.lin!, instants.roleChanged)).toMatchObject({ dataScope: 'all', sees: 'every record of the modules they could view' });
    const eastManager = [await ask(people.mgrE!, instants.created), await ask(people.mgrE!, instants.moved)];
    expect(eastManager.map((answer) => answer.employee.departmentPath)).toEqual([expect.stringMatching(new RegExp(`^/[^/]+/${east}/$`)), expect.stringMatching(new RegExp(`/${west}/${east}/$`))]);
    expect(await ask(people.lin!, '2026-11-01T00:00:00.000Z')).toMatchObject({ employee: { exists: false }, sees: 'nothing: not an employee then' });
  });

  it('auditors only; the record must be in the caller’s scope; one of recordId or employeeId', async () => {
    const rep = (await app.userWithToken('rep-other', ['salesperson'], east)).token;
    expectProblem(await app.request('GET', `/api/v1/audit/access?recordId=${customerId}&at=${encodeURIComponent(instants.created)}`, { token: rep }), 403, 'forbidden');
    expectProblem(await app.request('GET', `/api/v1/audit/access?at=${encodeURIComponent(instants.created)}`, { token: auditor }), 400, 'validation');
    expectProblem(await app.request('GET', `/api/v1/audit/access?recordId=${customerId}&employeeId=${people.lin}&at=${encodeURIComponent(instants.created)}`, { token: auditor }), 400, 'validation');
    expectProblem(await app.request('GET', `/api/v1/audit/access?recordId=00000000-0000-7000-8000-000000000000&at=${encodeURIComponent(instants.created)}`, { token: auditor }), 404, 'record.not_found');
  });
});
