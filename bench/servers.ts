import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { seedCompany } from '../src/cli/seed-company.ts';
import { emailSendBench } from './email.ts';
import { scaleOutBench } from './scale-out.ts';
import { erpApplyBaseline, erpInboundBench } from './erp.ts';
import { loadConfig } from '../src/infra/config.ts';
import { silentLogger } from '../src/infra/logger.ts';
import { EmbeddedReadStore } from '../src/infra/readstore/embedded.ts';
import { MongoReadStore } from '../src/infra/readstore/mongo.ts';
import { withDatabase } from '../src/infra/readstore/mongo-url.ts';
import { openServices } from '../src/app/wiring.ts';
import { kafkaClient } from '../src/integrations/kafka/client.ts';
import { KafkaRelay } from '../src/integrations/kafka/relay.ts';
import { allProjections } from '../src/projections/all.ts';
import { ProjectionRunner } from '../src/projections/runner.ts';

/**
 * `npm run bench:servers [-- --customers N]`: throughput against the real servers that .ci/servers.sh starts
 * (Kafka, FerretDB, Mailpit): the relay publishing a seeded event log into Kafka, and projections into FerretDB:
 * rebuilt (in process, then bulk-loaded), caught up on a first start, and live (one event at a time); and a
 * campaign's send into Mailpit (`email_send_per_s`); the ERP bridge's inbound sync (`erp_inbound_records_per_s`).
 * Written to bench/results/servers.json.
 */
const argIndex = process.argv.indexOf('--customers');
const customers = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 2000;
const brokers = process.env.KAFKA_BROKERS;
const mongoUrl = process.env.MONGO_URL;
if (!brokers || !mongoUrl) throw new Error('KAFKA_BROKERS and MONGO_URL must be set: run `npm run bench:servers`, which starts the servers');
const log = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
const round = (n: number) => Math.round(n);

const services = await openServices(loadConfig({ LOG_LEVEL: 'error', CRM_ADMIN_PASSWORD: 'bench-password-1' }), { logger: silentLogger, inMemory: true, startProjections: false });
log(`seeding ${customers} customers`);
// The seed reads its own read models between its steps; they follow the log while it writes, then stop, so the
// measurements below run without them.
await services.runner.start();
await seedCompany(services, customers);
await services.runner.stop();
const head = await services.eventStore.headPosition();
const events = (await services.eventStore.readAll()).length;
log(`event log: ${events} events`);
const results: Record<string, unknown> = { machine: { cpus: cpus().length, model: cpus()[0]?.model }, events, customers };

// Relay: from an empty checkpoint to the head.
{
  const relay = new KafkaRelay(kafkaClient({ brokers: brokers.split(','), clientId: 'crm-bench' }, silentLogger), services.eventStore, new EmbeddedReadStore(), silentLogger, { partitions: 3 });
  const started = performance.now();
  await relay.start();
  while (relay.status().position < head) await new Promise((r) => setTimeout(r, 10));
  const seconds = (performance.now() - started) / 1000;
  await relay.stop();
  results.relay = { published: relay.status().published, seconds: Math.round(seconds * 100) / 100, eventsPerSecond: round(relay.status().published / seconds) };
  log(`relay: ${relay.status().published} events into Kafka in ${seconds.toFixed(2)} s`);
}

// The ERP bridge's inbound side: master records on the erp.* topics applied by the group erp-bridge-in.
{
  const erp = await erpInboundBench(brokers, 10_000);
  const baseline = await erpApplyBaseline(10_000);
  results.erp_inbound_records_per_s = { ...erp, baseline: { ...baseline, what: 'the same records by the command path alone, 16 at once, no Kafka' }, ratio: Math.round((erp.perSecond / baseline.perSecond) * 100) / 100 };
  log(`ERP inbound: ${erp.records} master records in ${erp.seconds} s (${erp.perSecond}/s); the command path alone ${baseline.perSecond}/s`);
}

/** MONGO_URL naming a database of its own for this run. */
const MongoUrlFor = (name: string) => withDatabase(mongoUrl, `crm_bench_${name}_${Date.now()}`);
const fresh = (name: string) => MongoReadStore.connect(mongoUrl, { database: `crm_bench_${name}_${Date.now()}` });

