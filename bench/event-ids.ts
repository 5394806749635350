import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../src/infra/eventstore/sqlite.ts';
import { mean } from './stats.ts';
import { derivedEventId, randomIds, requestOrderedEventId } from '../src/infra/ids.ts';

/**
 * `append_large_log_creates_per_s`: create-shaped appends (a claim on a unique name and the record, each one event,
 * in one atomic append) by 32 writers into a log of `prefill` events, with the events' ids ordered by their request
 * (`requestOrderedEventId`, what the service does) against name-based random ones (`derivedEventId`, what it did
 * before 2026-12-03) as the same-run baseline, alternated three times each. The claims' streams are random in
 * both (a hash of the value claimed): what the order of event ids changes is the index on them.
 */
export async function eventIdOrderBench(prefill: number, creates: number): Promise<{ ordered: number; random: number }> {
  const path = join(mkdtempSync(join(tmpdir(), 'crm-bench-ids-')), 'events.sqlite');
  await new SqliteEventStore({ path }).close();
  const ids = randomIds({ now: () => new Date() });
  const data = { customerId: randomUUID(), fields: { name: '基准客户 1 有限公司', industry: '机械制造', region: '华东', level: 'A', phone: '021-10000000' } };
  const metadata = { actor: 'bench', at: new Date().toISOString(), correlationId: 'bench', requestId: 'bench', schemaVersion: 1 };
  const claimStream = () => `reservation-${createHash('sha256').update(randomUUID()).digest('hex')}`;
  // The log as an earlier version wrote it (random ids), straight into the table: the chain is not needed here.
  const raw = new Database(path);
  const insert = raw.prepare('INSERT INTO events (id, stream_id, revision, category, type, data, metadata) VALUES (?, ?, 0, ?, ?, ?, ?)');
  const [json, meta] = [JSON.stringify(data), JSON.stringify(metadata)];
  raw.transaction(() => {
    for (let i = 0; i < prefill; i += 2) {
      const requestId = ids.newId();
      insert.run(derivedEventId(requestId, 'claim', 0), claimStream(), 'reservation', 'ReservationClaimed', json, meta);
      insert.run(derivedEventId(requestId, 'record', 0), `customer-${requestId}`, 'customer', 'CustomerRegistered', json, meta);
    }
  })();
  raw.close();
  const rates = { ordered: [] as number[], random: [] as number[] };
  for (const variant of ['ordered', 'random', 'ordered', 'random', 'ordered', 'random'] as const) {
    const eventId = variant === 'ordered' ? requestOrderedEventId : derivedEventId;
    const store = new SqliteEventStore({ path });
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let n = next++; n < creates; n = next++) {
          const requestId = ids.newId();
          const write = (streamId: string, type: string) => ({ streamId, expected: 'no_stream' as const, events: [{ id: eventId(requestId, streamId, 0), type, data, metadata }] });
          await store.appendAtomically!([write(claimStream(), 'ReservationClaimed'), write(`customer-${requestId}`, 'CustomerRegistered')]);
        }
      }),
    );
    rates[variant].push(creates / ((performance.now() - started) / 1000));
    await store.close();
  }
  return { ordered: mean(rates.ordered), random: mean(rates.random) };
}
