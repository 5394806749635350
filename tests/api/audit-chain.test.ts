import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditAnchorStream } from '../../src/domain/audit/index.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { PUBLISHED_CATEGORIES, topicFor } from '../../src/integrations/kafka/messages.ts';
import { categoryOf } from '../../src/infra/eventstore/port.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/** 18:00 on 2 December in Shanghai (the company's default time zone). */
const clock = new ManualClock(new Date('2026-12-02T10:00:00.000Z'));

describe('the tamper-evident log over HTTP, and its daily anchors', () => {
  let app: TestApp;
  let auditor: string;
  let salesperson: string;
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    const departmentId = await app.department('Audit team');
    auditor = (await app.userWithToken('auditor-au', ['auditor'], departmentId)).token;
    salesperson = (await app.userWithToken('seller-se', ['salesperson'], departmentId)).token;
    for (const name of ['Chain Trading Co', '链条贸易有限公司']) await app.request('POST', '/api/v1/customers', { body: { name } });
  });
  afterAll(async () => app.close());

  it('an auditor verifies the whole log, or a range of it; others may not', async () => {
    const head = Number(await app.services.eventStore.headPosition());
    const whole = await app.request('GET', '/api/v1/audit/verify', { token: auditor });
    expect(whole.status).toBe(200);
    expect(whole.body).toEqual({ ok: true, checked: head, expired: 0, head: (await app.services.chain!.chainHead())!.hash });
    const part = await app.request('GET', `/api/v1/audit/verify?from=2&to=${head - 1}`, { token: auditor });
    expect(part.body).toMatchObject({ ok: true, checked: head - 2 });
    expectProblem(await app.request('GET', '/api/v1/audit/verify', { token: salesperson }), 403, 'forbidden');
    expectProblem(await app.request('GET', '/api/v1/audit/verify?from=5&to=2', { token: auditor }), 400, 'validation');
    expectProblem(await app.request('GET', '/api/v1/audit/verify?from=first', { token: auditor }), 400, 'validation');
  });

  it("at 00:05 company time the chain's last link is anchored for the day that ended, once, as an event published on crm.audit.anchor", async () => {
    await caughtUp();
    await app.services.timers.tick();
    expect(await app.services.eventStore.readStream(auditAnchorStream('2026-12-02'))).toEqual([]);
    // 00:06 on 3 December in Shanghai.
    clock.advance(6 * 3_600_000 + 6 * 60_000);
    await caughtUp();
    const before = (await app.services.chain!.chainHead())!;
    await app.services.timers.tick();
    await app.services.timers.tick();
    const anchors = await app.services.eventStore.readStream(auditAnchorStream('2026-12-02'));
    expect(anchors.map((event) => [event.type, event.data])).toEqual([['AuditAnchored', { day: '2026-12-02', position: before.position.toString(), hash: before.hash }]]);
    // The anchor holds the link the verifier computes at its position.
    const upTo = await app.request('GET', `/api/v1/audit/verify?to=${before.position}`, { token: auditor });
    expect(upTo.body).toMatchObject({ ok: true, head: before.hash });
    expect(PUBLISHED_CATEGORIES).toContain(categoryOf(anchors[0]!.streamId));
    expect(topicFor(categoryOf(anchors[0]!.streamId))).toBe('crm.audit.anchor');
    // The next run is tomorrow's.
    clock.advance(3_600_000);
    await caughtUp();
    await app.services.timers.tick();
    expect(await app.services.eventStore.readStream(auditAnchorStream('2026-12-03'))).toEqual([]);
    clock.advance(23 * 3_600_000);
    await caughtUp();
    await app.services.timers.tick();
    expect(await app.services.eventStore.readStream(auditAnchorStream('2026-12-03'))).toHaveLength(1);
    expect((await app.request('GET', '/api/v1/audit/verify', { token: await app.login('auditor-au', 'auditor-au-password-1') })).body).toMatchObject({ ok: true });
  });

  it('at 03:00 company time, idempotency keys past their retention expire (each stream keeps its last event), recorded as EventsExpired; the chain still verifies', async () => {
    const created = await app.request('POST', '/api/v1/customers', { body: { name: 'Retained Key Co' }, headers: { 'Idempotency-Key': 'retention-key-1' } });
    expect(created.status).toBe(201);
    const keyStream = () => app.services.eventStore.readAll({ filter: { categories: ['idempotency'] } });
    const before = await keyStream();
    expect(before.length).toBeGreaterThanOrEqual(2);
    // Eight days later (the default keeps keys 7 days), at 03:00 in Shanghai.
    clock.advance(8 * 86_400_000);
    await caughtUp();
    await app.services.timers.tick();
    const expired = (await app.services.eventStore.readAll({ filter: { eventTypes: ['EventsExpired'] } })).map((e) => e.data);
    expect(expired).toEqual([{ category: 'idempotency', before: expect.any(String), expired: before.length - 1 }]);
    expect(await keyStream()).toEqual([before.at(-1)]);
    const verified = await app.request('GET', '/api/v1/audit/verify', { token: await app.login('auditor-au', 'auditor-au-password-1') });
    expect(verified.body).toMatchObject({ ok: true, expired: before.length - 1 });
    // The key is forgotten: the same key makes a new customer.
    const again = await app.request('POST', '/api/v1/customers', { body: { name: 'Retained Key Co 2' }, headers: { 'Idempotency-Key': 'retention-key-1' } });
    expect(again.status).toBe(201);
  });
});
