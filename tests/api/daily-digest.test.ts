import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logActivity } from '../../src/commands/activities.ts';
import { mailDailyDigest } from '../../src/commands/daily-digest.ts';
import { hireEmployee, systemActor } from '../../src/commands/employees.ts';
import { ensureRoleTemplates } from '../../src/commands/org.ts';
import { TimerWorker } from '../../src/app/timers.ts';
import { allTimers } from '../../src/app/wiring.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import type { MemoryMailer } from '../../src/infra/mail/memory.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/** 06:00 on 2 December in Shanghai (the company's default time zone). */
const clock = new ManualClock(new Date('2026-12-01T22:00:00.000Z'));

describe('the daily digest (团队日报) to managers', () => {
  let app: TestApp;
  let mailer: MemoryMailer;
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);
  const runTimers = async () => {
    await caughtUp();
    await app.services.timers.tick();
    await caughtUp();
  };

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    mailer = app.services.mailer as MemoryMailer;
    const meta = () => app.services.requestMeta('test');
    const roles = await ensureRoleTemplates(app.services.deps, systemActor, meta);
    const departmentId = await app.department('Digest team');
    const hire = async (name: string, role: string, email?: string) =>
      (await hireEmployee(app.services.deps, { fields: { name, departmentId, ...(email ? { email } : {}) }, roleIds: [roles[role]!] }, systemActor, meta())).employeeId;
    await hire('Manager Ma', 'manager', 'ma@example.com');
    const rep = await hire('Rep Ren', 'salesperson', 'ren@example.com');
    await hire('Quiet Qiu', 'salesperson');
    const customerId = (await app.request('POST', '/api/v1/customers', { body: { name: 'Digest Customer Co', ownerId: rep } })).body.id as string;
    // Two calls yesterday (1 December, Shanghai time) and a visit today, which the first digest leaves out.
    for (const at of ['2026-12-01T01:00:00.000Z', '2026-12-01T09:00:00.000Z'])
      await logActivity(app.services.deps, { kind: 'call', customerId, occurredAt: at, summary: 'Follow-up call' }, { ...systemActor, userId: rep }, meta());
    await logActivity(app.services.deps, { kind: 'visit', customerId, occurredAt: '2026-12-01T21:00:00.000Z', summary: 'Visit' }, { ...systemActor, userId: rep }, meta());
    await caughtUp();
  });
  afterAll(async () => app.close());

  it('is on by default at 08:00 and sends nothing before then', async () => {
    expect((await app.request('GET', '/api/v1/settings/daily-digest')).body).toEqual({ enabled: true, time: '08:00' });
    await runTimers();
    expect(mailer.sent).toEqual([]);
  });

  it("at 08:00 each manager gets the previous day's team view of their scope (salespeople do not get one), once", async () => {
    clock.advance(2 * 3_600_000 + 30_000);
    await runTimers();
    expect(mailer.sent.map((m) => m.to)).toEqual([['ma@example.com']]);
    const mail = mailer.sent[0]!;
    expect(mail.subject).toBe('团队日报 Team digest 2026-12-01');
    expect(mail.text).toContain('Rep Ren');
    expect(mail.text).toContain('Quiet Qiu');
    expect(mail.text).toMatch(/Rep Ren\n {2}[^\n]*\n {2}跟进 Activities: 2\n/);
    expect(mail.html).toContain('<table');
    // Again, and by another worker after a restart: nobody is mailed twice.
    await runTimers();
    await new TimerWorker(allTimers, app.services.deps, app.services.readStore, silentLogger, mailer).tick();
    expect(mailer.sent).toHaveLength(1);
    // A run retried for the same day (a crash after mailing) finds the digest mailed and sends none.
    expect(await mailDailyDigest(app.services.deps, app.services.readStore, mailer, '2026-12-01', app.services.requestMeta('test'))).toBe(0);
    expect(mailer.sent).toHaveLength(1);
  });

  it('the next morning brings the next day; turned off, none; moved, at the new time', async () => {
    clock.advance(24 * 3_600_000);
    await runTimers();
    expect(mailer.sent.map((m) => m.subject)).toEqual(['团队日报 Team digest 2026-12-01', '团队日报 Team digest 2026-12-02']);
    expect(mailer.sent[1]!.text).toMatch(/跟进 Activities: 1\n/);

    const admin = await app.login();
    expect((await app.request('PUT', '/api/v1/settings/daily-digest', { token: admin, body: { enabled: false, time: '08:00' } })).status).toBe(200);
    clock.advance(24 * 3_600_000);
    await runTimers();
    expect(mailer.sent).toHaveLength(2);

    const again = await app.login();
    expect((await app.request('PUT', '/api/v1/settings/daily-digest', { token: again, body: { enabled: true, time: '09:15' } })).status).toBe(200);
    await runTimers();
    expect(mailer.sent).toHaveLength(2);
    // 08:00:30 on 4 December now: the digest comes at 09:15.
    clock.advance(3_600_000);
    await runTimers();
    expect(mailer.sent).toHaveLength(2);
    clock.advance(15 * 60_000);
    await runTimers();
    expect(mailer.sent.map((m) => m.subject).at(-1)).toBe('团队日报 Team digest 2026-12-03');
  });

  it('refuses a time that is not HH:MM', async () => {
    const admin = await app.login();
    expectProblem(await app.request('PUT', '/api/v1/settings/daily-digest', { token: admin, body: { enabled: true, time: '8am' } }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/settings/daily-digest', { token: admin, body: { enabled: true, time: '24:00' } }), 400, 'validation');
  });
});
