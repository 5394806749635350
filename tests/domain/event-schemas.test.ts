import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkEventData, EventSchemaError, upcastData } from '../../src/domain/event-schemas.ts';
import { CodecEventStore } from '../../src/infra/eventstore/codec.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { startTestApp } from '../support/app.ts';
import { waitUntil } from '../support/wait.ts';

const metadata = { actor: 'u-1', at: '2026-01-05T08:00:00.000Z', correlationId: 'c', requestId: 'r', schemaVersion: 1 };
/** A CustomerRegistered as the first version wrote it: no erpCode. */
const oldRegistration = (customerId: string, name: string) => ({ id: customerId, type: 'CustomerRegistered', data: { customerId, ownerId: 'u-1', fields: { name } }, metadata });
const codec = {
  check: (_stream: string, event: { type: string; data: unknown }) => checkEventData(event.type, event.data),
  upcast: <E extends { type: string; data: unknown }>(event: E) => ({ ...event, data: upcastData(event.type, event.data) }),
};

describe('event schemas and upcasting', () => {
  it('an old CustomerRegistered reads with erpCode null; one in today\'s shape passes unchanged', () => {
    expect(upcastData('CustomerRegistered', { customerId: 'c', ownerId: 'u', fields: { name: 'A' } })).toEqual({ customerId: 'c', ownerId: 'u', erpCode: null, fields: { name: 'A' } });
    const today = { customerId: 'c', ownerId: 'u', erpCode: 'K0001', fields: { name: 'A' } };
    expect(upcastData('CustomerRegistered', today)).toBe(today);
    expect(upcastData('CustomerChanged', { customerId: 'c', changes: {} })).toEqual({ customerId: 'c', changes: {} });
  });

  it('checks an event against its schema, naming what is wrong', () => {
    expect(() => checkEventData('CustomerRegistered', { customerId: 'c', ownerId: 'u', erpCode: null, fields: { name: 'A' } })).not.toThrow();
    expect(() => checkEventData('CustomerRegistered', { customerId: 'c', ownerId: 'u', fields: { name: 'A' } })).toThrow(EventSchemaError);
    expect(() => checkEventData('CustomerArchived', { reason: 'x' })).toThrow(/customerId/);
    expect(() => checkEventData('SomethingWithoutSchema', { anything: true })).not.toThrow();
  });

  it('the codec store refuses a malformed event before anything is written, and upcasts on every read path', async () => {
    const stored = new SqliteEventStore({ path: ':memory:' });
    await stored.append('customer-old', [oldRegistration('01900000-0000-7000-8000-000000000001', 'Old Co')], 'no_stream');
    const store = new CodecEventStore(stored, codec);
    await expect(store.append('customer-bad', [{ ...oldRegistration('01900000-0000-7000-8000-000000000002', 'Bad Co'), id: '01900000-0000-7000-8000-0000000000aa' }], 'no_stream')).rejects.toThrow(EventSchemaError);
    expect(await stored.readStream('customer-bad')).toEqual([]);
    expect(((await store.readStream('customer-old'))[0]!.data as { erpCode: unknown }).erpCode).toBeNull();
    expect(((await store.readAll())[0]!.data as { erpCode: unknown }).erpCode).toBeNull();
    const seen: unknown[] = [];
    const subscription = store.subscribeToAll({}, { onEvent: (event) => void seen.push((event.data as { erpCode: unknown }).erpCode) });
    await waitUntil(() => seen.length > 0);
    await subscription.close();
    expect(seen).toEqual([null]);
    await store.close();
  });

  it('a data directory written before erpCode existed keeps working: the customer reads with erpCode null', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-upcast-'));
    const app = await startTestApp({ CRM_DATA_DIR: dir });
    const created = await app.request('POST', '/api/v1/customers', { body: { name: 'Today Co' } });
    expect(created.status).toBe(201);
    await app.close();
    // An event as the previous version appended it, straight into the log.
    const oldId = '01900000-0000-7000-8000-0000000000c1';
    const raw = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
    const admin = (await raw.readAll({ filter: { eventTypes: ['EmployeeHired'] } }))[0]!.data as { employeeId: string };
    await raw.append(`customer-${oldId}`, [{ ...oldRegistration(oldId, 'Before ERP Co'), id: '01900000-0000-7000-8000-0000000000c2', data: { customerId: oldId, ownerId: admin.employeeId, fields: { name: 'Before ERP Co' } } }], 'no_stream');
    await raw.close();
    const again = await startTestApp({ CRM_DATA_DIR: dir });
    await again.services.runner.waitFor(await again.services.eventStore.headPosition(), 5000);
    const old = await again.request('GET', `/api/v1/customers/${oldId}`);
    expect(old.status).toBe(200);
    expect(old.body).toMatchObject({ name: 'Before ERP Co', erpCode: null });
    expect((await again.request('GET', `/api/v1/customers/${oldId}?asOf=2099-01-01T00:00:00Z`)).body.erpCode).toBeNull();
    expect((await again.request('GET', `/api/v1/customers/${created.body.id}`)).body.erpCode).toBeNull();
    expect((await again.request('PATCH', `/api/v1/customers/${oldId}`, { body: { industry: '机械' } })).status).toBe(200);
    await again.close();
  });
});
