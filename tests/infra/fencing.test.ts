import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EventStoreUnavailableError } from '../../src/infra/eventstore/port.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { FencedError, fencedFilter, fencedWrite } from '../../src/infra/readstore/fencing.ts';
import { DuplicateKeyError } from '../../src/infra/readstore/port.ts';

const fence = (token: number) => ({ token, valid: () => true });

describe('fenced writes', () => {
  it('let the current leader write, refuse a lower token, and tell a first-insert race from a fence', async () => {
    const store = new EmbeddedReadStore();
    const docs = store.collection<{ _id: string; position: number; fence?: number }>('_checkpoints');
    const write = (token: number, position: number) => () => docs.updateOne(fencedFilter('p', fence(token)), { $set: { position, fence: token } }, { upsert: true });
    await fencedWrite(fence(2), 'the checkpoint', write(2, 10));
    await expect(fencedWrite(fence(1), 'the checkpoint', write(1, 5))).rejects.toBeInstanceOf(FencedError);
    await fencedWrite(fence(3), 'the checkpoint', write(3, 12));
    expect(await docs.findOne({ _id: 'p' })).toEqual({ _id: 'p', position: 12, fence: 3 });
    // Two upserts of a document that did not exist collide: the loser is tried again, and goes through.
    let attempts = 0;
    const racing = async () => {
      attempts += 1;
      if (attempts === 1) throw new DuplicateKeyError('_checkpoints', '_id_', { _id: 'q' });
      return 'written';
    };
    expect(await fencedWrite(fence(3), 'the checkpoint', racing)).toBe('written');
    expect(attempts).toBe(2);
    // A writer that cannot trust its lease writes nothing.
    let wrote = false;
    await expect(fencedWrite({ token: 9, valid: () => false }, 'the checkpoint', async () => (wrote = true))).rejects.toBeInstanceOf(FencedError);
    expect(wrote).toBe(false);
  });
});

describe('the SQLite log shared by processes', () => {
  it('answers "unavailable" (retry later), not a failure, when another process holds the write lock past the busy timeout', { timeout: 20_000 }, async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-busy-')), 'events.sqlite');
    const log = new SqliteEventStore({ path });
    await log.append('customer-1', [{ id: crypto.randomUUID(), type: 'CustomerRegistered', data: {}, metadata: { actor: 'a', at: new Date().toISOString(), correlationId: 'c', schemaVersion: 1 } }], 'no_stream');
    // Another process (a paused worker, say) holds the write lock.
    const other = new Database(path);
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      await expect(log.append('customer-2', [{ id: crypto.randomUUID(), type: 'CustomerRegistered', data: {}, metadata: { actor: 'a', at: new Date().toISOString(), correlationId: 'c', schemaVersion: 1 } }], 'no_stream')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    await log.append('customer-2', [{ id: crypto.randomUUID(), type: 'CustomerRegistered', data: {}, metadata: { actor: 'a', at: new Date().toISOString(), correlationId: 'c', schemaVersion: 1 } }], 'no_stream');
    expect(await log.headPosition()).toBe(2n);
    await log.close();
  });
});
