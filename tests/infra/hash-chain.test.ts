import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GENESIS, linkHash, payloadHash } from '../../src/infra/eventstore/chain.ts';
import type { EventToAppend } from '../../src/infra/eventstore/port.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';

const event = (n: number, data: Record<string, unknown> = { n, name: `客户 ${n}` }): EventToAppend => ({
  id: `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  type: 'Happened',
  data,
  metadata: { actor: 'test', at: '2026-12-02T00:00:00.000Z', correlationId: 'test', schemaVersion: 1 },
});

const logPath = () => join(mkdtempSync(join(tmpdir(), 'crm-chain-')), 'events.sqlite');

/** A log of `streams` streams of 3 events each, written by concurrent writers (group commit) and in batches. */
async function writeLog(path: string, streams = 20): Promise<SqliteEventStore> {
  const store = new SqliteEventStore({ path });
  await Promise.all(Array.from({ length: streams }, (_, s) => store.append(`thing-${s}`, [event(s * 3), event(s * 3 + 1)], 'no_stream')));
  for (let s = 0; s < streams; s++) await store.append(`thing-${s}`, [event(s * 3 + 2)], 1n);
  return store;
}

/** Changes the stored log around the store (as an attacker with the file would). */
const tamper = (path: string, sql: string, ...params: unknown[]) => {
  const db = new Database(path);
  db.prepare(sql).run(...params);
  db.close();
};

describe('the hash chain over the log', () => {
  it('links every event to the one before it: H(previous link, event id, H(payload)), from 32 zero bytes', async () => {
    const path = logPath();
    const store = await writeLog(path, 3);
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT e.*, c.payload_hash, c.hash FROM events e JOIN event_chain c USING (position) ORDER BY position').all() as { position: number; id: string; stream_id: string; revision: number; type: string; data: string; metadata: string; payload_hash: Buffer; hash: Buffer }[];
    db.close();
    expect(rows).toHaveLength(9);
    let link = GENESIS;
    for (const row of rows) {
      const payload = payloadHash({ streamId: row.stream_id, revision: row.revision, type: row.type, data: row.data, metadata: row.metadata });
      expect(row.payload_hash.toString('hex')).toBe(payload);
      link = linkHash(link, row.id, payload);
      expect(row.hash.toString('hex')).toBe(link);
    }
    expect(await store.chainHead()).toEqual({ position: 9n, hash: link });
    expect(await store.verifyChain()).toEqual({ ok: true, checked: 9, expired: 0, head: link });
    await store.close();
  });

  it('stays whole through group commits with failed appends, atomic appends, and another process writing the same file', async () => {
    const path = logPath();
    const store = new SqliteEventStore({ path });
    const other = new SqliteEventStore({ path });
    await store.append('thing-a', [event(1)], 'no_stream');
    // 32 concurrent writers in one group commit, half of them with a stale expected revision (rolled back).
    const results = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => store.append(i % 2 ? 'thing-a' : `thing-w${i}`, [event(100 + i)], i % 2 ? 5n : 'no_stream')));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(16);
    await store.appendAtomically([{ streamId: 'thing-x', events: [event(200), event(201)], expected: 'no_stream' }, { streamId: 'thing-y', events: [event(202)], expected: 'no_stream' }]);
    await expect(store.appendAtomically([{ streamId: 'thing-z', events: [event(300)], expected: 'no_stream' }, { streamId: 'thing-y', events: [event(301)], expected: 'no_stream' }])).rejects.toThrow();
    await other.append('thing-o', [event(400), event(401)], 'no_stream');
    await store.append('thing-a', [event(500)], 0n);
    const head = await store.headPosition();
    expect(await store.verifyChain()).toMatchObject({ ok: true, checked: Number(head), expired: 0 });
    expect(await other.verifyChain()).toMatchObject({ ok: true, checked: Number(head) });
    await other.close();
    await store.close();
  });

  it('finds one changed byte of a stored event, and names its position', async () => {
    const path = logPath();
    (await writeLog(path)).close();
    // One byte of the 17th event's data: "n" becomes "m".
    tamper(path, `UPDATE events SET data = replace(data, '"n":', '"m":') WHERE position = 17`);
    const store = new SqliteEventStore({ path });
    expect(await store.verifyChain()).toEqual({ ok: false, checked: 16, expired: 0, head: expect.any(String), firstBreak: { position: 17, reason: 'payload_changed' } });
    // The part before the change verifies; a range starting after it too (from the link stored before it).
    expect(await store.verifyChain({ to: 16n })).toMatchObject({ ok: true, checked: 16 });
    expect(await store.verifyChain({ from: 18n })).toMatchObject({ ok: true, checked: 43 });
    await store.close();
  });

  it('checks a long log in parts at once (threads), with the same answer as in one part, breaks included', { timeout: 60_000 }, async () => {
    const path = logPath();
    (await writeLog(path, 100)).close();
    // 300 events: three parts of 100 (in worker threads where the runtime loads them; in process otherwise).
    const parts = new SqliteEventStore({ path, verifyThreads: 3, verifyPartMin: 100 });
    const whole = new SqliteEventStore({ path, verifyThreads: 1 });
    const one = await whole.verifyChain();
    expect(one).toMatchObject({ ok: true, checked: 300 });
    expect(await parts.verifyChain()).toEqual(one);
    expect(await parts.verifyChain({ from: 50n, to: 280n })).toEqual(await whole.verifyChain({ from: 50n, to: 280n }));
    // A change in the last part, and a link rewritten where the second part begins.
    tamper(path, `UPDATE events SET data = replace(data, '"n":', '"m":') WHERE position = 250`);
    expect(await parts.verifyChain()).toEqual({ ok: false, checked: 249, expired: 0, head: expect.any(String), firstBreak: { position: 250, reason: 'payload_changed' } });
    tamper(path, 'UPDATE event_chain SET hash = randomblob(32) WHERE position = 101');
    expect(await parts.verifyChain()).toEqual({ ok: false, checked: 100, expired: 0, head: expect.any(String), firstBreak: { position: 101, reason: 'link_broken' } });
    expect(await parts.verifyChain()).toEqual(await whole.verifyChain());
    await parts.close();
    await whole.close();
  });

  it('finds a changed event type, stream, revision or metadata, a rewritten link, a removed or reordered event, and one slipped in', async () => {
    const cases: { sql: string; at: number; reason: string }[] = [
      { sql: "UPDATE events SET type = 'Other' WHERE position = 5", at: 5, reason: 'payload_changed' },
      { sql: "UPDATE events SET metadata = replace(metadata, '\"actor\":\"test\"', '\"actor\":\"else\"') WHERE position = 5", at: 5, reason: 'payload_changed' },
      { sql: 'UPDATE events SET revision = revision + 100 WHERE position = 5', at: 5, reason: 'payload_changed' },
      { sql: 'UPDATE event_chain SET hash = zeroblob(32) WHERE position = 5', at: 5, reason: 'link_broken' },
      { sql: 'DELETE FROM events WHERE position = 5', at: 5, reason: 'event_missing' },
      // Both the event and its link removed: the next link no longer follows.
      { sql: 'DELETE FROM event_chain WHERE position = 5; DELETE FROM events WHERE position = 5', at: 6, reason: 'link_broken' },
      // Two events' links swapped with them (a reordering).
      { sql: 'UPDATE event_chain SET position = CASE position WHEN 5 THEN 6 ELSE 5 END WHERE position IN (5, 6)', at: 5, reason: 'payload_changed' },
      { sql: "INSERT INTO events (position, id, stream_id, revision, category, type, data, metadata) VALUES (1000, 'slipped', 'thing-99', 0, 'thing', 'Happened', '{}', '{}')", at: 1000, reason: 'event_unchained' },
    ];
    for (const { sql, at, reason } of cases) {
      const path = logPath();
      (await writeLog(path)).close();
      const db = new Database(path);
      if (sql.includes('position = CASE')) db.exec(`UPDATE event_chain SET position = -position WHERE position IN (5, 6); UPDATE event_chain SET position = CASE position WHEN -5 THEN 6 ELSE 5 END WHERE position IN (-5, -6)`);
      else db.exec(sql);
      db.close();
      const store = new SqliteEventStore({ path });
      expect(await store.verifyChain(), sql).toMatchObject({ ok: false, firstBreak: { position: at, reason } });
      await store.close();
    }
  });

  it('counts an event whose payload retention removed as expired, not as a break: its link still holds', async () => {
    const path = logPath();
    (await writeLog(path)).close();
    tamper(path, 'UPDATE event_chain SET expired = 1 WHERE position = 7');
    tamper(path, 'DELETE FROM events WHERE position = 7');
    const store = new SqliteEventStore({ path });
    expect(await store.verifyChain()).toMatchObject({ ok: true, checked: 60, expired: 1 });
    await store.close();
  });

  it('chains a log written before the chain existed when this version first opens it', async () => {
    const path = logPath();
    (await writeLog(path)).close();
    tamper(path, 'DROP TABLE event_chain');
    // Two stores (two processes) open it at once: both find it whole.
    const store = new SqliteEventStore({ path });
    const other = new SqliteEventStore({ path });
    expect(await store.verifyChain()).toMatchObject({ ok: true, checked: 60 });
    expect(await other.verifyChain()).toMatchObject({ ok: true, checked: 60 });
    await other.close();
    await store.append('thing-new', [event(900)], 'no_stream');
    expect(await store.verifyChain()).toMatchObject({ ok: true, checked: 61 });
    await store.close();
  });

  it('npm run audit:verify checks the store file of CRM_DATA_DIR: exit 0 when whole, 1 and the position when not', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-chain-cli-'));
    const path = join(dir, 'events.sqlite');
    (await writeLog(path)).close();
    const run = promisify(execFile);
    const verify = () => run(process.execPath, ['--import', 'tsx', 'src/cli/audit-verify.ts'], { env: { ...process.env, CRM_DATA_DIR: dir } });
    const whole = await verify();
    expect(JSON.parse(whole.stdout)).toMatchObject({ ok: true, checked: 60, expired: 0 });
    tamper(path, `UPDATE events SET data = replace(data, '"n":', '"m":') WHERE position = 41`);
    const broken = await verify().then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(broken?.code).toBe(1);
    expect(JSON.parse(broken!.stdout)).toMatchObject({ ok: false, checked: 40, firstBreak: { position: 41, reason: 'payload_changed' } });
    expect(broken!.stderr).toContain('breaks at position 41');
  });

  it('retention removes a category\'s events appended before an instant but each stream\'s last; revisions go on, the chain still verifies', async () => {
    const path = logPath();
    const store = new SqliteEventStore({ path });
    const at = (iso: string, n: number): EventToAppend => ({ ...event(n), metadata: { ...event(n).metadata, at: iso } });
    await store.append('login-a', [at('2026-01-01T00:00:00.000Z', 1), at('2026-01-02T00:00:00.000Z', 2), at('2026-12-01T00:00:00.000Z', 3)], 'no_stream');
    await store.append('login-b', [at('2026-01-01T00:00:00.000Z', 4)], 'no_stream');
    await store.append('customer-c', [at('2026-01-01T00:00:00.000Z', 5)], 'no_stream');
    await store.append('login-a', [at('2026-12-02T00:00:00.000Z', 6)], 2n);
    expect((await store.readStream('login-a')).length).toBe(4); // cached now
    expect(await store.expire('login', '2026-06-01T00:00:00.000Z')).toEqual({ expired: 2 });
    // login-a keeps its recent events; login-b its only (last) event; other categories are untouched.
    expect((await store.readStream('login-a')).map((e) => e.revision)).toEqual([2n, 3n]);
    expect((await store.readStream('login-b')).map((e) => e.revision)).toEqual([0n]);
    expect(await store.readStream('customer-c')).toHaveLength(1);
    await store.append('login-a', [event(7)], 3n);
    await expect(store.append('login-b', [event(8)], 'no_stream')).rejects.toThrow(/expected revision no_stream/);
    expect(await store.verifyChain()).toMatchObject({ ok: true, checked: 7, expired: 2 });
    expect(await store.expire('login', '2026-06-01T00:00:00.000Z')).toEqual({ expired: 0 });
    await store.close();
  });
});
