import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const DAY = 86_400_000;

/** Activities are the follow-ups: the last contact, the 30-day count, and the pool rule that reads them. */
describe('follow-ups: lastContactedAt, activities in the last 30 days, and the customer pool', () => {
  const clock = new ManualClock(new Date('2026-10-01T08:00:00.000Z'));
  let app: TestApp;
  let seller: { userId: string; token: string };
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  const days = (n: number) => new Date(clock.now().getTime() - n * DAY).toISOString();
  const log = async (customerId: string, occurredAt: string, extra: Record<string, unknown> = {}) => {
    const made = await app.request('POST', '/api/v1/activities', { token: seller.token, body: { kind: 'call', customerId, occurredAt, summary: 'Follow-up call', ...extra } });
    expect(made.status, made.text).toBe(201);
    return made.body.id as string;
  };
  const customer = async (id: string) => (await app.request('GET', `/api/v1/customers/${id}`, { token: seller.token })).body;
  /** Days pass (tokens expire): the seller logs in again. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    seller.token = await app.login('follow.seller', 'follow.seller-password-1');
  };

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    seller = await app.userWithToken('follow.seller', ['salesperson'], await app.department('Follow-ups'));
  });
  afterAll(async () => app.close());

  it('the last contact and the 30-day count follow activities logged, changed and removed; contacts have theirs', async () => {
    const customerId = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Counted Co' } })).body.id;
    const contactId = (await app.request('POST', '/api/v1/contacts', { token: seller.token, body: { customerId, name: '赵工' } })).body.id;
    await caughtUp();
    const registered = await customer(customerId);
    expect(registered).toMatchObject({ lastContactedAt: clock.now().toISOString(), activitiesLast30Days: 0 });
    expect(registered).not.toHaveProperty('_activityDays');

    await advance(3 * DAY);
    const old = await log(customerId, days(40));
    const recent = await log(customerId, days(2), { contactId });
    await log(customerId, days(1));
    await caughtUp();
    // The 40-day-old activity is not a later contact than the registration, nor in the window.
    expect(await customer(customerId)).toMatchObject({ lastContactedAt: days(1), activitiesLast30Days: 2 });
    const contact = (await app.request('GET', `/api/v1/contacts/${contactId}`, { token: seller.token })).body;
    expect(contact).toMatchObject({ lastContactedAt: days(2), activitiesLast30Days: 1 });
    const opportunityId = (await app.request('POST', '/api/v1/opportunities', { token: seller.token, body: { name: 'Counted deal', customerId, amount: { amount: 100_00, currency: 'CNY' }, expectedCloseDate: '2027-01-31' } })).body.id;
    await log(customerId, days(4), { opportunityId });
    await caughtUp();
    expect((await app.request('GET', `/api/v1/opportunities/${opportunityId}`, { token: seller.token })).body).toMatchObject({ lastContactedAt: days(4), activitiesLast30Days: 1 });
    expect((await app.request('GET', '/api/v1/opportunities?q=Counted', { token: seller.token })).body.items[0]).toMatchObject({ lastContactedAt: days(4), activitiesLast30Days: 1 });
    expect((await customer(customerId)).activitiesLast30Days).toBe(3);
    const byOpportunity = (await app.request('GET', `/api/v1/opportunities/${opportunityId}/activities`, { token: seller.token })).body.items[0].id;
    const listed = (await app.request('GET', '/api/v1/customers?q=Counted', { token: seller.token })).body.items[0];
    expect(listed).toMatchObject({ lastContactedAt: days(1), activitiesLast30Days: 3 });

    // Moved back in time, a removed one gone: the last contact is found again among the others.
    const manager = await app.userWithToken('follow.manager', ['manager'], null);
    expect((await app.request('DELETE', `/api/v1/activities/${byOpportunity}`, { token: manager.token })).status).toBe(200);
    await caughtUp();
    expect((await app.request('GET', `/api/v1/opportunities/${opportunityId}`, { token: seller.token })).body).toMatchObject({ activitiesLast30Days: 0 });
    expect((await app.request('GET', `/api/v1/opportunities/${opportunityId}`, { token: seller.token })).body).not.toHaveProperty('lastContactedAt');
    const latest = (await app.request('GET', `/api/v1/customers/${customerId}/activities?limit=1`, { token: seller.token })).body.items[0].id;
    expect((await app.request('DELETE', `/api/v1/activities/${latest}`, { token: manager.token })).status).toBe(200);
    await caughtUp();
    expect(await customer(customerId)).toMatchObject({ lastContactedAt: days(2), activitiesLast30Days: 1 });
    expect((await app.request('PATCH', `/api/v1/activities/${recent}`, { token: seller.token, body: { occurredAt: days(35), contactId: null } })).status).toBe(200);
    await caughtUp();
    expect(await customer(customerId)).toMatchObject({ activitiesLast30Days: 0 });
    expect((await customer(customerId)).lastContactedAt).toBe(registered.lastContactedAt);
    const moved = (await app.request('GET', `/api/v1/contacts/${contactId}`, { token: seller.token })).body;
    expect(moved).toMatchObject({ activitiesLast30Days: 0 });
    expect(moved).not.toHaveProperty('lastContactedAt');
    void old;

    // The count is of the last 30 days as of today: it falls as the days pass, with no event at all.
    await log(customerId, days(0));
    await caughtUp();
    expect((await customer(customerId)).activitiesLast30Days).toBe(1);
    await advance(31 * DAY);
    expect((await customer(customerId)).activitiesLast30Days).toBe(0);
  });

  it('the pool takes back customers without an activity for N days: edits do not count, activities do', async () => {
    const edited = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Edited Only Co' } })).body.id;
    const called = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Called Co' } })).body.id;
    expect((await app.request('PUT', '/api/v1/settings/customer-pool', { body: { autoReturnDays: 30 } })).status).toBe(200);
    await advance(25 * DAY);
    expect((await app.request('PATCH', `/api/v1/customers/${edited}`, { token: seller.token, body: { notes: 'changed the record, called nobody' } })).status).toBe(200);
    await log(called, clock.now().toISOString());
    await advance(6 * DAY);
    await caughtUp();
    expect((await app.request('POST', '/api/v1/settings/customer-pool/run', { body: {} })).body.released).toBeGreaterThanOrEqual(1);
    await caughtUp();
    expect((await app.request('GET', `/api/v1/customers/${edited}`)).body).toMatchObject({ inPool: true, ownerId: null });
    expect((await app.request('GET', `/api/v1/customers/${called}`)).body).toMatchObject({ inPool: false, ownerId: seller.userId });
    // Claimed back, its clock starts again: the next run leaves it.
    expect((await app.request('POST', `/api/v1/customers/${edited}/claim`, { token: seller.token, body: {} })).status).toBe(200);
    await caughtUp();
    await app.request('POST', '/api/v1/settings/customer-pool/run', { body: {} });
    await caughtUp();
    expect((await app.request('GET', `/api/v1/customers/${edited}`)).body).toMatchObject({ inPool: false, ownerId: seller.userId });
    // 30 days after its last call, the called one goes too.
    await advance(25 * DAY);
    await app.request('POST', '/api/v1/settings/customer-pool/run', { body: {} });
    await caughtUp();
    expect((await app.request('GET', `/api/v1/customers/${called}`)).body).toMatchObject({ inPool: true });
    await app.request('PUT', '/api/v1/settings/customer-pool', { body: { autoReturnDays: null } });
  });
});

describe('follow-ups after an upgrade from a version without activities', () => {
  it("a customer's last change before the upgrade is its last contact, so the first run sweeps nobody in; later edits do not count", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-era-'));
    // A log as an older version wrote it: a customer registered, and changed 10 days later (no era marker).
    const old = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
    const customerId = randomUUID();
    const meta = (at: string) => ({ actor: 'system', at, correlationId: 'c', requestId: randomUUID(), schemaVersion: 1 });
    await old.append(`customer-${customerId}`, [{ id: randomUUID(), type: 'CustomerRegistered', data: { customerId, ownerId: null, erpCode: null, fields: { name: 'Old Timer Co' } }, metadata: meta('2026-09-01T00:00:00.000Z') }], 'no_stream');
    await old.append(`customer-${customerId}`, [{ id: randomUUID(), type: 'CustomerChanged', data: { customerId, changes: { notes: 'edited then' } }, metadata: meta('2026-09-11T00:00:00.000Z') }], 0n);
    await old.close();
    const clock = new ManualClock(new Date('2026-09-20T00:00:00.000Z'));
    const app = await startTestApp({ CRM_DATA_DIR: dir }, { clock });
    try {
      await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
      expect((await app.request('GET', `/api/v1/customers/${customerId}`)).body.lastContactedAt).toBe('2026-09-11T00:00:00.000Z');
      expect((await app.request('PATCH', `/api/v1/customers/${customerId}`, { body: { notes: 'edited after the upgrade' } })).status).toBe(200);
      await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
      expect((await app.request('GET', `/api/v1/customers/${customerId}`)).body.lastContactedAt).toBe('2026-09-11T00:00:00.000Z');
    } finally {
      await app.close();
    }
  });
});

describe('stale contacts: GET /api/v1/contacts/stale?days=', () => {
  it('lists the contacts in my scope with no activity for N days, the longest first (never called: since added)', async () => {
    const clock = new ManualClock(new Date('2026-10-01T08:00:00.000Z'));
    const app = await startTestApp({}, { clock });
    try {
      const team = await app.department('Stale team');
      const seller = await app.userWithToken('stale.seller', ['salesperson'], team);
      const other = await app.userWithToken('stale.other', ['salesperson'], await app.department('Stale elsewhere'));
      const contact = async (token: string, customerId: string, name: string) => (await app.request('POST', '/api/v1/contacts', { token, body: { customerId, name } })).body.id as string;
      const customerId = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: 'Stale Co' } })).body.id;
      const theirs = (await app.request('POST', '/api/v1/customers', { token: other.token, body: { name: 'Their Co' } })).body.id;
      const calledLongAgo = await contact(seller.token, customerId, '很久没联系');
      const neverCalled = await contact(seller.token, customerId, '从未联系');
      const calledRecently = await contact(seller.token, customerId, '最近联系过');
      await contact(other.token, theirs, '别人的联系人');
      clock.advance(5 * DAY);
      const token = await app.login('stale.seller', 'stale.seller-password-1');
      const log = (contactId: string, occurredAt: string) => app.request('POST', '/api/v1/activities', { token, body: { kind: 'call', customerId, contactId, occurredAt, summary: 'Call' } });
      expect((await log(calledLongAgo, '2026-09-01T08:00:00.000Z')).status).toBe(201);
      clock.advance(35 * DAY);
      const fresh = await app.login('stale.seller', 'stale.seller-password-1');
      expect((await app.request('POST', '/api/v1/activities', { token: fresh, body: { kind: 'visit', customerId, contactId: calledRecently, occurredAt: '2026-11-05T08:00:00.000Z', summary: 'Visit' } })).status).toBe(201);
      const added = await contact(fresh, customerId, '刚加的');
      await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
      const stale = await app.request('GET', '/api/v1/contacts/stale?days=30', { token: fresh });
      expect(stale.status, stale.text).toBe(200);
      expect(stale.body.items.map((c: { id: string }) => c.id)).toEqual([calledLongAgo, neverCalled]);
      expect(stale.body.items.map((c: { idleDays: number }) => c.idleDays)).toEqual([70, 40]);
      expect(stale.body.total).toBe(2);
      expect(stale.body.items[0]).toMatchObject({ lastContactedAt: '2026-09-01T08:00:00.000Z', name: '很久没联系' });
      expect(stale.body.items.map((c: { id: string }) => c.id)).not.toContain(added);
      expect((await app.request('GET', '/api/v1/contacts/stale?days=60&limit=1', { token: fresh })).body).toMatchObject({ items: [{ id: calledLongAgo }], total: 1 });
      expect((await app.request('GET', '/api/v1/contacts/stale?days=0', { token: fresh })).status).toBe(400);
    } finally {
      await app.close();
    }
  });
});
