import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { logEntry } from '../support/logs.ts';

const run = promisify(execFile);
const cli = (script: string, args: string[], dataDir: string) =>
  run(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, CRM_DATA_DIR: dataDir, CRM_ADMIN_PASSWORD: 'cli-test-password', LOG_LEVEL: 'info' } });

describe('command-line tools', () => {
  it('seed fills a demo company once; rebuild replays it with a progress bar and the same documents', { timeout: 60_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-cli-'));
    const seeded = await cli('src/cli/seed.ts', ['--customers', '25'], dataDir);
    expect(logEntry(seeded.stdout, 'seeded')).toMatchObject({ customers: 25 });
    const again = await cli('src/cli/seed.ts', ['--customers', '25'], dataDir);
    expect(again.stdout).toContain('already seeded');

    const before = new EmbeddedReadStore({ snapshotPath: join(dataDir, 'read-models.snapshot') });
    const customersBefore = await before.collection('customers').find({}, { sort: { _id: 1 } });
    // 25 seeded customers, plus those the seeded leads were converted into.
    expect(customersBefore.length).toBeGreaterThanOrEqual(25);
    expect(customersBefore.every((c) => Array.isArray(c.contacts) && c.contacts.length >= 1)).toBe(true);
    expect(seeded.stdout).toMatch(/"opportunities":\d+,"quotes":\d+,"orders":\d+/);

    const rebuilt = await cli('src/cli/rebuild.ts', [], dataDir);
    expect(rebuilt.stderr).toMatch(/rebuilding \[#+\] 100\.0%/);
    expect(logEntry(rebuilt.stdout, 'rebuild finished')).toMatchObject({ events: expect.any(Number) });
    const after = new EmbeddedReadStore({ snapshotPath: join(dataDir, 'read-models.snapshot') });
    expect(await after.collection('customers').find({}, { sort: { _id: 1 } })).toEqual(customersBefore);

    const store = new SqliteEventStore({ path: join(dataDir, 'events.sqlite') });
    expect((await store.readAll({ filter: { eventTypes: ['EmployeeHired'] } })).length).toBe(17);
    expect((await store.readAll({ filter: { eventTypes: ['DepartmentCreated'] } })).length).toBe(6);
    await store.close();
  });

  it('refuses a second process on the same data directory', { timeout: 60_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-cli-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dataDir, 'lock'), JSON.stringify({ pid: process.pid, purpose: 'server' }));
    await expect(cli('src/cli/rebuild.ts', [], dataDir)).rejects.toMatchObject({ stderr: expect.stringContaining(`in use by process ${process.pid}`) });
  });
});