// Rebuild into FerretDB: replay in process, then bulk writes.
let rebuiltEvents: number;
{
  const store = await fresh('rebuild');
  const runner = new ProjectionRunner(services.eventStore, store, allProjections, silentLogger, () => new EmbeddedReadStore());
  const started = performance.now();
  const applied = await runner.rebuild();
  const seconds = (performance.now() - started) / 1000;
  rebuiltEvents = applied;
  results.rebuildIntoFerretDB = { events: applied, seconds: Math.round(seconds * 100) / 100, eventsPerSecond: round(applied / seconds) };
  log(`rebuild into FerretDB: ${applied} events in ${seconds.toFixed(2)} s`);
  await store.dropDatabase();
  await store.close();
}

// First start on an existing log: catch up in process, bulk-load, then follow (what a new deployment does).
{
  const store = await fresh('start');
  const runner = new ProjectionRunner(services.eventStore, store, allProjections, silentLogger, () => new EmbeddedReadStore());
  const started = performance.now();
  await runner.start();
  await runner.waitFor(head, 600_000);
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  results.firstStartIntoFerretDB = { events: rebuiltEvents, seconds: Math.round(seconds * 100) / 100 };
  log(`first start into FerretDB: caught up in ${seconds.toFixed(2)} s`);
  await store.dropDatabase();
  await store.close();
}

// Live projection into FerretDB (one event at a time, as a running server applies new events), for at most
// 30 s: FerretDB 1.24's SQLite backend scans the collection on every update, so this rate falls as it grows.
{
  const store = await fresh('live');
  const runner = new ProjectionRunner(services.eventStore, store, allProjections, silentLogger);
  const started = performance.now();
  await runner.start();
  const deadline = started + 30_000;
  const reached = () => runner.status().reduce((min, s) => (s.position < min ? s.position : min), head);
  while (reached() < head && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  const applied = (await services.eventStore.readAll({ maxCount: Number.MAX_SAFE_INTEGER })).filter((e) => e.position <= reached()).length;
  results.liveIntoFerretDB = { events: applied, seconds: Math.round(seconds * 100) / 100, eventsPerSecond: round(applied / seconds), complete: reached() >= head };
  log(`live projection into FerretDB: ${applied} events in ${seconds.toFixed(2)} s`);
  await store.dropDatabase();
  await store.close();
}

// The embedded store, for comparison, in the same run.
{
  const runner = new ProjectionRunner(services.eventStore, new EmbeddedReadStore(), allProjections, silentLogger);
  const started = performance.now();
  const applied = await runner.rebuild();
  const seconds = (performance.now() - started) / 1000;
  results.rebuildEmbedded = { events: applied, seconds: Math.round(seconds * 100) / 100, eventsPerSecond: round(applied / seconds) };
}

await services.close();

// A campaign's send into Mailpit (email_send_per_s): uncapped, and at the default cap (CRM_MAIL_RATE_PER_S).
const smtp = process.env.MAILPIT_SMTP_URL;
if (smtp) {
  const uncapped = await emailSendBench(smtp, 2000, 10_000, 12);
  const capped = await emailSendBench(smtp, 500, loadConfig({}).CRM_MAIL_RATE_PER_S, loadConfig({}).CRM_MAIL_CONCURRENCY);
  results.email_send_per_s = { ...uncapped, target: '>= 200/s, bounded by the configured rate', met: uncapped.perSecond >= 200, atDefaultRate: capped };
  log(`campaign send into Mailpit: ${uncapped.perSecond}/s uncapped (${uncapped.members} mails), ${capped.perSecond}/s at the default cap of ${capped.ratePerSecond}/s`);
}
// Scale-out: creates through one API process, then two, a worker beside them, against two bare Koa processes.
{
  const scaled = await scaleOutBench(MongoUrlFor('scale'), brokers, 10);
  results.http_create_customer_per_s_scale_out = { ...scaled, target: 'two API processes gain at least 0.8 of what two bare Koa processes gain' };
  log(`scale-out: ${scaled.crm.oneApi}/s with one API process, ${scaled.crm.twoApis}/s with two (×${scaled.crm.factor}); bare Koa ×${scaled.bareKoa.factor}: ${scaled.ofBaseline} of the baseline's factor`);
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/servers.json', `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
