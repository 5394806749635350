import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * The idempotency log keeps no secrets: request bodies are fingerprinted with a keyed HMAC (a plain SHA-256 of
 * a password is a guessing target), the credential routes' answers (live tokens) are never stored, and records
 * expire after a documented period.
 */
/** The whole log as text (events' data and metadata), to search for secrets. */
const logText = async (app: TestApp) => JSON.stringify((await app.services.eventStore.readAll({})).map((event) => [event.type, event.data, event.metadata]));
const idempotencyEvents = async (app: TestApp) => app.services.eventStore.readAll({ filter: { categories: ['idempotency'] } });

describe('secrets in the idempotency log', () => {
  let app: TestApp;
  afterEach(async () => app?.close());

  it('login and change-password with an Idempotency-Key answer normally and store nothing', async () => {
    app = await startTestApp();
    const user = await app.userWithToken('idem.user', ['salesperson']);
    const login = await app.request('POST', '/api/v1/auth/login', { token: null, headers: { 'Idempotency-Key': 'login-1' }, body: { username: 'idem.user', password: 'idem.user-password-1' } });
    expect(login.status).toBe(200);
    const changed = await app.request('POST', '/api/v1/auth/change-password', { token: user.token, headers: { 'Idempotency-Key': 'change-1' }, body: { currentPassword: 'idem.user-password-1', newPassword: 'a-new-password-1' } });
    expect(changed.status).toBe(200);
    const stored = await idempotencyEvents(app);
    expect(stored).toEqual([]);
    const everything = await logText(app);
    expect(everything).not.toContain(changed.body.token);
    expect(everything).not.toContain(login.body.token);
  });

  it('a body holding a password is fingerprinted with a keyed HMAC, not a plain hash', async () => {
    app = await startTestApp();
    const department = await app.department('Idem');
    const body = { name: 'New hire', departmentId: department, username: 'idem.hire', password: 'hire-password-1' };
    const hired = await app.request('POST', '/api/v1/employees', { headers: { 'Idempotency-Key': 'hire-1' }, body });
    expect(hired.status).toBe(201);
    const started = (await idempotencyEvents(app)).find((event) => event.type === 'IdempotentRequestStarted')!;
    const data = started.data as { requestHash: string; hashAlgorithm: string };
    expect(data.hashAlgorithm).toBe('hmac-sha256');
    const canonical = JSON.stringify(Object.fromEntries(Object.entries(body).sort(([a], [b]) => a.localeCompare(b))));
    const plain = createHash('sha256').update(['post', '/api/v1/employees', canonical, ''].join('\n')).digest('hex');
    expect(data.requestHash).not.toBe(plain);
    expect(await logText(app)).not.toContain('hire-password-1');
    // The retry is still recognised.
    const retry = await app.request('POST', '/api/v1/employees', { headers: { 'Idempotency-Key': 'hire-1' }, body });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(hired.body);
  });

  it('a record expires after CRM_IDEMPOTENCY_TTL_HOURS: the key may then be used again', async () => {
    const clock = new ManualClock(new Date('2026-11-30T09:00:00Z'));
    app = await startTestApp({ CRM_IDEMPOTENCY_TTL_HOURS: '24' }, { clock });
    const first = await app.request('POST', '/api/v1/customers', { headers: { 'Idempotency-Key': 'daily-import' }, body: { name: 'Monday Co' } });
    expect(first.status).toBe(201);
    clock.advance(23 * 3600_000);
    expect((await app.request('POST', '/api/v1/customers', { headers: { 'Idempotency-Key': 'daily-import' }, body: { name: 'Tuesday Co' } })).status).toBe(422);
    clock.advance(3600_000 + 1000);
    const later = await app.request('POST', '/api/v1/customers', { headers: { 'Idempotency-Key': 'daily-import' }, body: { name: 'Tuesday Co' } });
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(first.body.id);
    const again = await app.request('POST', '/api/v1/customers', { headers: { 'Idempotency-Key': 'daily-import' }, body: { name: 'Tuesday Co' } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(later.body.id);
  });

  it('a record an earlier version wrote (plain SHA-256) is still recognised until it expires', async () => {
    const clock = new ManualClock(new Date('2026-11-30T09:00:00Z'));
    app = await startTestApp({}, { clock });
    const adminId = (await app.request('GET', '/api/v1/me')).body.userId as string;
    const body = { name: 'Legacy Co' };
    const legacyHash = createHash('sha256').update(['post', '/api/v1/customers', JSON.stringify(body), ''].join('\n')).digest('hex');
    const stream = `idempotency-${createHash('sha256').update(`${adminId}\nold-key`).digest('hex').slice(0, 40)}`;
    const metadata = { actor: adminId, at: clock.now().toISOString(), correlationId: 'old', requestId: 'old', schemaVersion: 1 };
    const response = { status: 201, body: { id: 'legacy-id', revision: 0 }, headers: {} };
    await app.services.eventStore.append(
      stream,
      [
        { id: crypto.randomUUID(), type: 'IdempotentRequestStarted', data: { requestHash: legacyHash, seed: 'old-seed', at: clock.now().getTime() }, metadata },
        { id: crypto.randomUUID(), type: 'IdempotentRequestCompleted', data: { response }, metadata },
      ],
      'no_stream',
    );
    const retry = await app.request('POST', '/api/v1/customers', { headers: { 'Idempotency-Key': 'old-key' }, body });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual({ id: 'legacy-id', revision: 0 });
    expect((await app.request('POST', '/api/v1/customers', { headers: { 'Idempotency-Key': 'old-key' }, body: { name: 'Other' } })).status).toBe(422);
  });
});
