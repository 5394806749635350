import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { startTestApp } from '../support/app.ts';

const run = promisify(execFile);
const cli = (script: string, args: string[], dataDir: string) => run(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, CRM_DATA_DIR: dataDir, LOG_LEVEL: 'warn' } });
const byId = (a: { _id: string }, b: { _id: string }) => (a._id < b._id ? -1 : 1);

describe('npm run backup and npm run restore: the embedded store copied while the service writes, and restored', () => {
  it('backs up a consistent, checked copy under load; restores it into an empty directory with the read models rebuilt to the same documents', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-backup-'));
    const app = await startTestApp({ CRM_DATA_DIR: dir });
    for (let i = 0; i < 15; i++) {
      const customerId = (await app.request('POST', '/api/v1/customers', { body: { name: `备份客户 ${i}`, phone: `021-5555 01${String(i).padStart(2, '0')}` } })).body.id;
      await app.request('POST', '/api/v1/contacts', { body: { customerId, name: `联系人 ${i}`, mobile: `139000000${String(i).padStart(2, '0')}` } });
    }
    // Writes go on through the backup: new customers, one event each.
    let writing = true;
    let written = 0;
    const load = (async () => {
      while (writing) {
        await app.request('POST', '/api/v1/customers', { body: { name: `写入中 ${written}` } });
        written++;
      }
    })();
    const file = join(mkdtempSync(join(tmpdir(), 'crm-backup-file-')), 'crm.backup');
    const backedUp = JSON.parse((await cli('src/cli/backup.ts', [file], dir)).stdout);
    writing = false;
    await load;
    expect(written).toBeGreaterThan(0);
    expect(backedUp).toMatchObject({ file, integrity: 'ok', chain: { ok: true } });
    expect(backedUp.chain.checked).toBe(backedUp.head);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);
    const originals = {
      customers: (await app.services.readStore.collection('customers').find({})).sort(byId),
      contacts: (await app.services.readStore.collection('contacts').find({})).sort(byId),
    };
    await app.close();

    // A second backup of the same file name is refused; a restore into a directory that is not empty too.
    await expect(cli('src/cli/backup.ts', [file], dir)).rejects.toMatchObject({ code: 1 });
    const busy = mkdtempSync(join(tmpdir(), 'crm-restore-busy-'));
    writeFileSync(join(busy, 'something'), 'x');
    await expect(cli('src/cli/restore.ts', [file], busy)).rejects.toMatchObject({ code: 1 });

    const restoredDir = join(mkdtempSync(join(tmpdir(), 'crm-restore-')), 'data');
    const restored = JSON.parse((await cli('src/cli/restore.ts', [file], restoredDir)).stdout);
    expect(restored).toMatchObject({ events: backedUp.events, head: backedUp.head, chain: { ok: true } });
    expect(readdirSync(restoredDir)).toEqual(expect.arrayContaining(['events.sqlite', 'read-models.snapshot']));
    const reads = new EmbeddedReadStore({ snapshotPath: join(restoredDir, 'read-models.snapshot') });
    // Every document as of the backup's last event, the same as the running service had it.
    const asOfBackup = (docs: { _id: string; _position?: unknown }[]) => docs.filter((doc) => Number(doc._position) <= backedUp.head);
    expect((await reads.collection('customers').find({})).sort(byId)).toEqual(asOfBackup(originals.customers));
    expect((await reads.collection('contacts').find({})).sort(byId)).toEqual(asOfBackup(originals.contacts));
    expect(asOfBackup(originals.customers).length).toBeGreaterThanOrEqual(15);
  });
});
