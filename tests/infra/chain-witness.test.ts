import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChainWitness, WITNESS_STREAM } from '../../src/infra/eventstore/chain-witness.ts';
import { KurrentEventStore } from '../../src/infra/eventstore/kurrent.ts';
import type { EventStore, EventToAppend } from '../../src/infra/eventstore/port.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { FakeKurrentServer } from '../support/fake-kurrent.ts';
import { waitUntil } from '../support/wait.ts';

const event = (n: number): EventToAppend => ({ id: randomUUID(), type: 'Happened', data: { n, text: `第${n}件事` }, metadata: { actor: 'a', at: '2026-12-02T00:00:00.000Z', correlationId: 'c', schemaVersion: 1 } });

async function fill(store: EventStore, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) await store.append(`thing-${i % 3}`, [event(i)], 'any');
}

describe('the chain witness: the hash chain kept beside a store that cannot chain in its appends (EventStoreDB)', () => {
  it('records runs of events with the same links the embedded store computes, and verifies them', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-witness-')), 'events.sqlite');
    const store = new SqliteEventStore({ path });
    await fill(store, 25);
    const witness = new ChainWitness(store, { batchSize: 10 });
    await witness.witness();
    expect((await store.readStream(WITNESS_STREAM)).map((e) => (e.data as { events: unknown[] }).events.length)).toEqual([10, 10, 5]);
    // The same links as the store's own chain over the same events.
    const own = await store.verifyChain({ to: 25n });
    expect(await witness.chainHead()).toEqual({ position: 25n, hash: own.head });
    expect(await witness.verifyChain()).toEqual({ ok: true, checked: 25, expired: 0, head: own.head });
    expect(await witness.verifyChain({ from: 12n, to: 18n })).toMatchObject({ ok: true, checked: 7 });
    // Witnessing again records nothing new; later events go into a new run, its own events are never witnessed.
    await witness.witness();
    expect(await store.readStream(WITNESS_STREAM)).toHaveLength(3);
    await fill(store, 4);
    await witness.witness();
    expect((await store.readStream(WITNESS_STREAM)).at(-1)!.data).toMatchObject({ events: expect.any(Array) });
    expect(await witness.verifyChain()).toMatchObject({ ok: true, checked: 29 });
    await store.close();

    // Someone with the file changes one byte of an event, removes one, rewrites the witness's record.
    const db = new Database(path);
    db.prepare("UPDATE events SET data = replace(data, '第7件事', '第8件事') WHERE position = 7").run();
    const reopened = new SqliteEventStore({ path, hashChain: false });
    expect((await new ChainWitness(reopened).verifyChain()).firstBreak).toEqual({ position: 7, reason: 'payload_changed' });
    expect(await new ChainWitness(reopened).verifyChain({ from: 8n })).toMatchObject({ ok: true });
    db.prepare('DELETE FROM events WHERE position = 12').run();
    expect((await new ChainWitness(reopened).verifyChain({ from: 8n })).firstBreak).toEqual({ position: 12, reason: 'event_missing' });
    const record = db.prepare<[], { position: number; data: string }>("SELECT position, data FROM events WHERE stream_id = 'auditChain-log' ORDER BY position LIMIT 1").get()!;
    const forged = JSON.parse(record.data) as { head: string };
    db.prepare('UPDATE events SET data = ? WHERE position = ?').run(JSON.stringify({ ...forged, head: '0'.repeat(64) }), record.position);
    await reopened.close();
    const afterForgery = new SqliteEventStore({ path, hashChain: false });
    expect((await new ChainWitness(afterForgery).verifyChain({ from: 13n })).firstBreak).toEqual({ position: 11, reason: 'link_broken' });
    await afterForgery.close();
    db.close();
  });

  it('over EventStoreDB (a stand-in server): follows the log, with positions that are not consecutive', async () => {
    const server = new FakeKurrentServer();
    const store = KurrentEventStore.over(server.client);
    const witness = new ChainWitness(store, { batchSize: 4, flushMs: 10 });
    await fill(store, 3);
    await witness.start();
    await fill(store, 6);
    await waitUntil(async () => (await witness.chainHead())?.position === (await store.readAll()).filter((e) => e.streamId.startsWith('thing-')).at(-1)!.position);
    await witness.stop();
    expect(await witness.verifyChain()).toMatchObject({ ok: true, checked: 9 });
  });
});
