import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { complaintAlerts, ticketSlaTimer } from '../../src/commands/tickets.ts';
import { localDate } from '../../src/domain/company/index.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const HOUR = 3_600_000;
type User = { userId: string; token: string };
type Row = Record<string, number | string | null>;

/**
 * The service report against a recomputation from the events alone: every ticket event read back from the log,
 * folded by the report's rules written out plainly here (who a measure counts for, on which company day).
 */
function recompute(events: { type: string; data: Record<string, unknown>; at: string }[], group: 'engineer' | 'customer' | 'type', from: string, to: string): Map<string, Record<string, number>> {
  const rows = new Map<string, Record<string, number>>();
  const tickets = new Map<string, { customerId: string; type: string; assigneeId: string | null; lastResolvedBy: string | null; handledBy: Set<string>; fr: string | null; res: string | null }>();
  const add = (ticketId: string, engineer: string | null, day: string, inc: Record<string, number>) => {
    if (day < from || day >= to) return;
    const t = tickets.get(ticketId)!;
    const key = group === 'engineer' ? engineer : group === 'customer' ? t.customerId : t.type;
    if (!key) return;
    const row = rows.get(key) ?? {};
    for (const [k, v] of Object.entries(inc)) row[k] = (row[k] ?? 0) + v;
    rows.set(key, row);
  };
  for (const { type, data, at } of events) {
    const id = data.ticketId as string;
    const day = localDate(at, 'Asia/Shanghai');
    const t = tickets.get(id);
    if (type === 'TicketOpened') {
      const fields = data.fields as { customerId: string; type: string };
      tickets.set(id, { customerId: fields.customerId, type: fields.type, assigneeId: data.assigneeId as string | null, lastResolvedBy: null, handledBy: new Set(), fr: null, res: null });
      add(id, data.assigneeId as string | null, day, { opened: 1, complaints: fields.type === 'complaint' ? 1 : 0 });
    } else if (!t) continue;
    else if (type === 'TicketAssigned') t.assigneeId = data.assigneeId as string | null;
    else if (type === 'TicketStarted' && !t.handledBy.has(data.by as string)) {
      t.handledBy.add(data.by as string);
      add(id, data.by as string, day, { handled: 1 });
    } else if (type === 'TicketResolved') {
      t.lastResolvedBy = data.by as string;
      add(id, t.lastResolvedBy, day, { resolved: 1 });
    } else if (type === 'TicketReopened') add(id, t.lastResolvedBy ?? t.assigneeId, day, { reopened: 1 });
    else if (type === 'WorkLogged') add(id, data.employeeId as string, data.on as string, { minutes: data.minutes as number });
    else if (type === 'SurveyAnswered') add(id, t.lastResolvedBy ?? t.assigneeId, day, { surveys: 1, scoreSum: data.score as number });
    else if (type === 'SlaTargetsSet') {
      const fr = data.firstResponse as { state: string; breached: boolean };
      const res = data.resolution as { state: string; breached: boolean };
      if (fr.state === 'stopped' && t.fr !== 'stopped') add(id, t.assigneeId, day, { firstResponses: 1, firstResponsesMet: fr.breached ? 0 : 1 });
      if (res.state === 'stopped' && t.res !== 'stopped') add(id, t.lastResolvedBy ?? t.assigneeId, day, { resolutions: 1, resolutionsMet: res.breached ? 0 : 1 });
      t.fr = fr.state;
      t.res = res.state;
    }
  }
  return rows;
}

