import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCustomer } from '../src/commands/customers.ts';
import { addContact } from '../src/commands/contacts.ts';
import { findEmployeeByUsername, systemActor } from '../src/commands/employees.ts';
import { seedCustomers } from '../src/cli/seed-data.ts';
import { loadConfig } from '../src/infra/config.ts';
import type { EventToAppend } from '../src/infra/eventstore/port.ts';
import { SqliteEventStore } from '../src/infra/eventstore/sqlite.ts';
import { silentLogger } from '../src/infra/logger.ts';
import { EmbeddedReadStore } from '../src/infra/readstore/embedded.ts';
import { openServices } from '../src/infra/wiring.ts';
import { listCustomers } from '../src/projections/customer-queries.ts';
import { customersProjection } from '../src/projections/customers.ts';
import { ProjectionRunner } from '../src/projections/runner.ts';
import { scopeFor } from '../src/projections/scope.ts';

/**
 * `npm run bench [-- --quick]`: measures the embedded core against baselines measured in the same run.
 * Writes bench/results/latest.json and prints a table. Issue 7 extends it with the HTTP and peer benchmarks.
 */
const quick = process.argv.includes('--quick');
const sizes = quick
  ? { appends: 5_000, batches: 1_000, customers: 2_000, listRuns: 50 }
  : { appends: 50_000, batches: 10_000, customers: 20_000, listRuns: 200 };

type Metric = { value: number; unit: string; baseline?: number; ratio?: number };
const metrics: Record<string, Metric> = {};
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
const event = (type = 'BenchHappened'): EventToAppend => ({
  id: randomUUID(),
  type,
  data: { customerId: randomUUID(), name: 'Benchmark Trading Co', amount: 123450 },
  metadata: { actor: 'bench', at: new Date().toISOString(), correlationId: 'bench', schemaVersion: 1 },
});

async function appendRates(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-'));
  // Baseline: raw better-sqlite3 inserts of the same rows, one transaction each, same pragmas.
  const raw = new Database(join(dir, 'raw.sqlite'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL, revision INTEGER NOT NULL, category TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, UNIQUE (stream_id, revision))');
  const insert = raw.prepare('INSERT INTO events (id, stream_id, revision, category, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const one = raw.transaction((e: EventToAppend, stream: string) => insert.run(e.id, stream, 0, 'bench', e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)));
  const rawEvents = Array.from({ length: sizes.appends }, () => event());
  let started = performance.now();
  rawEvents.forEach((e, i) => one(e, `bench-${i}`));
  const baseline = sizes.appends / ((performance.now() - started) / 1000);
  raw.close();

  const store = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
  const events = Array.from({ length: sizes.appends }, () => event());
  started = performance.now();
  for (let i = 0; i < events.length; i++) await store.append(`bench-${i}`, [events[i]!], 'no_stream');
  const rate = sizes.appends / ((performance.now() - started) / 1000);
  metrics.append_events_per_s = { value: Math.round(rate), unit: 'events/s', baseline: Math.round(baseline), ratio: round(rate / baseline, 2) };

  const batches = Array.from({ length: sizes.batches }, () => Array.from({ length: 10 }, () => event()));
  started = performance.now();
  for (let i = 0; i < batches.length; i++) await store.append(`batch-${i}`, batches[i]!, 'no_stream');
  metrics.append_batch10_events_per_s = { value: Math.round((sizes.batches * 10) / ((performance.now() - started) / 1000)), unit: 'events/s' };
  await store.close();
}

async function customerData(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-'));
  const services = await openServices(loadConfig({ CRM_DATA_DIR: dir, CRM_ADMIN_PASSWORD: 'bench-password-1', LOG_LEVEL: 'error' }), { logger: silentLogger, startProjections: false, purpose: 'bench' });
  const admin = (await findEmployeeByUsername(services.deps, 'admin'))!;
  let started = performance.now();
  for (const customer of seedCustomers(sizes.customers, 7)) {
    const meta = services.requestMeta('bench');
    const { customerId } = await registerCustomer(services.deps, { fields: customer.fields, ownerId: admin.employeeId }, systemActor, meta);
    for (const contact of customer.contacts) await addContact(services.deps, { customerId, fields: contact }, systemActor, services.requestMeta('bench'));
  }
  const commandSeconds = (performance.now() - started) / 1000;
  metrics.register_customer_with_contacts_per_s = { value: Math.round(sizes.customers / commandSeconds), unit: 'customers/s' };

  const rebuiltStore = new EmbeddedReadStore();
  const runner = new ProjectionRunner(services.eventStore, rebuiltStore, [customersProjection], silentLogger);
  started = performance.now();
  const applied = await runner.rebuild();
  metrics.rebuild_events_per_s = { value: Math.round(applied / ((performance.now() - started) / 1000)), unit: 'events/s' };

  const scope = scopeFor(systemActor);
  const queries = [
    { sortField: 'updatedAt', direction: -1 as const, limit: 50, filters: {} },
    { sortField: 'name', direction: 1 as const, limit: 50, filters: { region: '华东' } },
    { sortField: 'updatedAt', direction: -1 as const, limit: 50, filters: { industry: '机械制造', level: 'A' } },
    { sortField: 'name', direction: 1 as const, limit: 50, filters: {}, q: '精工' },
  ];
  const timings: number[] = [];
  for (let i = 0; i < sizes.listRuns; i++) {
    const query = queries[i % queries.length]!;
    const t = performance.now();
    await listCustomers(rebuiltStore, scope, query);
    timings.push(performance.now() - t);
  }
  metrics[`list_customers_p95_ms_${sizes.customers}`] = { value: round(percentile(timings, 95), 2), unit: 'ms' };
  metrics[`list_customers_p50_ms_${sizes.customers}`] = { value: round(percentile(timings, 50), 2), unit: 'ms' };
  await services.close();
}

await appendRates();
await customerData();
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: round(totalmem() / 2 ** 30), node: process.version, quick };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify({ machine, sizes, metrics }, null, 2)}\n`);
console.table(Object.fromEntries(Object.entries(metrics).map(([name, m]) => [name, m])));
