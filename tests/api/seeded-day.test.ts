import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, seedCompany } from '../../src/cli/seed-company.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/** The seeded company's last four weeks, read back on a fixed clock: a rep's agenda, and the contacts gone stale. */
describe("a seeded salesperson's day (fixed clock)", () => {
  const clock = new ManualClock(new Date('2026-12-02T01:00:00.000Z'));
  let app: TestApp;
  let seeded: Awaited<ReturnType<typeof seedCompany>>;
  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    seeded = await seedCompany(app.services, 40, () => {}, { salesDays: 28 });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 60_000);
  }, 120_000);
  afterAll(async () => app.close());

  it('four weeks of activities, plans and tasks; today a plan, tasks and next steps, some overdue', async () => {
    expect(seeded.activities).toBeGreaterThan(100);
    expect(seeded.plans).toBeGreaterThan(50);
    const token = await app.login('wang.fang', DEMO_PASSWORD);
    const agenda = (await app.request('GET', '/api/v1/me/agenda', { token })).body;
    expect(agenda.date).toBe('2026-12-02');
    expect(agenda.planItems.filter((i: { period: string }) => i.period === 'day').length).toBe(3);
    expect(agenda.planItems.some((i: { period: string }) => i.period === 'week')).toBe(true);
    expect([...agenda.tasks, ...agenda.nextSteps].length).toBeGreaterThan(0);
    expect(agenda.nextSteps.some((t: { overdue: boolean }) => t.overdue)).toBe(true);
    const activities = (await app.request('GET', '/api/v1/activities?limit=200', { token })).body.items;
    expect(activities.length).toBeGreaterThan(20);
    expect(new Set(activities.map((a: { ownerId: string }) => a.ownerId)).size).toBe(1);
    const customers = (await app.request('GET', '/api/v1/customers?limit=200', { token })).body.items;
    expect(customers.some((c: { activitiesLast30Days: number }) => c.activitiesLast30Days > 0)).toBe(true);
  });

  it('contacts nobody has called go stale after the window, the longest first', async () => {
    const token = await app.login('wang.fang', DEMO_PASSWORD);
    expect((await app.request('GET', '/api/v1/contacts/stale?days=30', { token })).body.items).toEqual([]);
    clock.advance(31 * 86_400_000);
    const later = await app.login('wang.fang', DEMO_PASSWORD);
    const stale = (await app.request('GET', '/api/v1/contacts/stale?days=30', { token: later })).body;
    expect(stale.total).toBeGreaterThan(0);
    const idle = stale.items.map((c: { idleDays: number }) => c.idleDays);
    expect(idle).toEqual([...idle].sort((a, b) => b - a));
  });
});
