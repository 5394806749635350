import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LOGIN_FAILURES, type LoginFailureDoc } from '../../src/commands/login-failures.ts';
import { THROTTLE } from '../../src/commands/employees.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { AUDIT } from '../../src/projections/audit.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * Logins cannot be used to exhaust the server or to guess passwords faster than the throttle allows: a flood
 * of random usernames is cut off per client address and leaves the log and the read models (almost) as they
 * were; parallel guesses on one account each count; change-password is throttled too; an administrator can
 * lift a lock; the general rate limit counts callers, not Authorization headers.
 */
const login = (app: TestApp, username: string, password: string, headers: Record<string, string> = {}) =>
  app.request('POST', '/api/v1/auth/login', { token: null, body: { username, password }, headers });

const auditCount = (app: TestApp) => app.services.readStore.collection(AUDIT).countDocuments({});

describe('login flood and throttling', () => {
  let app: TestApp;
  afterEach(async () => app?.close());

  it('5,000 random usernames from one address: cut off at the address limit, and the log and read models grow by a bounded amount', { timeout: 120_000 }, async () => {
    app = await startTestApp({ CRM_LOGIN_RATE_PER_MINUTE: '20' });
    await app.login();
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
    const headBefore = await app.services.eventStore.headPosition();
    const auditBefore = await auditCount(app);
    const statuses: Record<number, number> = {};
    for (let batch = 0; batch < 50; batch++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => login(app, `intruder-${randomUUID()}`, 'guess-password')));
      for (const { status } of answers) statuses[status] = (statuses[status] ?? 0) + 1;
    }
    expect(statuses[500]).toBeUndefined();
    // The administrator's login above was the address's first of 20 this minute.
    expect(statuses[401]).toBe(19);
    expect(statuses[429]).toBe(4_981);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
    expect(await app.services.eventStore.headPosition()).toBe(headBefore);
    expect(await auditCount(app)).toBe(auditBefore);
    const counters = await app.services.readStore.collection<LoginFailureDoc>(LOGIN_FAILURES).find({});
    expect(counters).toHaveLength(1);
    expect(counters[0]).toMatchObject({ address: expect.stringMatching(/127\.0\.0\.1/), count: 19 });
    expect(JSON.stringify(counters)).not.toContain('intruder');
  });

  it('without the address limit, unknown usernames still write no event: one counter per address and hour', async () => {
    app = await startTestApp();
    const headBefore = await app.services.eventStore.headPosition();
    for (let i = 0; i < 8; i++) expect((await login(app, `nobody-${i}`, 'guess-password')).status).toBe(401);
    expect(await app.services.eventStore.headPosition()).toBe(headBefore);
    expect(await app.services.readStore.collection(LOGIN_FAILURES).countDocuments({})).toBe(1);
  });

  it('X-Forwarded-For gives each client its own budget only with CRM_TRUST_PROXY', async () => {
    app = await startTestApp({ CRM_LOGIN_RATE_PER_MINUTE: '3', CRM_TRUST_PROXY: 'true' });
    for (const client of ['203.0.113.1', '203.0.113.2'])
      for (let i = 0; i < 3; i++) expect((await login(app, 'nobody', 'guess-password', { 'x-forwarded-for': client })).status).toBe(401);
    expect((await login(app, 'nobody', 'guess-password', { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
    await app.close();
    app = await startTestApp({ CRM_LOGIN_RATE_PER_MINUTE: '3' });
    for (const [i, client] of ['203.0.113.1', '203.0.113.2', '203.0.113.3'].entries()) expect((await login(app, 'nobody', 'guess-password', { 'x-forwarded-for': client })).status, `${i}`).toBe(401);
    const refused = await login(app, 'nobody', 'guess-password', { 'x-forwarded-for': '203.0.113.4' });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('auth.rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('parallel wrong guesses on one account each count: no more are answered than the throttle allows', async () => {
    // Time stands still, so the slow-down after the third failure never runs out during the burst.
    app = await startTestApp({}, { clock: new ManualClock(new Date('2026-11-30T09:00:00Z')) });
    const victim = await app.userWithToken('victim', ['salesperson']);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => login(app, 'victim', `wrong-guess-${i}`)));
    const answered = answers.filter((a) => a.status === 401).length;
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    expect(answered).toBeLessThanOrEqual(THROTTLE.slowAfter);
    const failures = (await app.services.eventStore.readAll({ filter: { categories: ['login'] } })).filter((e) => e.type === 'LoginFailed' && (e.data as { employeeId?: string }).employeeId === victim.userId);
    expect(failures).toHaveLength(answered);
    // The right password, sent while the account is slowed down, is refused without saying it was right.
    const right = await login(app, 'victim', 'victim-password-1');
    expect(right.status).toBe(429);
  });

  it('change-password is throttled like a login, and an administrator can lift a lock', async () => {
    const clock = new ManualClock(new Date('2026-11-30T09:00:00Z'));
    app = await startTestApp({}, { clock });
    const user = await app.userWithToken('forgetful', ['salesperson']);
    const change = (currentPassword: string) => app.request('POST', '/api/v1/auth/change-password', { token: user.token, body: { currentPassword, newPassword: 'a-brand-new-password' } });
    for (let i = 0; i < THROTTLE.slowAfter; i++) expect((await change(`wrong-${i}`)).status).toBe(409);
    const slowed = await change('wrong-again');
    expect(slowed.status).toBe(429);
    expect(slowed.body.code).toBe('auth.throttled');
    // Wrong passwords at the login, spaced out past each slow-down, until the account locks.
    for (let i = THROTTLE.slowAfter; i < THROTTLE.lockAfter; i++) {
      clock.advance(1000 * 2 ** (i - THROTTLE.slowAfter) + 1);
      expect((await login(app, 'forgetful', `wrong-${i}`)).status, `attempt ${i}`).toBe(401);
    }
    clock.advance(60_000);
    expect((await login(app, 'forgetful', 'forgetful-password-1')).status).toBe(429);
    const unlocked = await app.request('POST', `/api/v1/employees/${user.userId}/unlock`, { body: {} });
    expect(unlocked.status).toBe(200);
    expect((await login(app, 'forgetful', 'forgetful-password-1')).status).toBe(200);
    // A salesperson may not unlock anyone.
    expect((await app.request('POST', `/api/v1/employees/${user.userId}/unlock`, { token: user.token, body: {} })).status).toBe(403);
    const audit = await app.request('GET', '/api/v1/audit?type=LoginUnlocked');
    expect(audit.body.items.length).toBe(1);
  });

  it('the general rate limit counts a caller by employee or address, not by the Authorization header', async () => {
    app = await startTestApp({ CRM_RATE_LIMIT_PER_MINUTE: '5' });
    // Two logins from this address (2 of its 5), then each employee has a budget of their own.
    const a = await app.userWithToken('limited.a', ['salesperson']);
    const b = await app.userWithToken('limited.b', ['salesperson']);
    const asA = [];
    for (let i = 0; i < 6; i++) asA.push((await app.request('GET', '/api/v1/me', { token: a.token })).status);
    expect(asA).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await app.request('GET', '/api/v1/me', { token: b.token })).status).toBe(200);
    // Forged tokens, each different, all count against the address.
    const forged = [];
    for (let i = 0; i < 5; i++) forged.push((await app.request('GET', '/api/v1/customers', { token: `forged-token-${i}` })).status);
    expect(forged).toEqual([401, 401, 401, 429, 429]);
  });
});
