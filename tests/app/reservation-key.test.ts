import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

describe('the reservation key', () => {
  it('is kept with the subject keys; a log without it is refused at start, and the configured key (CRM_RESERVATION_KEY) takes its place', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-reservation-key-'));
    const first = await startTestApp({ CRM_DATA_DIR: dir });
    expect((await first.request('POST', '/api/v1/customers', { body: { name: 'Reserved Name Trading' } })).status).toBe(201);
    const key = first.services.deps.reservationKey!.toString('hex');
    await first.close();
    // The same data directory: the same key, the name still taken.
    const again = await startTestApp({ CRM_DATA_DIR: dir });
    expect(again.services.deps.reservationKey!.toString('hex')).toBe(key);
    expectProblem(await again.request('POST', '/api/v1/customers', { body: { name: 'reserved name trading' } }), 409, 'customer.duplicate');
    await again.close();
    // The key store lost (a log copied without it): the service refuses to start rather than let reserved values look free.
    const db = new Database(join(dir, 'events.sqlite'));
    db.prepare('DELETE FROM subject_keys').run();
    db.close();
    await expect(startTestApp({ CRM_DATA_DIR: dir })).rejects.toThrow(/reservations hashed under a key this service does not have/);
    // Given the key, it starts, and the name is still taken.
    const keyed = await startTestApp({ CRM_DATA_DIR: dir, CRM_RESERVATION_KEY: key });
    expectProblem(await keyed.request('POST', '/api/v1/customers', { body: { name: 'Reserved Name Trading' } }), 409, 'customer.duplicate');
    await keyed.close();
    await expect(startTestApp({ CRM_DATA_DIR: dir, CRM_RESERVATION_KEY: 'not-hex' })).rejects.toThrow(/CRM_RESERVATION_KEY/);
  });
});
