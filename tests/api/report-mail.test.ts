import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hireEmployee, systemActor } from '../../src/commands/employees.ts';
import { ensureRoleTemplates } from '../../src/commands/org.ts';
import { nextOccurrence, reportedPeriod } from '../../src/domain/schedule/report-mail.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import type { MemoryMailer } from '../../src/infra/mail/memory.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/** Wednesday 25 November 2026, 10:00 in Shanghai (the company's default time zone). */
const clock = new ManualClock(new Date('2026-11-25T02:00:00.000Z'));

describe('scheduled report mails (定时报表, /api/v1/settings/report-mail)', () => {
  let app: TestApp;
  let mailer: MemoryMailer;
  const ids: Record<string, string> = {};
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);
  const runTimers = async () => {
    await caughtUp();
    await app.services.timers.tick();
    await caughtUp();
  };
  const kpiMails = () => mailer.sent.filter((mail) => mail.subject.startsWith('KPI'));

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    mailer = app.services.mailer as MemoryMailer;
    const meta = () => app.services.requestMeta('test');
    const roles = await ensureRoleTemplates(app.services.deps, systemActor, meta);
    const departmentId = await app.department('Mail team');
    const hire = async (name: string, role: string, email?: string) =>
      (ids[name] = (await hireEmployee(app.services.deps, { fields: { name, departmentId, ...(email ? { email } : {}) }, roleIds: [roles[role]!] }, systemActor, meta())).employeeId);
    await hire('Manager Ma', 'manager', 'ma@example.com');
    await hire('Rep Ren', 'salesperson', 'ren@example.com');
    await hire('Quiet Qiu', 'salesperson');
    // Last week: two customers of Ren's, one of Qiu's.
    for (const [name, owner] of [['Mail Customer A', 'Rep Ren'], ['Mail Customer B', 'Rep Ren'], ['Mail Customer C', 'Quiet Qiu']] as const)
      expect((await app.request('POST', '/api/v1/customers', { body: { name, ownerId: ids[owner] } })).status).toBe(201);
    await caughtUp();
    // Monday 30 November, 06:00 in Shanghai.
    clock.set('2026-11-29T22:00:00.000Z');
  });
  afterAll(async () => app.close());

  it('computes when a schedule runs next and which period a run reports', () => {
    const zone = 'Asia/Shanghai';
    expect(nextOccurrence({ every: 'week', weekday: 1, time: '08:00' }, zone, new Date('2026-11-29T22:00:00.000Z'))).toBe('2026-11-30T00:00:00.000Z');
    expect(nextOccurrence({ every: 'week', weekday: 1, time: '08:00' }, zone, new Date('2026-11-30T00:00:00.000Z'))).toBe('2026-12-07T00:00:00.000Z');
    expect(nextOccurrence({ every: 'month', day: 1, time: '09:30' }, zone, new Date('2026-11-30T00:00:00.000Z'))).toBe('2026-12-01T01:30:00.000Z');
    expect(nextOccurrence({ every: 'day', time: '07:00' }, zone, new Date('2026-11-30T00:00:00.000Z'))).toBe('2026-11-30T23:00:00.000Z');
    expect(reportedPeriod('week', '2026-11-30')).toEqual({ from: '2026-11-23', to: '2026-11-30' });
    expect(reportedPeriod('week', '2026-12-02')).toEqual({ from: '2026-11-23', to: '2026-11-30' });
    expect(reportedPeriod('month', '2026-01-05')).toEqual({ from: '2025-12-01', to: '2026-01-01' });
    expect(reportedPeriod('day', '2026-03-01')).toEqual({ from: '2026-02-28', to: '2026-03-01' });
  });

  it('refuses schedules it could not keep: no weekday for a week, an unknown recipient, two with one key', async () => {
    const base = { key: 'weekly-kpi', report: 'kpi', every: 'week', weekday: 1, time: '08:00', recipients: [ids['Manager Ma']] };
    expect((await app.request('GET', '/api/v1/settings/report-mail')).body).toEqual({ schedules: [] });
    expectProblem(await app.request('PUT', '/api/v1/settings/report-mail', { body: { schedules: [{ ...base, weekday: undefined }] } }), 400, 'validation');
    const unknown = await app.request('PUT', '/api/v1/settings/report-mail', { body: { schedules: [{ ...base, recipients: [ids['Manager Ma'], '0190a7c2-0000-7000-8000-000000000000'] }] } });
    expectProblem(unknown, 400, 'validation');
    expect(JSON.stringify(unknown.body)).toContain('schedules.0.recipients.1');
    expectProblem(await app.request('PUT', '/api/v1/settings/report-mail', { body: { schedules: [base, base] } }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/settings/report-mail', { body: { schedules: [{ ...base, report: 'funnel' }] } }), 400, 'validation');
  });

  it("every Monday at 08:00, last week's KPIs to each recipient over their own scope, once; none after the schedule is removed", async () => {
    const saved = await app.request('PUT', '/api/v1/settings/report-mail', {
      body: { schedules: [{ key: 'weekly-kpi', report: 'kpi', every: 'week', weekday: 1, time: '08:00', recipients: [ids['Manager Ma'], ids['Rep Ren'], ids['Quiet Qiu']] }] },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    await runTimers();
    await runTimers();
    expect(kpiMails()).toEqual([]);

    clock.set('2026-11-30T00:00:30.000Z');
    await runTimers();
    // Quiet Qiu has no e-mail address.
    expect(kpiMails().map((mail) => mail.to)).toEqual([['ma@example.com'], ['ren@example.com']]);
    const [ma, ren] = kpiMails();
    expect(ma!.subject).toBe('KPI 报表 2026-11-23 – 2026-11-30');
    expect(ma!.text).toContain('新客户 New customers: 3');
    expect(ren!.text).toContain('新客户 New customers: 2');
    expect(ma!.html).toContain('<table');
    // The metrics of the modules each recipient may view (a salesperson views orders).
    expect(ren!.text).toContain('签约额 Orders');

    await runTimers();
    expect(kpiMails()).toHaveLength(2);

    clock.set('2026-12-07T00:00:30.000Z');
    await runTimers();
    expect(kpiMails()).toHaveLength(4);
    expect(kpiMails()[2]!.subject).toBe('KPI 报表 2026-11-30 – 2026-12-07');
    expect(kpiMails()[2]!.text).toContain('新客户 New customers: 0');

    expect((await app.request('PUT', '/api/v1/settings/report-mail', { body: { schedules: [] } })).status).toBe(200);
    await runTimers();
    clock.set('2026-12-14T00:00:30.000Z');
    await runTimers();
    expect(kpiMails()).toHaveLength(4);
  });
});
