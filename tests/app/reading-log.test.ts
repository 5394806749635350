import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { domainLog } from '../../src/app/event-log.ts';
import { readingLog } from '../../src/app/reading-log.ts';
import { personalDataScope } from '../../src/commands/personal-data.ts';
import { ERASED } from '../../src/domain/shared/personal-data.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { SqliteSubjectKeys } from '../../src/infra/personal-data/keys.ts';

const metadata = { actor: 'a', at: '2026-11-01T00:00:00.000Z', correlationId: 'c', schemaVersion: 1 };
const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;

describe('the log as a reading thread opens it (readingLog)', () => {
  it('reads every event as the service does: sealed values opened, clear ones of an erased person [erased], old shapes upcast', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-reading-log-')), 'events.sqlite');
    // Events an earlier version wrote, before values were sealed and before customers had an ERP code.
    const stored = new SqliteEventStore({ path });
    await stored.append('customer-c1', [{ id: id(1), type: 'CustomerRegistered', data: { customerId: 'c1', ownerId: 'o', fields: { name: '旧客户有限公司' } }, metadata }], 'no_stream');
    await stored.append('contact-p1', [{ id: id(2), type: 'ContactAdded', data: { contactId: 'p1', customerId: 'c1', fields: { name: '旧联系人甲', mobile: '13911112222' } }, metadata }], 'no_stream');
    await stored.append('contact-p2', [{ id: id(3), type: 'ContactAdded', data: { contactId: 'p2', customerId: 'c1', fields: { name: '旧联系人乙', title: 'CFO' } }, metadata }], 'no_stream');
    await stored.append('contact-p2', [{ id: id(4), type: 'ContactChanged', data: { contactId: 'p2', changes: { title: 'CEO' } }, metadata }], 0n);
    // Written since: sealed, through the service's log.
    const service = domainLog(stored, new SqliteSubjectKeys(path));
    await service.eventStore.append('contact-p3', [{ id: id(5), type: 'ContactAdded', data: { contactId: 'p3', customerId: 'c1', fields: { name: '新联系人丙', mobile: '13955556666' } }, metadata }], 'no_stream');
    await service.personalData.erase('contact-p2', '2026-11-30T00:00:00.000Z');
    const expected = await service.eventStore.readAll();
    await service.eventStore.close();

    const reading = readingLog(new SqliteEventStore({ path, checkpointThreadAfter: Infinity, cachedStreams: 0 }), new SqliteSubjectKeys(path), personalDataScope());
    try {
      const events = await reading.eventStore.readAll();
      expect(events).toEqual(expected);
      const data = events.map((event) => event.data as { erpCode?: unknown; fields?: Record<string, unknown> });
      expect(data[0]!.erpCode).toBeNull();
      expect(data[1]!.fields).toMatchObject({ name: '旧联系人甲', mobile: '13911112222' });
      expect(data[2]!.fields).toMatchObject({ name: ERASED, title: 'CFO' });
      expect(data[4]!.fields).toMatchObject({ name: '新联系人丙', mobile: '13955556666' });
      await expect(reading.eventStore.append('contact-p4', [{ id: id(6), type: 'ContactAdded', data: {}, metadata }], 'no_stream')).rejects.toThrow();
    } finally {
      await reading.eventStore.close();
    }
  });
});
