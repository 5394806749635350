import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventToAppend } from '../src/infra/eventstore/port.ts';
import { SqliteEventStore } from '../src/infra/eventstore/sqlite.ts';
import { mean } from './stats.ts';

const event = (n: number): EventToAppend => ({
  id: randomUUID(),
  type: 'CustomerChanged',
  data: { customerId: randomUUID(), changes: { name: `客户 ${n} 贸易有限公司`, phone: '021-5555 0100', region: '华东' } },
  metadata: { actor: 'bench', at: new Date().toISOString(), correlationId: randomUUID(), schemaVersion: 1 },
});

/** Single-event appends, each awaited before the next, with or without the hash chain: events per second. */
async function appendRate(hashChain: boolean, count: number): Promise<number> {
  const store = new SqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'crm-bench-audit-')), 'events.sqlite'), hashChain });
  const events = Array.from({ length: count }, (_, i) => event(i));
  const started = performance.now();
  for (let i = 0; i < count; i++) await store.append(`customer-${i}`, [events[i]!], 'no_stream');
  const rate = count / ((performance.now() - started) / 1000);
  await store.close();
  return rate;
}

/**
 * The audit benchmark: the hash chain verified over a log of `events` events (written in batches of 1,000 with
 * the chain), and what the chain costs an append (single-event appends with it against the same without it,
 * alternated twice so drift on a shared machine hits both).
 */
export async function auditBench(events: number, appends: number): Promise<{ verifyPerSecond: number; readPerSecond: number; checked: number; writeSeconds: number; withChain: number; withoutChain: number }> {
  const path = join(mkdtempSync(join(tmpdir(), 'crm-bench-audit-')), 'events.sqlite');
  const store = new SqliteEventStore({ path, cachedStreams: 0 });
  let started = performance.now();
  for (let written = 0; written < events; written += 1000) {
    const batch = Array.from({ length: Math.min(1000, events - written) }, (_, i) => event(written + i));
    await store.append(`customer-${written}`, batch, 'no_stream');
  }
  const writeSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const result = await store.verifyChain();
  const verifyPerSecond = result.checked / ((performance.now() - started) / 1000);
  await store.close();
  // Baseline: reading the same links and events, in the same slices, as JavaScript values, hashing nothing.
  const raw = new Database(path, { readonly: true });
  const links = raw.prepare('SELECT position, event_id, lower(hex(payload_hash)), lower(hex(hash)), expired FROM event_chain WHERE position >= ? AND position <= ? ORDER BY position').raw();
  const rows = raw.prepare('SELECT position, id, stream_id, revision, type, data, metadata FROM events WHERE position >= ? AND position <= ? ORDER BY position').raw();
  started = performance.now();
  let read = 0;
  for (let from = 1; from <= events; from += 20_000) {
    read += links.all(from, from + 19_999).length;
    rows.all(from, from + 19_999);
  }
  const readPerSecond = read / ((performance.now() - started) / 1000);
  raw.close();
  if (!result.ok || result.checked !== events) throw new Error(`the benchmark's log did not verify: ${JSON.stringify(result)}`);
  const withChain: number[] = [];
  const withoutChain: number[] = [];
  for (let round = 0; round < 2; round++) {
    withChain.push(await appendRate(true, appends));
    withoutChain.push(await appendRate(false, appends));
  }
  return { verifyPerSecond, readPerSecond, checked: result.checked, writeSeconds, withChain: mean(withChain), withoutChain: mean(withoutChain) };
}
