import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the benchmark uses of @event-driven-io/emmett-sqlite (installed in bench/peer only, so typed here). */
interface EmmettSqlite {
  getSQLiteEventStore(options: { fileName: string; schema: { autoMigration: 'CreateOrUpdate' } }): {
    appendToStream(streamName: string, events: { type: string; data: Record<string, unknown> }[]): Promise<unknown>;
  };
}
// A specifier TypeScript does not resolve: `npm test` and the type check never need the peer installed.
const EMMETT_SQLITE: string = '@event-driven-io/emmett-sqlite';

/**
 * The peer: Emmett's SQLite event store (its own package in bench/peer, with its own lock file, installed by
 * `npm run bench` only, because sqlite3 compiles from source) doing the same sequential single-event appends to a
 * file database. Emmett's store uses SQLite's default rollback journal with a sync per commit, so our store
 * is measured alongside in its `full` durability (fsync per commit) as well as the default.
 */
export async function emmettAppendsPerSecond(count: number): Promise<number> {
  const { getSQLiteEventStore } = (await import(EMMETT_SQLITE)) as EmmettSqlite;
  const store = getSQLiteEventStore({ fileName: join(mkdtempSync(join(tmpdir(), 'crm-emmett-')), 'events.db'), schema: { autoMigration: 'CreateOrUpdate' } });
  await store.appendToStream('warmup-0', [{ type: 'ThingHappened', data: { n: 0 } }]);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    // Emmett 0.38's SQLite store now and then reports SQLITE_BUSY on a sequential append; retry it.
    for (let attempt = 0; ; attempt++) {
      try {
        await store.appendToStream(`bench-${i}`, [{ type: 'ThingHappened', data: { customerId: 'c', name: 'Benchmark Trading Co', amount: 123450 } }]);
        break;
      } catch (error) {
        if (attempt >= 5 || (error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }
  return count / ((performance.now() - started) / 1000);
}