describe('the service report (服务工作量)', () => {
  const clock = new ManualClock(new Date('2026-11-21T01:00:00.000Z'));
  let app: TestApp;
  let manager: User;
  let engineers: User[];
  let outsider: User;
  let customers: string[];
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
  const advance = async (ms: number) => {
    clock.advance(ms);
    await caughtUp();
    await app.services.timers.tick();
    await caughtUp();
  };
  const post = async (user: User, path: string, body: unknown, status = 200) => {
    const response = await app.request('POST', path, { token: user.token, body });
    expect(response.status, `${path} ${response.text}`).toBe(status);
    return response.body;
  };

  beforeAll(async () => {
    // Tokens last the whole simulated month (no logins in between).
    app = await startTestApp({ TOKEN_TTL_SECONDS: String(30 * 86_400) }, { clock, timers: [ticketSlaTimer, complaintAlerts] });
    const desk = await app.department('Report desk');
    const make = async (name: string, roles: string[], department: string) => {
      return app.userWithToken(name, roles, department);
    };
    manager = await make('rpt.manager', ['service_manager'], desk);
    engineers = [await make('rpt.eng1', ['service_engineer'], desk), await make('rpt.eng2', ['service_engineer'], desk)];
    outsider = await make('rpt.outsider', ['manager'], await app.department('Report elsewhere'));
    customers = [];
    for (const name of ['Report Pumps', 'Report Valves', 'Report Motors']) customers.push((await app.request('POST', '/api/v1/customers', { body: { name } })).body.id);

    // Three weeks of work across a month's end: each day a few tickets, worked, some waiting, some late, resolved, closed, surveyed.
    const types = ['repair', 'complaint', 'consultation'];
    for (let day = 0; day < 20; day++) {
      const opened: string[] = [];
      for (let i = 0; i < 3; i++) {
        const engineer = engineers[(day + i) % 2]!;
        const body = { type: types[(day + i) % 3], channel: 'phone', priority: ['high', 'normal', 'urgent'][i]!, customerId: customers[(day * 3 + i) % 3], subject: `Day ${day} #${i}`, description: '…', ...(i === 2 ? { departmentId: desk } : { assigneeId: engineer.userId }) };
        opened.push((await post(manager, '/api/v1/tickets', body, 201)).id);
      }
      await advance(HOUR / 2);
      for (const [i, id] of opened.entries()) {
        const engineer = engineers[(day + i) % 2]!;
        await post(engineer, `/api/v1/tickets/${id}/start`, {});
        await post(engineer, `/api/v1/tickets/${id}/work`, { minutes: 30 + 15 * i, kind: i === 1 ? 'on_site' : 'remote' });
        if (i === 1 && day % 4 === 0) await post(engineer, `/api/v1/tickets/${id}/wait`, { note: 'waiting' });
      }
      // Late on some days: the urgent one passes its 4 h resolution target.
      await advance(day % 3 === 0 ? 5 * HOUR : 2 * HOUR);
      for (const [i, id] of opened.entries()) {
        const engineer = engineers[(day + i) % 2]!;
        await post(engineer, `/api/v1/tickets/${id}/resolve`, { resolution: 'done' });
        if (i !== 0 || day % 5 !== 0) {
          const { surveyUrl } = await post(engineer, `/api/v1/tickets/${id}/close`, {});
          if ((day + i) % 2 === 0) expect((await app.request('POST', new URL(surveyUrl).pathname, { token: null, body: { score: 1 + ((day + i) % 5) } })).status).toBe(201);
        }
        if (i === 0 && day % 7 === 0) await post(manager, `/api/v1/tickets/${id}/reopen`, { reason: 'again' });
      }
      await advance(24 * HOUR - HOUR / 2 - (day % 3 === 0 ? 5 : 2) * HOUR);
    }
    await caughtUp();
  }, 300_000);
  afterAll(async () => app.close());

  const events = async () =>
    (await app.services.eventStore.readAll({ after: -1n })).filter((e) => e.streamId.startsWith('ticket-')).map((e) => ({ type: e.type, data: e.data as Record<string, unknown>, at: e.metadata.at }));

  it.each([
    ['engineer', 'employeeId'],
    ['customer', 'customerId'],
    ['type', 'type'],
  ] as const)('grouped by %s, equals a recomputation from the events (whole months and edge days)', async (group, key) => {
    for (const [from, to] of [
      ['2026-11-01', '2027-01-01'],
      ['2026-11-10', '2026-12-05'],
      ['2026-12-01', '2026-12-02'],
    ]) {
      const response = await app.request('GET', `/api/v1/reports/service?from=${from}&to=${to}&groupBy=${group}`, { token: manager.token });
      expect(response.status, response.text).toBe(200);
      const expected = recompute(await events(), group, from!, to!);
      const got = new Map((response.body.items as Row[]).map((row) => [String(row[key]), row]));
      expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [id, sums] of expected) {
        const row = got.get(id)!;
        for (const measure of ['opened', 'handled', 'resolved', 'reopened', 'minutes', 'firstResponses', 'firstResponsesMet', 'resolutions', 'resolutionsMet', 'surveys', 'complaints']) expect(row[measure], `${group} ${id} ${measure} ${from}..${to}`).toBe(sums[measure] ?? 0);
        expect(row.averageSatisfaction).toBe(sums.surveys ? Math.round((100 * sums.scoreSum!) / sums.surveys) / 100 : null);
        expect(row.resolutionMetPercent).toBe(sums.resolutions ? Math.round((1000 * sums.resolutionsMet!) / sums.resolutions) / 10 : null);
      }
    }
  });

  it('shows breaches, the satisfaction trend per customer, and stays within the caller’s scope', async () => {
    const byEngineer = (await app.request('GET', '/api/v1/reports/service?from=2026-11-01&to=2027-01-01', { token: manager.token })).body.items as Row[];
    expect(byEngineer.map((row) => row.employeeId).sort()).toEqual(engineers.map((e) => e.userId).sort());
    expect(byEngineer.some((row) => (row.resolutionMetPercent as number) < 100)).toBe(true);
    const byCustomer = (await app.request('GET', '/api/v1/reports/service?from=2026-11-01&to=2027-01-01&groupBy=customer', { token: manager.token })).body.items as (Row & { satisfactionTrend: { month: string }[] })[];
    expect(byCustomer[0]!.satisfactionTrend.map((t) => t.month)).toEqual(['2026-11', '2026-12']);
    expect(byCustomer.every((row) => (row.complaints as number) > 0)).toBe(true);
    // An engineer with an own scope sees their own row only; a manager elsewhere sees nobody of this desk.
    const own = (await app.request('GET', '/api/v1/reports/service?from=2026-11-01&to=2027-01-01', { token: engineers[0]!.token })).status;
    expect(own).toBe(403);
    expect((await app.request('GET', '/api/v1/reports/service?from=2026-11-01&to=2027-01-01', { token: outsider.token })).body.items).toEqual([]);
    expect((await app.request('GET', '/api/v1/reports/service?from=2026-11-01&to=2027-01-01&groupBy=customer', { token: outsider.token })).body.items).toEqual([]);
    expectProblem(await app.request('GET', '/api/v1/reports/service?from=2026-12-01&to=2026-11-01', { token: manager.token }), 400, 'validation');
    expectProblem(await app.request('GET', '/api/v1/reports/service?from=2026-11-01&to=2026-12-01&groupBy=planet', { token: manager.token }), 400, 'validation');
  });
});
