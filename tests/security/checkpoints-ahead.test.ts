import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { EventLogSource } from '../../src/integrations/event-log-source.ts';
import { KafkaRelay } from '../../src/integrations/kafka/relay.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * After a power cut, the log may have lost its last commits while the read-model snapshot (or another store)
 * says they were read. New events would then take those positions and be skipped silently. Every checkpoint is
 * compared with the log's head at start: projections ahead of it are rebuilt, the relay and consumers halt loudly.
 * Integration state does not live in the read-model snapshot, and a snapshot that cannot be read is rebuilt.
 */
describe('checkpoints ahead of the log', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const logged = () => {
    const lines: string[] = [];
    return { lines, logger: jsonLogger('info', (line) => lines.push(line)) };
  };

  it('a projection checkpoint ahead of the head is rebuilt, and new events are not skipped', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-ahead-'));
    app = await startTestApp({ CRM_DATA_DIR: dataDir });
    await app.request('POST', '/api/v1/customers', { body: { name: 'Before The Cut' } });
    const head = await app.services.eventStore.headPosition();
    await app.services.runner.waitFor(head, 5000);
    await app.close();
    app = undefined;
    // The snapshot claims far more than the log holds (the log's last commits were lost).
    const snapshot = new EmbeddedReadStore({ snapshotPath: join(dataDir, 'read-models.snapshot') });
    await snapshot.collection('_projections').updateMany({}, { $set: { position: Number(head) + 50 } });
    await snapshot.close();

    const { lines, logger } = logged();
    app = await startTestApp({ CRM_DATA_DIR: dataDir }, { logger });
    expect(lines.join('\n')).toMatch(/projection checkpoint is ahead of the event log/);
    const created = await app.request('POST', '/api/v1/customers', { body: { name: 'After The Cut' } });
    const listed = await app.request('GET', '/api/v1/customers?sort=name', { headers: { 'x-min-position': created.headers.get('x-position')! } });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((c: { name: string }) => c.name)).toEqual(['After The Cut', 'Before The Cut']);
  });

  it('a corrupt read-model snapshot does not stop the start: the read models are rebuilt from the log, and it says so', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-corrupt-'));
    app = await startTestApp({ CRM_DATA_DIR: dataDir });
    await app.request('POST', '/api/v1/customers', { body: { name: 'Survives Corruption' } });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
    await app.close();
    app = undefined;
    writeFileSync(join(dataDir, 'read-models.snapshot'), Buffer.from('this is not a snapshot at all'));

    const { lines, logger } = logged();
    app = await startTestApp({ CRM_DATA_DIR: dataDir }, { logger });
    expect(lines.join('\n')).toMatch(/read-model snapshot could not be read/);
    expect(readdirSync(dataDir).some((name) => name.startsWith('read-models.snapshot.corrupt-'))).toBe(true);
    const list = await app.request('GET', '/api/v1/customers', { headers: { 'x-min-position': String(await app.services.eventStore.headPosition()) } });
    expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(['Survives Corruption']);
  });

  it('integration state is kept beside the log: losing the read-model snapshot does not reset a consumer', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-state-'));
    app = await startTestApp({ CRM_DATA_DIR: dataDir });
    await app.request('POST', '/api/v1/customers', { body: { name: 'Consumed Once' } });
    const seen: string[] = [];
    const consumer = await app.services.eventSource.consume('erp-test', ['customer'], async (event) => void seen.push(event.id));
    const deadline = Date.now() + 5000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await consumer.close();
    expect(seen).toHaveLength(1);
    await app.close();
    app = undefined;
    // The snapshot is gone (deleted, or unreadable): the consumer still knows where it was.
    const snapshot = join(dataDir, 'read-models.snapshot');
    if (existsSync(snapshot)) writeFileSync(snapshot, Buffer.alloc(0));
    app = await startTestApp({ CRM_DATA_DIR: dataDir });
    const again: string[] = [];
    const resumed = await app.services.eventSource.consume('erp-test', ['customer'], async (event) => void again.push(event.id));
    await new Promise((r) => setTimeout(r, 300));
    await resumed.close();
    expect(again).toEqual([]);
  });

  it('integration state an earlier version kept in the snapshot is moved beside the log on the first start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-move-'));
    const old = new EmbeddedReadStore({ snapshotPath: join(dataDir, 'read-models.snapshot') });
    await old.collection('_consumers').insertOne({ _id: 'erp-test', position: 0 });
    await old.collection('_inbox').insertOne({ _id: 'erp-test:e1', consumer: 'erp-test', eventId: 'e1', position: 0 });
    await old.close();
    app = await startTestApp({ CRM_DATA_DIR: dataDir });
    expect(await app.services.integrationStore.collection('_consumers').findOne({ _id: 'erp-test' })).toEqual({ _id: 'erp-test', position: 0 });
    expect(await app.services.integrationStore.collection('_inbox').countDocuments({})).toBe(1);
    expect(await app.services.readStore.collection('_inbox').countDocuments({})).toBe(0);
  });

  it('a consumer whose checkpoint is ahead of the head does not start, loudly', async () => {
    app = await startTestApp();
    await app.services.integrationStore.collection('_consumers').updateOne({ _id: 'erp-test' }, { $set: { position: 10_000 } }, { upsert: true });
    const { lines, logger } = logged();
    const source = new EventLogSource(app.services.eventStore, app.services.integrationStore, logger);
    await expect(source.consume('erp-test', ['customer'], async () => {})).rejects.toMatchObject({ name: 'ConsumerCheckpointAheadError' });
    expect(lines.join('\n')).toMatch(/consumer halted: its checkpoint is ahead of the event log/);
  });

  it('the Kafka relay whose checkpoint is ahead of the head halts, and says so in its status (/readyz: kafka failed)', async () => {
    app = await startTestApp();
    await app.services.integrationStore.collection('_relay').updateOne({ _id: 'kafka' }, { $set: { position: 10_000 } }, { upsert: true });
    const { lines, logger } = logged();
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const relay = new KafkaRelay(kafka, app.services.eventStore, app.services.integrationStore, logger, { partitions: 1 });
    await relay.start();
    expect(relay.status().halted).toMatch(/ahead of the event log/);
    expect(lines.join('\n')).toMatch(/kafka relay halted/);
    await relay.stop();
  });
});
