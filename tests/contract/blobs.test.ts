import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileBlobs, MemoryBlobs } from '../../src/infra/blobs/files.ts';
import type { Blobs } from '../../src/infra/blobs/port.ts';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';
import { serverUrl, skipReason } from '../support/servers.ts';

/** The contract every blob adapter passes: content in, the same content out under its SHA-256, stored once. */
function blobsContract(name: string, create: () => Promise<{ blobs: Blobs; close(): Promise<void> }>) {
  describe(`blobs contract: ${name}`, () => {
    it('keeps bytes under their SHA-256, whole (also past one GridFS chunk), once, and answers nothing for an unknown hash', async () => {
      const { blobs, close } = await create();
      const bytes = Buffer.concat([Buffer.from(`%PDF-1.7 ${randomUUID()}\n`), Buffer.alloc(600_000, 7)]);
      const hash = await blobs.put(bytes);
      expect(hash).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(await blobs.put(bytes)).toBe(hash);
      expect(await blobs.has(hash)).toBe(true);
      expect((await blobs.get(hash))!.equals(bytes)).toBe(true);
      expect(await blobs.get('0'.repeat(64))).toBeUndefined();
      expect(await blobs.get('../../etc/passwd')).toBeUndefined();
      expect(await blobs.has('not-a-hash')).toBe(false);
      await close();
    });
  });
}

blobsContract('files', async () => ({ blobs: new FileBlobs(mkdtempSync(join(tmpdir(), 'crm-blobs-'))), close: async () => {} }));
blobsContract('memory', async () => ({ blobs: new MemoryBlobs(), close: async () => {} }));
const url = serverUrl('MONGO_URL');
if (url)
  blobsContract(`GridFS at ${url}`, async () => {
    const store = await MongoReadStore.connect(url, { database: `crm_blobs_${randomUUID().slice(0, 8)}` });
    return { blobs: store.blobs(), close: () => store.dropDatabase().then(() => store.close()) };
  });
else describe('blobs contract: GridFS', () => it.skip(skipReason('MONGO_URL'), () => {}));
