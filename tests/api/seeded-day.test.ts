import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, seedCompany } from '../../src/cli/seed-company.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/** The seeded company's last days, read back on a fixed clock: a rep's agenda, and the contacts gone stale. */
describe("a seeded salesperson's day (fixed clock)", () => {
  const clock = new ManualClock(new Date('2026-12-02T01:00:00.000Z'));
  let app: TestApp;
  let seeded: Awaited<ReturnType<typeof seedCompany>>;
  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    // A week of each rep's days (the demo seeds four): enough for today's agenda and for overdue next steps, and
    // quick to project also into FerretDB (the integration run), which applies them one write at a time.
    seeded = await seedCompany(app.services, 40, () => {}, { salesDays: 7 });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 150_000);
  }, 240_000);
  afterAll(async () => app.close());

  it('the service desk: tickets in every status, with SLA targets, warnings or breaches, and survey answers', async () => {
    expect(seeded.tickets.tickets).toBeGreaterThan(10);
    const token = await app.login('ma.li', DEMO_PASSWORD);
    const tickets = (await app.request('GET', '/api/v1/tickets?limit=200', { token })).body.items as { id: string; status: string; sla: { state: string } | null }[];
    expect(new Set(tickets.map((t) => t.status))).toEqual(new Set(['new', 'assigned', 'in_progress', 'waiting', 'resolved', 'closed']));
    expect(tickets.every((t) => t.sla !== null)).toBe(true);
    const types = new Set<string>();
    for (const ticket of tickets) for (const event of (await app.request('GET', `/api/v1/tickets/${ticket.id}/history?limit=200`, { token })).body.items as { type: string }[]) types.add(event.type);
    for (const type of ['SlaTargetsSet', 'TicketWaiting', 'WorkLogged', 'TicketClosed', 'SurveyAnswered']) expect(types, type).toContain(type);
    expect(seeded.tickets.surveys).toBeGreaterThan(0);
  });

  it('campaigns with results: an email campaign sent with people\'s opens and clicks, an exhibition, leads, won deals, costs and ROI', async () => {
    expect(seeded.marketing).toMatchObject({ campaigns: 2, leads: 20, wonDeals: 2 });
    expect(seeded.marketing.members).toBeGreaterThan(20);
    const director = await app.login('sun.hui', DEMO_PASSWORD);
    const report = (await app.request('GET', '/api/v1/reports/campaigns?from=2026-10-01&to=2027-01-01', { token: director })).body;
    expect(report.items.map((row: { name: string }) => row.name).sort()).toEqual(['上海国际工业博览会', '秋季新品邮件推广']);
    const mailing = report.items.find((row: { type: string }) => row.type === 'email');
    expect(mailing).toMatchObject({ sent: seeded.marketing.members, delivered: seeded.marketing.members, leads: 6, opportunities: 1 });
    expect(mailing.automated.opens).toBeGreaterThan(0);
    // This clock stands still, so every open came "at once" after delivery: at a threshold of 0 s the people's count.
    await app.request('PUT', '/api/v1/settings/campaign-engagement', { body: { minSecondsAfterDelivery: 0 } });
    const people = (await app.request('GET', '/api/v1/reports/campaigns?from=2026-10-01&to=2027-01-01', { token: director })).body.items.find((row: { type: string }) => row.type === 'email');
    expect(people).toMatchObject({ opened: seeded.marketing.opened, clicked: seeded.marketing.clicked });
    expect(seeded.marketing.opened).toBeGreaterThan(10);
    await app.request('PUT', '/api/v1/settings/campaign-engagement', { body: { minSecondsAfterDelivery: 10 } });
    const fair = report.items.find((row: { type: string }) => row.type === 'exhibition');
    expect(fair).toMatchObject({ leads: 14, opportunities: 2, wonRevenue: { amount: 128_000_000, currency: 'CNY' }, cost: { amount: 5_750_000, currency: 'CNY' } });
    expect(fair.roi).toBeGreaterThan(1);
  });

  it('expense claims in every status, budgets with their actuals, and approvals waiting for the managers', async () => {
    expect(seeded.expenses.claims).toBeGreaterThan(20);
    const director = await app.login('sun.hui', DEMO_PASSWORD);
    const claims = (await app.request('GET', '/api/v1/expenses?limit=200', { token: director })).body.items as { status: string }[];
    expect(new Set(claims.map((c) => c.status))).toEqual(new Set(['draft', 'submitted', 'approved', 'rejected', 'paid']));
    const budgets = (await app.request('GET', '/api/v1/reports/budgets?from=2026-12&to=2026-12', { token: director })).body.items as { submitted: { amount: number } }[];
    expect(budgets.length).toBe(12);
    expect(budgets.some((b) => b.submitted.amount > 0)).toBe(true);
    const waiting = [];
    for (const username of ['sun.hui', 'zhang.wei', 'liu.yang', 'zhao.lei']) waiting.push(...(await app.request('GET', '/api/v1/me/approvals', { token: await app.login(username, DEMO_PASSWORD) })).body.items);
    expect(waiting.length).toBeGreaterThanOrEqual(6);
    expect((await app.request('GET', '/api/v1/me/approvals', { token: director })).body.items.length).toBeGreaterThan(0);
  });

  it('a week of activities, plans and tasks; today a plan, tasks and next steps, some overdue', async () => {
    expect(seeded.activities).toBeGreaterThan(100);
    expect(seeded.plans).toBeGreaterThan(50);
    type Agenda = { date: string; planItems: { period: string }[]; tasks: { overdue: boolean }[]; nextSteps: { overdue: boolean }[] };
    const agendas: Agenda[] = [];
    for (const username of ['wang.fang', 'li.qiang', 'chen.jing', 'yang.min', 'huang.li', 'zhou.jun', 'xu.tao']) {
      const agenda = (await app.request('GET', '/api/v1/me/agenda', { token: await app.login(username, DEMO_PASSWORD) })).body as Agenda;
      expect(agenda.date).toBe('2026-12-02');
      expect(agenda.planItems.filter((i) => i.period === 'day').length, username).toBe(3);
      expect(agenda.planItems.some((i) => i.period === 'week'), username).toBe(true);
      agendas.push(agenda);
    }
    // Each rep has a monthly task due in three days; some next steps are still open, and some of those overdue.
    expect(agendas.some((a) => a.nextSteps.length > 0)).toBe(true);
    expect(agendas.some((a) => a.nextSteps.some((t) => t.overdue))).toBe(true);
    const token = await app.login('wang.fang', DEMO_PASSWORD);
    const activities = (await app.request('GET', '/api/v1/activities?limit=200', { token })).body.items;
    expect(activities.length).toBeGreaterThan(8);
    expect(new Set(activities.map((a: { ownerId: string }) => a.ownerId)).size).toBe(1);
    const customers = (await app.request('GET', '/api/v1/customers?limit=200', { token })).body.items;
    expect(customers.some((c: { activitiesLast30Days: number }) => c.activitiesLast30Days > 0)).toBe(true);
    // The seed sets member-level rules: every active customer has a level, and those with orders a higher one.
    expect(seeded.memberLevels).toBeGreaterThan(0);
    expect(customers.every((c: { memberLevel?: string }) => typeof c.memberLevel === 'string')).toBe(true);
    expect(new Set(customers.map((c: { memberLevel: string }) => c.memberLevel)).size).toBeGreaterThan(1);
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
