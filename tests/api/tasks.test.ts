import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimerWorker } from '../../src/app/timers.ts';
import { taskReminders } from '../../src/commands/tasks.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const HOUR = 3_600_000;
type User = { userId: string; token: string };

describe('tasks and reminders (任务)', () => {
  const clock = new ManualClock(new Date('2026-12-01T00:00:00.000Z'));
  let app: TestApp;
  let seller: User;
  let other: User;
  let manager: User;
  let customerId: string;
  const at = (hours: number) => new Date(clock.now().getTime() + hours * HOUR).toISOString();
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  const login = async (user: User, name: string) => (user.token = await app.login(name, `${name}-password-1`));
  /** Time passes: tokens are renewed, and the timers fire what fell due. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await login(seller, 'task.seller');
    await login(other, 'task.other');
    await login(manager, 'task.manager');
    await caughtUp();
    return app.services.timers.tick();
  };
  const reminders = async (user: User) =>
    (await app.request('GET', '/api/v1/me/notifications', { token: user.token })).body.items.filter((n: { kind: string }) => n.kind === 'task.reminder').map((n: { subject: { id: string } }) => n.subject.id);
  const task = async (id: string, user: User = seller) => (await app.request('GET', `/api/v1/tasks/${id}`, { token: user.token })).body;

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    const team = await app.department('Task team');
    seller = await app.userWithToken('task.seller', ['salesperson'], team);
    other = await app.userWithToken('task.other', ['salesperson'], await app.department('Elsewhere'));
    manager = await app.userWithToken('task.manager', ['manager'], team);
    customerId = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Task Co' } })).body.id;
  });
  afterAll(async () => app.close());

  it('a reminder fires at its time, once, to the assignee; done and cancelled tasks are not reminded', async () => {
    const made = await app.request('POST', '/api/v1/tasks', { token: seller.token, body: { subject: '回访王经理', dueAt: at(5), remindAt: at(4), priority: 'high', customerId } });
    expect(made.status, made.text).toBe(201);
    const quiet = (await app.request('POST', '/api/v1/tasks', { token: seller.token, body: { subject: 'Done before its reminder', dueAt: at(5), remindAt: at(4) } })).body.id;
    expect((await app.request('POST', `/api/v1/tasks/${quiet}/done`, { token: seller.token, body: {} })).status).toBe(200);
    await caughtUp();
    expect(await task(made.body.id)).toMatchObject({ subject: '回访王经理', status: 'open', priority: 'high', assigneeId: seller.userId, createdBy: seller.userId });
    expect(await advance(3 * HOUR)).toBe(0);
    expect(await advance(1 * HOUR)).toBe(1);
    expect(await advance(1 * HOUR)).toBe(0);
    await caughtUp();
    expect(await reminders(seller)).toEqual([made.body.id]);
    expect((await task(made.body.id)).remindedAt).toBe(at(-1));
    expectProblem(await app.request('POST', '/api/v1/tasks', { token: seller.token, body: { subject: 'x', dueAt: at(1), remindAt: at(2) } }), 400, 'validation');
  });

  it('a reminder moved (changed, snoozed) fires at the new time only; reassigned, it goes to the new assignee', async () => {
    const id = (await app.request('POST', '/api/v1/tasks', { token: seller.token, body: { subject: 'Moved', dueAt: at(10), remindAt: at(2) } })).body.id;
    expect((await app.request('PATCH', `/api/v1/tasks/${id}`, { token: seller.token, body: { remindAt: at(3) } })).status).toBe(200);
    await caughtUp();
    expect(await advance(2 * HOUR)).toBe(0);
    expect((await app.request('POST', `/api/v1/tasks/${id}/snooze`, { token: seller.token, body: { until: at(2) } })).status).toBe(200);
    expectProblem(await app.request('POST', `/api/v1/tasks/${id}/snooze`, { token: seller.token, body: { until: at(-1) } }), 400, 'validation');
    await caughtUp();
    expect(await advance(1 * HOUR)).toBe(0);
    // A salesperson's scope is their own: they cannot give tasks away; the manager can, within the scope.
    expectProblem(await app.request('POST', `/api/v1/tasks/${id}/assign`, { token: seller.token, body: { assigneeId: manager.userId } }), 404, 'employee.not_found');
    expectProblem(await app.request('POST', `/api/v1/tasks/${id}/assign`, { token: manager.token, body: { assigneeId: other.userId } }), 404, 'employee.not_found');
    expect((await app.request('POST', `/api/v1/tasks/${id}/assign`, { token: manager.token, body: { assigneeId: manager.userId } })).status).toBe(200);
    await caughtUp();
    expect(await advance(1 * HOUR)).toBe(1);
    await caughtUp();
    expect(await reminders(manager)).toContain(id);
    expect(await reminders(seller)).not.toContain(id);
    // Out of the seller's scope now.
    expectProblem(await app.request('GET', `/api/v1/tasks/${id}`, { token: seller.token }), 404, 'task.not_found');
  });

  it('a reminder due while the service was down fires once after the restart; a second worker does not fire it again', async () => {
    const id = (await app.request('POST', '/api/v1/tasks', { token: seller.token, body: { subject: 'Across a restart', dueAt: at(3), remindAt: at(1) } })).body.id;
    await caughtUp();
    // Down over the reminder time (no ticks), then two workers (a restarted process and a standby) catch up.
    clock.advance(2 * HOUR);
    const restarted = new TimerWorker([taskReminders], app.services.deps, app.services.readStore, silentLogger, app.services.mailer);
    const standby = new TimerWorker([taskReminders], app.services.deps, app.services.readStore, silentLogger, app.services.mailer);
    expect(await restarted.tick()).toBe(1);
    await standby.tick();
    await login(seller, 'task.seller');
    await caughtUp();
    expect(await standby.tick()).toBe(0);
    expect((await reminders(seller)).filter((r: string) => r === id)).toHaveLength(1);
  });

  it('a manager gives a task to someone in scope; the list is scoped by assignee', async () => {
    const given = await app.request('POST', '/api/v1/tasks', { token: manager.token, body: { subject: '准备报价', dueAt: at(24), assigneeId: seller.userId } });
    expect(given.status).toBe(201);
    expectProblem(await app.request('POST', '/api/v1/tasks', { token: seller.token, body: { subject: 'For someone else', dueAt: at(24), assigneeId: manager.userId } }), 404, 'employee.not_found');
    expectProblem(await app.request('POST', '/api/v1/tasks', { token: manager.token, body: { subject: 'Outside', dueAt: at(24), assigneeId: other.userId } }), 404, 'employee.not_found');
    await caughtUp();
    expect(await task(given.body.id)).toMatchObject({ assigneeId: seller.userId, createdBy: manager.userId });
    const mine = (await app.request('GET', '/api/v1/tasks?status=open', { token: seller.token })).body.items.map((t: { id: string }) => t.id);
    expect(mine).toContain(given.body.id);
    expect((await app.request('GET', '/api/v1/tasks', { token: other.token })).body.items).toEqual([]);
    expectProblem(await app.request('POST', `/api/v1/tasks/${given.body.id}/done`, { token: other.token, body: {} }), 404, 'task.not_found');
  });

  it('a recurring task makes its next occurrence when done, one at a time; cancelled, the series stops', async () => {
    const first = await app.request('POST', '/api/v1/tasks', { token: seller.token, body: { subject: '周报', dueAt: '2026-12-07T09:00:00Z', remindAt: '2026-12-07T08:00:00Z', recurrence: { every: 'week' } } });
    const done = await app.request('POST', `/api/v1/tasks/${first.body.id}/done`, { token: seller.token, body: { note: '已交' } });
    expect(done.status).toBe(200);
    const nextId = done.body.nextTaskId;
    expect(nextId).toBeTruthy();
    // Done again (a retry): no second next occurrence.
    expect((await app.request('POST', `/api/v1/tasks/${first.body.id}/done`, { token: seller.token, body: {} })).body.nextTaskId).toBe(nextId);
    await caughtUp();
    expect(await task(nextId)).toMatchObject({ subject: '周报', dueAt: '2026-12-14T09:00:00.000Z', remindAt: '2026-12-14T08:00:00.000Z', occurrence: 2, status: 'open' });
    const series = (await app.request('GET', '/api/v1/tasks?q=周报', { token: seller.token })).body.items;
    expect(series.filter((t: { status: string }) => t.status === 'open')).toHaveLength(1);
    expect((await app.request('POST', `/api/v1/tasks/${nextId}/cancel`, { token: seller.token, body: { reason: '不再需要' } })).status).toBe(200);
    await caughtUp();
    expect((await app.request('GET', '/api/v1/tasks?q=周报&status=open', { token: seller.token })).body.items).toEqual([]);
    expectProblem(await app.request('POST', `/api/v1/tasks/${nextId}/done`, { token: seller.token, body: {} }), 409, 'task.closed');
  });

  it("an activity's next step becomes the owner's task, once", async () => {
    const logged = await app.request('POST', '/api/v1/activities', {
      token: seller.token,
      headers: { 'idempotency-key': 'next-step-1' },
      body: { kind: 'call', customerId, occurredAt: at(-1), summary: '电话沟通', nextStep: { subject: '发送报价', dueAt: at(48) } },
    });
    expect(logged.status).toBe(201);
    expect(logged.body.taskId).toBeTruthy();
    const again = await app.request('POST', '/api/v1/activities', {
      token: seller.token,
      headers: { 'idempotency-key': 'next-step-1' },
      body: { kind: 'call', customerId, occurredAt: at(-1), summary: '电话沟通', nextStep: { subject: '发送报价', dueAt: at(48) } },
    });
    expect(again.body.taskId).toBe(logged.body.taskId);
    const made = (await app.request('GET', `/api/v1/tasks/${logged.body.taskId}`, { token: seller.token, headers: { 'x-min-position': logged.headers.get('x-position')! } })).body;
    expect(made).toMatchObject({ subject: '发送报价', dueAt: at(48), customerId, activityId: logged.body.id, assigneeId: seller.userId, status: 'open' });
    expect((await app.request('GET', '/api/v1/tasks?q=发送报价', { token: seller.token })).body.items).toHaveLength(1);
  });
});
