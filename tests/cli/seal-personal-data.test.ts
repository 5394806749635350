import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { personalDataPolicy } from '../../src/commands/personal-data.ts';
import { PersonalDataEventStore } from '../../src/infra/eventstore/personal-data.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { SqliteSubjectKeys } from '../../src/infra/personal-data/keys.ts';

const run = promisify(execFile);
const metadata = { actor: 'a', at: '2026-11-01T00:00:00.000Z', correlationId: 'c', schemaVersion: 1 };
const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;

describe('npm run personal-data:seal: a log from before sealing, copied with its personal values sealed', () => {
  it('seals clear values (erased subjects read [erased]), keeps positions, revisions and other files, re-chains, and leaves no clear value in the new file', { timeout: 60_000 }, async () => {
    const source = mkdtempSync(join(tmpdir(), 'crm-seal-old-'));
    const into = join(mkdtempSync(join(tmpdir(), 'crm-seal-new-')), 'data');
    // A log as an earlier version wrote it: contacts' events with personal values in clear.
    const legacy = new SqliteEventStore({ path: join(source, 'events.sqlite') });
    await legacy.append('customer-c1', [{ id: id(1), type: 'CustomerRegistered', data: { customerId: 'c1', ownerId: 'o', erpCode: null, fields: { name: '旧客户有限公司' } }, metadata }], 'no_stream');
    await legacy.append('contact-p1', [{ id: id(2), type: 'ContactAdded', data: { contactId: 'p1', customerId: 'c1', fields: { name: '旧联系人甲', mobile: '13911112222', title: 'CFO' } }, metadata }], 'no_stream');
    await legacy.append('contact-p2', [{ id: id(3), type: 'ContactAdded', data: { contactId: 'p2', customerId: 'c1', fields: { name: '旧联系人乙', email: 'old.b@example.com' } }, metadata }], 'no_stream');
    await legacy.append('contact-p1', [{ id: id(4), type: 'ContactChanged', data: { contactId: 'p1', changes: { mobile: '13933334444', title: 'CEO' } }, metadata }], 0n);
    const oldEvents = await legacy.readAll();
    await legacy.close();
    // Contact p2 was erased after the upgrade, before the migration: its key is a tombstone.
    const oldKeys = new SqliteSubjectKeys(join(source, 'events.sqlite'));
    await oldKeys.erase('contact-p2', '2026-11-30T00:00:00.000Z');
    await oldKeys.close();
    mkdirSync(join(source, 'blobs'));
    writeFileSync(join(source, 'blobs', 'file.bin'), 'attachment');
    writeFileSync(join(source, 'jwt-secret'), 'secret');

    const result = await run(process.execPath, ['--import', 'tsx', 'src/cli/seal-personal-data.ts', '--into', into], { env: { ...process.env, CRM_DATA_DIR: source } });
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ events: 4, eventsChanged: 3, valuesSealed: 3, valuesErased: 2, chainVerifies: true });
    expect(report.newChainHead.hash).not.toBe(report.oldChainHead.hash);

    const file = readFileSync(join(into, 'events.sqlite'));
    for (const value of ['旧联系人甲', '13911112222', '13933334444', '旧联系人乙', 'old.b@example.com']) expect(file.includes(Buffer.from(value)), value).toBe(false);
    expect(file.includes(Buffer.from('旧客户有限公司'))).toBe(true);
    expect(readFileSync(join(into, 'blobs', 'file.bin'), 'utf8')).toBe('attachment');
    expect(readFileSync(join(into, 'jwt-secret'), 'utf8')).toBe('secret');
    expect(existsSync(join(into, 'read-models.snapshot'))).toBe(false);
    // The old directory is untouched.
    expect(readFileSync(join(source, 'events.sqlite')).includes(Buffer.from('旧联系人甲'))).toBe(true);

    const inner = new SqliteEventStore({ path: join(into, 'events.sqlite') });
    const store = new PersonalDataEventStore(inner, personalDataPolicy((streamId) => inner.readStream(streamId)), new SqliteSubjectKeys(join(into, 'events.sqlite')), '[erased]');
    const events = await store.readAll();
    expect(events.map((e) => [e.id, e.streamId, e.position, e.revision])).toEqual(oldEvents.map((e) => [e.id, e.streamId, e.position, e.revision]));
    expect(events.map((e) => e.data)).toEqual([
      oldEvents[0]!.data,
      { contactId: 'p1', customerId: 'c1', fields: { name: '旧联系人甲', mobile: '13911112222', title: 'CFO' } },
      { contactId: 'p2', customerId: 'c1', fields: { name: '[erased]', email: '[erased]' } },
      { contactId: 'p1', changes: { mobile: '13933334444', title: 'CEO' } },
    ]);
    expect((await inner.verifyChain()).ok).toBe(true);
    await store.close();
    // Run twice, it refuses a directory that is not empty.
    await expect(run(process.execPath, ['--import', 'tsx', 'src/cli/seal-personal-data.ts', '--into', into], { env: { ...process.env, CRM_DATA_DIR: source } })).rejects.toMatchObject({ code: 1 });
  });
});
