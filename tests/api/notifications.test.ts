import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/commands/employees.ts';
import { notify } from '../../src/commands/notifications.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/** Reads Server-Sent Events from a fetch response until `count` events arrived (or the time is up). */
async function readEvents(response: Response, count: number, ms = 3000): Promise<{ id: string; event: string; data: Record<string, unknown> }[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: { id: string; event: string; data: Record<string, unknown> }[] = [];
  let text = '';
  const deadline = Date.now() + ms;
  while (events.length < count && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), new Promise<{ done: true; value: undefined }>((resolve) => setTimeout(() => resolve({ done: true, value: undefined }), deadline - Date.now()))]);
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const field = (name: string) => block.split('\n').find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
      if (field('data')) events.push({ id: field('id')!, event: field('event')!, data: JSON.parse(field('data')!) });
    }
  }
  await reader.cancel();
  return events;
}

describe('notifications', () => {
  let app: TestApp;
  let leaver: { userId: string; token: string };
  let receiver: { userId: string; token: string };
  let other: { userId: string; token: string };
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  const feed = (token: string, lastEventId?: string) => fetch(`${app.baseUrl}/api/v1/me/notifications/stream`, { headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } });
  beforeAll(async () => {
    app = await startTestApp();
    const department = await app.department('Notified');
    leaver = await app.userWithToken('notify.leaver', ['salesperson'], department);
    receiver = await app.userWithToken('notify.receiver', ['salesperson'], department);
    other = await app.userWithToken('notify.other', ['salesperson'], department);
  });
  afterAll(async () => app.close());

  it('a handover tells the receiver, once; only the receiver sees and reads it', async () => {
    for (let i = 0; i < 3; i++) await app.request('POST', '/api/v1/customers', { body: { name: `Notified Co ${i}` }, token: leaver.token });
    await caughtUp();
    const started = await app.request('POST', `/api/v1/employees/${leaver.userId}/handover`, { body: { toEmployeeId: receiver.userId } });
    for (let i = 0; i < 100 && (await app.request('GET', started.headers.get('location')!)).body.status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 20));
    await caughtUp();
    const mine = await app.request('GET', '/api/v1/me/notifications', { token: receiver.token });
    expect(mine.status).toBe(200);
    expect(mine.body.unread).toBe(1);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]).toMatchObject({ kind: 'handover.received', title: { 'zh-CN': '3 条记录已转交给您', en: '3 records were handed over to you' }, subject: { resource: 'employees', id: leaver.userId }, readAt: null, seq: 0 });
    expect((await app.request('GET', '/api/v1/me/notifications', { token: other.token })).body.items).toEqual([]);
    const id = mine.body.items[0].id;
    expectProblem(await app.request('POST', `/api/v1/me/notifications/${id}/read`, { token: other.token, body: {} }), 404, 'notification.not_found');
    expect((await app.request('POST', `/api/v1/me/notifications/${id}/read`, { token: receiver.token, body: {} })).status).toBe(200);
    expect((await app.request('POST', `/api/v1/me/notifications/${id}/read`, { token: receiver.token, body: {} })).status).toBe(200);
    await caughtUp();
    const after = await app.request('GET', '/api/v1/me/notifications', { token: receiver.token });
    expect(after.body.unread).toBe(0);
    expect(after.body.items[0].readAt).not.toBeNull();
    expect((await app.request('GET', '/api/v1/me/notifications?unread=true', { token: receiver.token })).body.items).toEqual([]);
    const events = await app.services.eventStore.readStream(`notification-${receiver.userId}`);
    expect(events.map((e) => e.type)).toEqual(['NotificationSent', 'NotificationRead']);
  });

  it('live over Server-Sent Events: what you missed first, then new ones; resumed with Last-Event-ID without repeats', async () => {
    const meta = (seed: string) => app.services.requestMeta('test', { seed, timeMs: Date.now() });
    const send = (n: number) => notify(app.services.deps, { recipientId: other.userId, kind: 'test.ping', title: { 'zh-CN': `提醒 ${n}`, en: `Reminder ${n}` } }, systemActor, meta(`sse-${other.userId}-${n}`));
    await send(1);
    const first = await feed(other.token);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reading = readEvents(first, 2);
    await new Promise((r) => setTimeout(r, 50));
    await send(2);
    const seen = await reading;
    expect(seen.map((e) => [e.id, e.event, (e.data.title as { en: string }).en])).toEqual([
      ['0', 'notification', 'Reminder 1'],
      ['1', 'notification', 'Reminder 2'],
    ]);
    await send(3);
    const resumed = await readEvents(await feed(other.token, '1'), 1);
    expect(resumed.map((e) => e.id)).toEqual(['2']);
    expect((await feed(other.token, 'abc')).status).toBe(400);
    expect((await fetch(`${app.baseUrl}/api/v1/me/notifications/stream`)).status).toBe(401);
  });
});
