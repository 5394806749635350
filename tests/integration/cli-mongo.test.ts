import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';
import { serverUrl, testDatabaseUrl } from '../support/servers.ts';
import { logEntry } from '../support/logs.ts';

const run = promisify(execFile);
const mongo = serverUrl('MONGO_URL');

describe.skipIf(!mongo)('command-line tools with the read models in MongoDB (FerretDB)', () => {
  it('seed writes through the commands and projects into MongoDB; npm run rebuild replays into it with the same documents', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-cli-mongo-'));
    const url = testDatabaseUrl();
    const env = { ...process.env, CRM_DATA_DIR: dataDir, MONGO_URL: url, CRM_ADMIN_PASSWORD: 'cli-test-password', LOG_LEVEL: 'info' };
    const cli = (script: string, args: string[] = []) => run(process.execPath, ['--import', 'tsx', script, ...args], { env });
    const seeded = await cli('src/cli/seed.ts', ['--customers', '30']);
    expect(seeded.stdout).toMatch(/"readStore":"mongodb \(aggregation in-process\)"/);
    const store = await MongoReadStore.connect(url);
    try {
      const before = await store.collection('customers').find({}, { sort: { _id: 1 } });
      expect(before.length).toBeGreaterThanOrEqual(30);
      const rebuilt = await cli('src/cli/rebuild.ts');
      expect(logEntry(rebuilt.stdout, 'rebuild finished')).toMatchObject({ events: expect.any(Number) });
      expect(await store.collection('customers').find({}, { sort: { _id: 1 } })).toEqual(before);
    } finally {
      await store.dropDatabase();
      await store.close();
    }
  });
});
