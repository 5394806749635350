import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { readStoreContract } from './readstore.contract.ts';

readStoreContract('embedded (mingo)', async () => new EmbeddedReadStore());

describe('embedded read store persistence', () => {
  it('keeps documents and indexes across a restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-rs-')), 'read.snapshot');
    const first = new EmbeddedReadStore({ snapshotPath: path });
    await first.collection('things').createIndex({ code: 1 }, { unique: true });
    await first.collection('things').insertOne({ _id: 'a', code: 'X', n: 1 });
    await first.close();
    const second = new EmbeddedReadStore({ snapshotPath: path });
    expect(await second.collection('things').findOne({ code: 'X' })).toEqual({ _id: 'a', code: 'X', n: 1 });
    await expect(second.collection('things').insertOne({ _id: 'b', code: 'X' })).rejects.toMatchObject({ code: 11000 });
    await second.close();
  });

  it('writes the snapshot on its own shortly after a change', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-rs-')), 'read.snapshot');
    const store = new EmbeddedReadStore({ snapshotPath: path, snapshotDelayMs: 10 });
    await store.collection('things').insertOne({ _id: 'a' });
    await new Promise((r) => setTimeout(r, 100));
    const reader = new EmbeddedReadStore({ snapshotPath: path });
    expect(await reader.collection('things').countDocuments()).toBe(1);
  });
});
