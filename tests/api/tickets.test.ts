import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimerWorker } from '../../src/app/timers.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { complaintAlerts, ticketSlaTimer } from '../../src/commands/tickets.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
type User = { userId: string; token: string };

/** Company time Asia/Shanghai (UTC+8); business hours 09:00–18:00 local are 01:00–10:00 UTC. 2026-12-01 is a Tuesday. */
describe('service tickets (服务工单) with SLA clocks', () => {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00.000Z'));
  let app: TestApp;
  let agent: User;
  let engineer: User;
  let colleague: User;
  let outsider: User;
  let seller: User;
  let salesManager: User;
  let serviceDesk: string;
  let customerId: string;
  const users: [User, string][] = [];
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  const advance = async (ms: number) => {
    clock.advance(ms);
    for (const [user, name] of users) user.token = await app.login(name, `${name}-password-1`);
    await caughtUp();
    const fired = await app.services.timers.tick();
    await caughtUp();
    return fired;
  };
  const ticket = async (id: string, user: User = agent) => (await app.request('GET', `/api/v1/tickets/${id}`, { token: user.token })).body;
  const act = async (id: string, action: string, body: unknown = {}, user: User = engineer) => {
    const response = await app.request('POST', `/api/v1/tickets/${id}/${action}`, { token: user.token, body });
    expect(response.status, response.text).toBe(200);
    await caughtUp();
    return response.body;
  };
  const open = async (body: Record<string, unknown>, user: User = agent) => {
    const response = await app.request('POST', '/api/v1/tickets', { token: user.token, body: { type: 'repair', channel: 'phone', priority: 'normal', customerId, subject: '水泵异响', description: '运行时有异响', ...body } });
    expect(response.status, response.text).toBe(201);
    await caughtUp();
    return response.body as { id: string; number: string };
  };

  beforeAll(async () => {
    // Only the SLA timer: what fires is what these tests count.
    app = await startTestApp({}, { clock, timers: [ticketSlaTimer, complaintAlerts] });
    serviceDesk = await app.department('Service desk');
    const sales = await app.department('Sales east');
    const make = async (name: string, roles: string[], department: string) => {
      const user = await app.userWithToken(name, roles, department);
      users.push([user, name]);
      return user;
    };
    agent = await make('svc.agent', ['service_manager'], await app.department('Call centre'));
    engineer = await make('svc.engineer', ['service_engineer'], serviceDesk);
    colleague = await make('svc.colleague', ['service_engineer'], serviceDesk);
    outsider = await make('svc.outsider', ['service_engineer'], await app.department('Elsewhere'));
    seller = await make('svc.seller', ['salesperson'], sales);
    salesManager = await make('svc.salesmanager', ['manager'], sales);
    customerId = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Pump Works Ltd', level: 'A' } })).body.id;
  });
  afterAll(async () => app.close());

  it('numbers tickets SR-<year>-<6 digits>, runs the SLA clocks on business hours, warns and breaches once, pauses while waiting', async () => {
    const made = await open({ priority: 'high', departmentId: serviceDesk });
    expect(made.number).toBe('SR-2026-000001');
    // high: first response within 2 business hours, resolution within 8 (the default policies).
    expect(await ticket(made.id)).toMatchObject({
      number: 'SR-2026-000001',
      status: 'assigned',
      assigneeId: null,
      queueId: serviceDesk,
      sla: { state: 'on_track', firstResponseDueAt: '2026-12-01T03:00:00.000Z', resolutionDueAt: '2026-12-01T09:00:00.000Z', policyVersion: 0, calendarVersion: 0 },
    });
    // 80 % of the first response target: a warning, once.
    expect(await advance(95 * MINUTE)).toBe(0);
    expect(await advance(1 * MINUTE)).toBe(1);
    expect((await ticket(made.id)).sla.state).toBe('at_risk');
    expect(await advance(1 * MINUTE)).toBe(0);
    // The engineer in the queue takes it: the first response is given in time.
    await act(made.id, 'start');
    expect(await ticket(made.id)).toMatchObject({ status: 'in_progress', assigneeId: engineer.userId, respondedAt: '2026-12-01T02:37:00.000Z', sla: { state: 'on_track', firstResponseDueAt: null } });
    // Waiting for the customer pauses the clock: 2 h used, 6 h (360 min) left, however long the wait.
    await advance(23 * MINUTE);
    await act(made.id, 'wait', { note: '等客户提供序列号' });
    expect((await ticket(made.id)).sla).toMatchObject({ state: 'paused', resolutionDueAt: null, resolutionRemainingMinutes: 360 });
    expect(await advance(24 * HOUR)).toBe(0);
    // Resumed Wednesday 11:00 local: due 17:00 local (09:00Z), warned at 80 % (6.4 h used: 15:24 local).
    await act(made.id, 'start');
    expect((await ticket(made.id)).sla).toMatchObject({ state: 'on_track', resolutionDueAt: '2026-12-02T09:00:00.000Z' });
    expect(await advance(4 * HOUR + 23 * MINUTE)).toBe(0);
    expect(await advance(1 * MINUTE)).toBe(1);
    expect((await ticket(made.id)).sla.state).toBe('at_risk');
    expect(await advance(96 * MINUTE)).toBe(1);
    expect((await ticket(made.id)).sla).toMatchObject({ state: 'breached', breached: ['resolution'] });
    // A restart's worth of ticks later, nothing fires twice.
    expect(await advance(2 * HOUR)).toBe(0);
    const history = (await app.request('GET', `/api/v1/tickets/${made.id}/history?limit=200`, { token: agent.token })).body.items as { type: string; data: { clock?: string } }[];
    expect(history.filter((e) => e.type === 'SlaWarning').map((e) => e.data.clock)).toEqual(['first_response', 'resolution']);
    expect(history.filter((e) => e.type === 'SlaBreached').map((e) => e.data.clock)).toEqual(['resolution']);

    // The explanation: segments running, outside hours and paused, with the versions used.
    const explained = (await app.request('GET', `/api/v1/tickets/${made.id}/sla`, { token: agent.token })).body;
    expect(explained).toMatchObject({ state: 'breached', policy: { version: 0, priority: 'high', customerLevel: 'A', resolutionHours: 8 }, calendar: { version: 0, timeZone: 'Asia/Shanghai' } });
    expect(explained.clocks).toEqual([
      expect.objectContaining({ clock: 'first_response', state: 'stopped', outcome: 'met', elapsedMinutes: 97 }),
      expect.objectContaining({ clock: 'resolution', state: 'running', outcome: 'breached', dueAt: '2026-12-02T09:00:00.000Z' }),
    ]);
    const kinds = (explained.segments as { kind: string }[]).map((s) => s.kind);
    expect(kinds.slice(0, 3)).toEqual(['running', 'paused', 'running']);
    expect(kinds).toContain('outside_hours');

    await act(made.id, 'resolve', { resolution: '更换轴承' });
    await act(made.id, 'close');
    expect(await ticket(made.id)).toMatchObject({ status: 'closed', resolution: '更换轴承', sla: { state: 'breached' } });
    await act(made.id, 'reopen', { reason: '异响复现' });
    expect(await ticket(made.id)).toMatchObject({ status: 'assigned', reopenCount: 1 });
    expectProblem(await app.request('POST', `/api/v1/tickets/${made.id}/close`, { token: engineer.token, body: {} }), 409, 'ticket.invalid_status');
  });

  it('a ticket is in scope for its assignee, its queue, the customer owner and whoever their roles cover; 404 for anyone else', async () => {
    const made = await open({ departmentId: serviceDesk });
    for (const user of [agent, engineer, colleague, seller, salesManager]) expect((await app.request('GET', `/api/v1/tickets/${made.id}`, { token: user.token })).status).toBe(200);
    expectProblem(await app.request('GET', `/api/v1/tickets/${made.id}`, { token: outsider.token }), 404, 'ticket.not_found');
    expectProblem(await app.request('GET', `/api/v1/tickets/${made.id}/sla`, { token: outsider.token }), 404, 'ticket.not_found');
    expectProblem(await app.request('GET', `/api/v1/tickets/${made.id}/history`, { token: outsider.token }), 404, 'ticket.not_found');
    expectProblem(await app.request('POST', `/api/v1/tickets/${made.id}/start`, { token: outsider.token, body: {} }), 404, 'ticket.not_found');
    const listed = async (user: User) => ((await app.request('GET', '/api/v1/tickets?limit=100', { token: user.token })).body.items as { id: string }[]).map((t) => t.id);
    expect(await listed(colleague)).toContain(made.id);
    expect(await listed(seller)).toContain(made.id);
    expect(await listed(outsider)).not.toContain(made.id);
    // Moved to an engineer outside the queue's department: that engineer sees it, the old queue no longer does.
    await act(made.id, 'assign', { assigneeId: outsider.userId }, agent);
    expect((await app.request('GET', `/api/v1/tickets/${made.id}`, { token: outsider.token })).status).toBe(200);
    expect(await listed(colleague)).not.toContain(made.id);
    // The customer changes hands: its new owner sees the ticket, the old one no longer does.
    const owner = await app.request('POST', `/api/v1/customers/${customerId}/assign`, { token: salesManager.token, body: { ownerId: salesManager.userId } });
    expect(owner.status, owner.text).toBe(200);
    await caughtUp();
    expect(await listed(seller)).not.toContain(made.id);
    expect(await listed(salesManager)).toContain(made.id);
    expectProblem(await app.request('GET', `/api/v1/tickets/${made.id}`, { token: seller.token }), 404, 'ticket.not_found');
    await app.request('POST', `/api/v1/customers/${customerId}/assign`, { token: salesManager.token, body: { ownerId: seller.userId } });
    await caughtUp();
  });

  it('refuses what is wrong with a clear 4xx and writes nothing', async () => {
    expectProblem(await app.request('POST', '/api/v1/tickets', { token: agent.token, body: { type: 'nonsense', channel: 'phone', priority: 'low', customerId, subject: 's', description: 'd' } }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/tickets', { token: agent.token, body: { type: 'repair', channel: 'fax', priority: 'low', customerId, subject: 's', description: 'd' } }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/tickets', { token: agent.token, body: { type: 'repair', channel: 'phone', priority: 'low', customerId, subject: 's', description: 'd', assigneeId: engineer.userId, departmentId: serviceDesk } }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/tickets', { token: outsider.token, body: { type: 'repair', channel: 'phone', priority: 'low', customerId, subject: 's', description: 'd' } }), 404, 'customer.not_found');
    expectProblem(await app.request('POST', '/api/v1/tickets', { token: agent.token, body: { type: 'repair', channel: 'phone', priority: 'low', customerId, subject: 's', description: 'd', departmentId: '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c12' } }), 404, 'department.not_found');
    const made = await open({});
    expect((await ticket(made.id)).status).toBe('new');
    expectProblem(await app.request('POST', `/api/v1/tickets/${made.id}/close`, { token: agent.token, body: {} }), 409, 'ticket.invalid_status');
    expectProblem(await app.request('POST', `/api/v1/tickets/${made.id}/assign`, { token: agent.token, body: {} }), 400, 'validation');
    expectProblem(await app.request('PATCH', `/api/v1/tickets/${made.id}`, { token: agent.token, body: { subject: null } }), 400, 'validation');
  });

  it('takes types as data, notes and replies, and work logged; a new priority moves the targets', async () => {
    const types = await app.request('PUT', '/api/v1/settings/ticket-types', { body: { types: [{ key: 'installation', label: { 'zh-CN': '安装', en: 'Installation' } }] } });
    expect(types.status, types.text).toBe(200);
    expect(((await app.request('GET', '/api/v1/tickets/types', { token: agent.token })).body.items as { key: string }[]).map((t) => t.key)).toContain('installation');
    const made = await open({ type: 'installation', assigneeId: engineer.userId, priority: 'low' });
    const before = (await ticket(made.id)).sla.resolutionDueAt;
    const reply = await act(made.id, 'notes', { text: '已安排明天上门', visibility: 'customer' });
    expect(reply.noteId).toEqual(expect.any(String));
    await act(made.id, 'notes', { text: '备件库存不足' });
    await act(made.id, 'work', { minutes: 90, kind: 'on_site' });
    await act(made.id, 'work', { minutes: 30, kind: 'travel', on: '2026-12-02' });
    const changed = await app.request('PATCH', `/api/v1/tickets/${made.id}`, { token: engineer.token, body: { priority: 'urgent' } });
    expect(changed.status, changed.text).toBe(200);
    await caughtUp();
    const after = await ticket(made.id);
    expect(after).toMatchObject({ type: 'installation', workMinutes: 120, respondedAt: expect.any(String) });
    expect(after.notes.map((n: { visibility: string }) => n.visibility)).toEqual(['customer', 'internal']);
    expect(after.sla.resolutionDueAt < before).toBe(true);
    expect(after.sla.resolutionHours).toBe(4);
  });

  it('closing answers a survey link, mailed to the contact; the survey is answered once, without an account, and abuse is refused', async () => {
    const contactId = (await app.request('POST', '/api/v1/contacts', { token: seller.token, body: { customerId, name: '王经理', email: 'wang@pumpworks.example' } })).body.id;
    const made = await open({ assigneeId: engineer.userId, contactId });
    await act(made.id, 'resolve', { resolution: '已更换密封圈' });
    const closed = await act(made.id, 'close');
    expect(closed).toMatchObject({ surveyUrl: expect.stringMatching(/\/api\/v1\/public\/surveys\/[A-Za-z0-9_-]{40,}$/), surveyMailed: true });
    const mail = (app.services.mailer as unknown as { sent: { to: string[]; text: string }[] }).sent.at(-1)!;
    expect(mail.to).toEqual(['wang@pumpworks.example']);
    expect(mail.text).toContain(closed.surveyUrl);
    const path = new URL(closed.surveyUrl).pathname;
    // Closing again answers the same survey (a fresh seal of the same link).
    const again = await act(made.id, 'close');
    expect(again.surveyMailed).toBe(false);
    expect((await app.request('GET', new URL(again.surveyUrl).pathname, { token: null })).status).toBe(200);

    const shown = await app.request('GET', path, { token: null });
    expect(shown.status, shown.text).toBe(200);
    expect(Object.keys(shown.body).sort()).toEqual(['answered', 'expiresAt', 'question', 'scale', 'subject', 'ticketNumber']);
    expect(shown.body).toMatchObject({ ticketNumber: made.number, subject: '水泵异响', answered: false });
    expect(shown.text).not.toContain(customerId);
    expectProblem(await app.request('POST', path, { token: null, body: { score: 6 } }), 400, 'validation');
    const answered = await app.request('POST', path, { token: null, body: { score: 5, comment: '响应很快' } });
    expect(answered.status, answered.text).toBe(201);
    expectProblem(await app.request('POST', path, { token: null, body: { score: 1 } }), 409, 'survey.already_answered');
    await caughtUp();
    expect((await app.request('GET', path, { token: null })).body.answered).toBe(true);
    const history = (await app.request('GET', `/api/v1/tickets/${made.id}/history?limit=200`, { token: agent.token })).body.items as { type: string; data: { score?: number } }[];
    expect(history.filter((e) => e.type === 'SurveyAnswered').map((e) => e.data.score)).toEqual([5]);

    // Tampered, foreign (a link for something else) and never-issued tokens: 404, saying nothing more.
    const token = path.split('/').pop()!;
    const tampered = `${token.slice(0, 20)}${token[20] === 'A' ? 'B' : 'A'}${token.slice(21)}`;
    expectProblem(await app.request('GET', `/api/v1/public/surveys/${tampered}`, { token: null }), 404, 'public_link.not_found');
    expectProblem(await app.request('POST', `/api/v1/public/surveys/${tampered}`, { token: null, body: { score: 3 } }), 404, 'public_link.not_found');
    expectProblem(await app.request('GET', `/api/v1/public/surveys/${'x'.repeat(48)}`, { token: null }), 404, 'public_link.not_found');
    expectProblem(await app.request('GET', '/api/v1/public/surveys/short', { token: null }), 400, 'validation');

    // Reopened and closed again: a new survey; the old link is replaced.
    await act(made.id, 'reopen', { reason: '又漏了' });
    await act(made.id, 'resolve', { resolution: '更换泵体' });
    const second = await act(made.id, 'close');
    expectProblem(await app.request('POST', path, { token: null, body: { score: 2 } }), 410, 'survey.superseded');
    // Another ticket's link answers that ticket only.
    const other = await open({ assigneeId: engineer.userId });
    await act(other.id, 'resolve', { resolution: 'x' });
    const otherPath = new URL((await act(other.id, 'close')).surveyUrl).pathname;
    expect((await app.request('POST', otherPath, { token: null, body: { score: 3 } })).status).toBe(201);
    await caughtUp();
    expect((await app.request('GET', new URL(second.surveyUrl).pathname, { token: null })).body.answered).toBe(false);

    // Past its 30 days: expired.
    clock.advance(31 * 24 * HOUR);
    expectProblem(await app.request('GET', new URL(second.surveyUrl).pathname, { token: null }), 410, 'survey.expired');
    expectProblem(await app.request('POST', new URL(second.surveyUrl).pathname, { token: null, body: { score: 4 } }), 410, 'survey.expired');
    clock.advance(-31 * 24 * HOUR);
    await advance(0);
  });

  it('a complaint notifies the customer owner and the service managers once, live and by mail; the customer shows its open complaints', async () => {
    expect((await app.request('PATCH', `/api/v1/employees/${agent.userId}`, { body: { email: 'service.manager@crm.example' } })).status).toBe(200);
    const sentBefore = (app.services.mailer as unknown as { sent: unknown[] }).sent.length;
    const complaint = await open({ type: 'complaint', priority: 'urgent', subject: '交货延误投诉', departmentId: serviceDesk });
    await open({ type: 'consultation', subject: '只是咨询' });
    await advance(0);
    await advance(0);
    const heard = async (user: User) =>
      ((await app.request('GET', '/api/v1/me/notifications', { token: user.token })).body.items as { kind: string; subject: { id: string } }[]).filter((n) => n.kind === 'ticket.complaint').map((n) => n.subject.id);
    expect(await heard(seller)).toEqual([complaint.id]);
    expect(await heard(agent)).toEqual([complaint.id]);
    expect(await heard(engineer)).toEqual([]);
    const mails = (app.services.mailer as unknown as { sent: { to: string[]; subject: string }[] }).sent.slice(sentBefore);
    expect(mails.map((m) => m.to)).toEqual([['service.manager@crm.example']]);
    expect(mails[0]!.subject).toContain(complaint.number);
    const customer = (await app.request('GET', `/api/v1/customers/${customerId}`, { token: seller.token })).body;
    expect(customer.openComplaints).toEqual([expect.objectContaining({ id: complaint.id, number: complaint.number, subject: '交货延误投诉', status: 'assigned' })]);
    await act(complaint.id, 'resolve', { resolution: '已补发' }, agent);
    expect((await app.request('GET', `/api/v1/customers/${customerId}`, { token: seller.token })).body.openComplaints).toEqual([]);
  });

  it('has custom fields, CSV export and asOf like every record; a hidden field stays hidden everywhere', async () => {
    const field = await app.request('POST', '/api/v1/settings/fields/tickets', { body: { key: 'serialNumber', label: { 'zh-CN': '设备序列号', en: 'Serial number' }, type: 'text' } });
    expect(field.status, field.text).toBe(201);
    const SECRET = '客户内部系统密码 8864';
    const made = await open({ assigneeId: engineer.userId, description: SECRET, custom: { serialNumber: 'SN-77' } });
    const openedAt = clock.now().toISOString();
    await advance(MINUTE);
    await act(made.id, 'start');
    expect(await ticket(made.id)).toMatchObject({ custom: { serialNumber: 'SN-77' }, status: 'in_progress' });
    expect((await app.request('GET', `/api/v1/tickets/${made.id}?asOf=${openedAt}`, { token: agent.token })).body).toMatchObject({ status: 'assigned', number: made.number });
    expect(((await app.request('GET', '/api/v1/tickets?custom.serialNumber=SN-77', { token: agent.token })).body.items as { id: string }[]).map((t) => t.id)).toEqual([made.id]);
    const csv = await app.request('GET', '/api/v1/tickets?custom.serialNumber=SN-77', { token: agent.token, headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(made.number);
    expect(csv.text).toContain('SN-77');

    const roleId = (
      await app.request('POST', '/api/v1/roles', { body: { name: 'Hides descriptions', permissions: { customers: ['view'], contacts: ['view'], tickets: ['view', 'export'] }, dataScope: 'all', fieldSecurity: { tickets: { description: 'hidden' } } } })
    ).body.id as string;
    const hider = await app.request('POST', '/api/v1/employees', { body: { name: 'svc.hider', departmentId: await app.department('Hiders'), username: 'svc.hider', password: 'svc.hider-pass-1', roleIds: [roleId] } });
    expect(hider.status, hider.text).toBe(201);
    const token = await app.firstLogin('svc.hider', 'svc.hider-pass-1');
    for (const path of ['/api/v1/tickets', `/api/v1/tickets/${made.id}`, `/api/v1/tickets/${made.id}/history`, `/api/v1/tickets/${made.id}?asOf=${openedAt}`, `/api/v1/customers/${customerId}/related`]) {
      const response = await app.request('GET', path, { token });
      expect(response.status, path).toBe(200);
      expect(response.text, path).not.toContain(SECRET);
    }
    const hiddenCsv = await app.request('GET', '/api/v1/tickets', { token, headers: { accept: 'text/csv' } });
    expect(hiddenCsv.status).toBe(200);
    expect(hiddenCsv.text).not.toContain(SECRET);
    expect((await app.request('GET', '/api/v1/tickets?q=8864', { token })).body.items).toEqual([]);
    expect(((await app.request('GET', '/api/v1/tickets?q=8864', { token: agent.token })).body.items as { id: string }[]).map((t) => t.id)).toEqual([made.id]);
  });

  it('a new holiday moves open tickets’ targets (recomputed from their events, once), and the tickets panel shows on the customer', async () => {
    // Thursday 2026-12-03 09:00 local: a normal ticket (24 business hours: Thursday, Friday, 6 h on Monday) is due Monday 15:00 local.
    clock.set(new Date('2026-12-03T01:00:00.000Z'));
    await advance(0);
    const made = await open({ assigneeId: engineer.userId });
    expect((await ticket(made.id)).sla.resolutionDueAt).toBe('2026-12-07T07:00:00.000Z');
    const calendar = await app.request('PUT', '/api/v1/settings/business-calendar', {
      body: { workingDays: [1, 2, 3, 4, 5], hours: [{ from: '09:00', to: '18:00' }], holidays: [{ date: '2026-12-04', name: '公司假日' }], workingDates: [{ date: '2026-12-05', name: '调休' }] },
    });
    expect(calendar.status, calendar.text).toBe(200);
    await advance(0);
    // Friday off, Saturday worked instead: still Monday 15:00 local. Then Saturday off too: Tuesday 15:00 local.
    expect((await ticket(made.id)).sla).toMatchObject({ resolutionDueAt: '2026-12-07T07:00:00.000Z', calendarVersion: 1 });
    await app.request('PUT', '/api/v1/settings/business-calendar', { body: { workingDays: [1, 2, 3, 4, 5], hours: [{ from: '09:00', to: '18:00' }], holidays: [{ date: '2026-12-04' }], workingDates: [] } });
    await advance(0);
    expect((await ticket(made.id)).sla).toMatchObject({ resolutionDueAt: '2026-12-08T07:00:00.000Z', calendarVersion: 2 });
    const history = (await app.request('GET', `/api/v1/tickets/${made.id}/history?limit=200`, { token: agent.token })).body.items as { type: string }[];
    expect(history.filter((e) => e.type === 'SlaTargetsSet')).toHaveLength(3);
    expect(await advance(MINUTE)).toBe(0);

    const related = (await app.request('GET', `/api/v1/customers/${customerId}/related`, { token: seller.token })).body.panels as { key: string; total: number }[];
    expect(related.find((p) => p.key === 'tickets')?.total).toBeGreaterThanOrEqual(4);
    expectProblem(await app.request('PUT', '/api/v1/settings/business-calendar', { body: { workingDays: [1], hours: [{ from: '18:00', to: '09:00' }], holidays: [], workingDates: [] } }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/settings/sla', { body: { warnAt: 0.8, targets: [{ priority: 'low', firstResponseHours: 1, resolutionHours: 2 }] } }), 400, 'validation');
  });
});

describe('the SLA process across restarts', () => {
  it('a warning and a breach due while the service was down are recorded once each after the restart, however often it is fired', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-sla-'));
    const clock = new ManualClock(new Date('2026-12-01T01:00:00.000Z'));
    const first = await startTestApp({ CRM_DATA_DIR: dir }, { clock, timers: [ticketSlaTimer] });
    const customerId = (await first.request('POST', '/api/v1/customers', { body: { name: 'Restart Pumps' } })).body.id;
    const made = await first.request('POST', '/api/v1/tickets', { body: { type: 'repair', channel: 'web', priority: 'high', customerId, subject: 'Down over the due time', description: '…' } });
    expect(made.status, made.text).toBe(201);
    await first.services.runner.waitFor(BigInt(made.headers.get('x-position')!), 5000);
    expect(await first.services.timers.tick()).toBe(0);
    await first.close();

    // Down from 09:00 to 12:00 local: the first response's warning (10:36) and breach (11:00) both passed.
    clock.advance(3 * HOUR);
    const second = await startTestApp({ CRM_DATA_DIR: dir }, { clock, timers: [ticketSlaTimer] });
    const history = async (app: TestApp) => ((await app.request('GET', `/api/v1/tickets/${made.body.id}/history?limit=200`)).body.items as { type: string; data: { clock?: string } }[]).filter((e) => e.type.startsWith('SlaW') || e.type.startsWith('SlaB'));
    try {
      await second.services.runner.waitFor(await second.services.eventStore.headPosition(), 5000);
      expect(await second.services.timers.tick()).toBeGreaterThanOrEqual(1);
      // A standby worker firing the same items before the read model caught up writes nothing more.
      const standby = new TimerWorker([ticketSlaTimer], second.services.deps, second.services.readStore, silentLogger, second.services.mailer);
      await standby.tick();
      await second.services.runner.waitFor(await second.services.eventStore.headPosition(), 5000);
      expect(await second.services.timers.tick()).toBe(0);
      expect((await history(second)).map((e) => `${e.type}:${e.data.clock}`)).toEqual(['SlaWarning:first_response', 'SlaBreached:first_response']);
    } finally {
      await second.close();
    }
    const third = await startTestApp({ CRM_DATA_DIR: dir }, { clock, timers: [ticketSlaTimer] });
    try {
      await third.services.runner.waitFor(await third.services.eventStore.headPosition(), 5000);
      expect(await third.services.timers.tick()).toBe(0);
      expect(await history(third)).toHaveLength(2);
      expect((await third.request('GET', `/api/v1/tickets/${made.body.id}`)).body.sla).toMatchObject({ state: 'breached', breached: ['first_response'] });
    } finally {
      await third.close();
    }
  });
});

describe('public routes are rate-limited', () => {
  it('answers 429 with Retry-After past the limit per client address', async () => {
    const app = await startTestApp({ CRM_PUBLIC_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await app.request('GET', `/api/v1/public/surveys/${'x'.repeat(48)}`, { token: null })).status);
      expect(statuses).toEqual([404, 404, 404, 429]);
      const limited = await app.request('GET', `/api/v1/public/quotes/${'x'.repeat(48)}`, { token: null });
      expectProblem(limited, 429, 'too_many_requests');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // Signed-in routes are not counted against it.
      expect((await app.request('GET', '/api/v1/me')).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
