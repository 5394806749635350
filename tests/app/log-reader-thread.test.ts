import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handedOver, takenOver, threadedLogReader, threadedReplay } from '../../src/app/log-reader-thread.ts';
import { readingLog } from '../../src/app/reading-log.ts';
import { personalDataScope } from '../../src/commands/personal-data.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { SqliteSubjectKeys } from '../../src/infra/personal-data/keys.ts';
import { ERASED } from '../../src/domain/shared/personal-data.ts';
import { type LogRead, type LogReader, readingAhead } from '../../src/infra/eventstore/log-reader.ts';
import type { RecordedEvent } from '../../src/infra/eventstore/port.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { ProjectionRunner, type ReplayBeside } from '../../src/projections/runner.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { completedBatch } from '../support/batches.ts';
import { APPLIED_BESIDE_READING } from '../../src/app/wiring.ts';

const all = async (reader: LogReader, read: LogRead): Promise<RecordedEvent[][]> => {
  const batches: RecordedEvent[][] = [];
  for await (const events of reader(read)) batches.push(events);
  return batches;
};

describe('reading the log for a replay', () => {
  let app: TestApp;
  let dir: string;
  let contactIds: string[];
  const eventsPath = () => join(dir, 'events.sqlite');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crm-log-reader-'));
    app = await startTestApp({ CRM_DATA_DIR: dir });
    contactIds = [];
    for (let i = 0; i < 6; i++) {
      const customerId = (await app.request('POST', '/api/v1/customers', { body: { name: `读取测试公司${i}` } })).body.id as string;
      const added = await app.request('POST', '/api/v1/contacts', { body: { customerId, name: `联系人${i}`, mobile: `1391234560${i}`, email: `reader${i}@example.com` } });
      expect(added.status).toBe(201);
      contactIds.push(added.body.id);
    }
    // Records of the projections a replay may apply beside its reading: deals (the funnel) and tasks (the team's).
    for (let i = 0; i < 3; i++) {
      const deal = await app.request('POST', '/api/v1/opportunities', { body: { name: `项目${i}`, customerId: (await app.request('GET', '/api/v1/customers')).body.items[i].id, amount: { amount: 100_000_00 * (i + 1), currency: 'CNY' }, expectedCloseDate: '2026-12-31' } });
      expect(deal.status).toBe(201);
      expect((await app.request('POST', '/api/v1/tasks', { body: { subject: `回访${i}`, dueAt: '2026-12-20T08:00:00.000Z' } })).status).toBe(201);
    }
    // Records of the others the service applies beside its reading: a ticket, a mass update (a batch), a campaign's members.
    const customerId = (await app.request('GET', '/api/v1/customers')).body.items[0].id as string;
    expect((await app.request('POST', '/api/v1/tickets', { body: { type: 'repair', channel: 'phone', priority: 'normal', customerId, subject: '水泵异响', description: '运行时有异响' } })).status).toBe(201);
    const bulk = await app.request('POST', '/api/v1/customers/bulk', { body: { filter: {}, set: { level: 'A' } } });
    expect(bulk.status).toBe(202);
    expect(await completedBatch(app, bulk.body.batchId)).toMatchObject({ records: 6, skipped: 0 });
    const campaignId = (await app.request('POST', '/api/v1/campaigns', { body: { name: '读取测试活动', type: 'email', startsOn: '2027-04-01', endsOn: '2027-04-30', budget: { amount: 100_000, currency: 'CNY' } } })).body.id as string;
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
    expect((await app.request('POST', `/api/v1/campaigns/${campaignId}/audience`, { body: { filter: { resource: 'contacts', query: {} } } })).body.count).toBeGreaterThan(0);
    // One person erased: a thread of its own reads their values as [erased] too.
    expect(await app.services.personalData.erase(`contact-${contactIds[2]}`, '2026-12-04T00:00:00.000Z')).toBe(true);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('in a thread of its own: the same batches as the service reads, personal values opened, an erased person [erased]', async () => {
    const head = await app.services.eventStore.headPosition();
    const read = { after: 0n, maxCount: 7, until: head };
    const fallbacks: string[] = [];
    const threaded = threadedLogReader(eventsPath(), readingAhead(app.services.eventStore), { fromPositions: 0, ahead: 2, onFallback: (reason) => fallbacks.push(reason) });
    const expected = await all(readingAhead(app.services.eventStore), read);
    const batches = await all(threaded, read);
    expect(fallbacks).toEqual([]);
    expect(batches.map((batch) => batch.length)).toEqual(expected.map((batch) => batch.length));
    expect(batches.flat()).toEqual(expected.flat());
    expect(batches.flat().at(-1)!.position).toBe(head);
    const added = batches.flat().filter((event) => event.type === 'ContactAdded');
    expect(added.map((event) => (event.data as { fields: { name: string } }).fields.name)).toEqual(['联系人0', '联系人1', ERASED, '联系人3', '联系人4', '联系人5']);
  });

  it('hands an event over as its stored text when it is as stored, and an opened one as the text it was opened from with the opened values', async () => {
    const stored = new SqliteEventStore({ path: eventsPath(), checkpointThreadAfter: Infinity, cachedStreams: 0, keepsRowText: true });
    const { eventStore: log, personalData } = readingLog(stored, new SqliteSubjectKeys(eventsPath()), personalDataScope(), { keepsOpenedFrom: true });
    const textOf = (event: RecordedEvent) => stored.rowTextOf(event);
    const openedFrom = (event: RecordedEvent) => personalData.openedFrom(event);
    const isEvent = (value: unknown): value is RecordedEvent => typeof value === 'object' && !Array.isArray(value);
    try {
      const events = await log.readAll({ after: 0n });
      const contactsAdded = events.filter((event) => event.type === 'ContactAdded');
      expect(contactsAdded).toHaveLength(6);
      // Told nothing of where opened events came from: every contact's values were opened (or read [erased]), so
      // each goes whole, and none as the sealed text the log holds.
      const plain = handedOver(events, textOf);
      const whole = plain.filter(isEvent);
      expect(whole.filter((event) => event.type === 'ContactAdded')).toHaveLength(6);
      expect(JSON.stringify(plain.filter((value) => typeof value === 'string'))).not.toContain('pd1:');
      expect(plain.length).toBe(whole.length + 7 * (events.length - whole.length));
      expect(events.length - whole.length).toBeGreaterThan(20);
      expect(takenOver(plain)).toEqual(events);
      // Told: an opened event goes as the text it was opened from, then its opened values, which the caller puts in
      // place of the sealed ones; the erased person's read [erased].
      const handed = handedOver(events, textOf, openedFrom);
      expect(handed.filter(isEvent).filter((event) => event.type === 'ContactAdded')).toEqual([]);
      const values = handed.filter((value): value is unknown[] => Array.isArray(value));
      expect(values.length).toBeGreaterThanOrEqual(6);
      expect(values.flat()).toContain('联系人0');
      expect(values.flat()).toContain(ERASED);
      expect(values.flat().some((value) => typeof value === 'string' && value.startsWith('pd1:'))).toBe(false);
      // A sealed text goes only with the values that replace its sealed ones (its data's text, then the metadata's, then them).
      const sealedTexts = handed.flatMap((value, at) => (typeof value === 'string' && value.includes('pd1:') ? [at] : []));
      expect(sealedTexts.length).toBeGreaterThanOrEqual(6);
      expect(sealedTexts.every((at) => Array.isArray(handed[at + 2]))).toBe(true);
      expect(takenOver(handed)).toEqual(events);
      // Only the last read's texts and origins are kept: the next read drops them (a weak map kept them in the old generation).
      const asStored = events.find((event) => stored.rowTextOf(event) !== undefined)!;
      const opened = contactsAdded[0]!;
      expect(personalData.openedFrom(opened)).toBeDefined();
      await log.readAll({ after: 0n, maxCount: 1 });
      expect(stored.rowTextOf(asStored)).toBeUndefined();
      expect(personalData.openedFrom(opened)).toBeUndefined();
      // A store that does not keep the text (the service's own) hands every event over whole.
      const service = new SqliteEventStore({ path: eventsPath(), checkpointThreadAfter: Infinity, cachedStreams: 0 });
      const read = await service.readAll({ after: 0n, maxCount: 5 });
      expect(read.every((event) => service.rowTextOf(event) === undefined)).toBe(true);
      await service.close();
    } finally {
      await log.close();
    }
  });

  it('a batch larger than a part comes in parts, in log order, and the last part ends the read', async () => {
    const head = await app.services.eventStore.headPosition();
    const fallbacks: string[] = [];
    const threaded = threadedLogReader(eventsPath(), readingAhead(app.services.eventStore), { fromPositions: 0, ahead: 1, partSize: 3, onFallback: (reason) => fallbacks.push(reason) });
    for (const read of [{ after: 0n, maxCount: 7, until: head }, { after: 2n, maxCount: 9 }, { after: 0n, filter: { categories: ['contact'] }, maxCount: 4 }]) {
      const batches = await all(threaded, read);
      expect(batches.flat(), JSON.stringify(read, (_, v) => (typeof v === 'bigint' ? String(v) : v))).toEqual((await all(readingAhead(app.services.eventStore), read)).flat());
      expect(batches.slice(0, -1).every((batch) => batch.length === 3)).toBe(true);
      expect(batches.at(-1)!.length).toBeLessThanOrEqual(3);
    }
    expect(fallbacks).toEqual([]);
  });

  it('from a position, with a filter, and stopping at `until`', async () => {
    const head = await app.services.eventStore.headPosition();
    const read = { after: 3n, filter: { categories: ['contact'] }, maxCount: 2, until: head - 3n };
    const threaded = threadedLogReader(eventsPath(), readingAhead(app.services.eventStore), { fromPositions: 0 });
    const expected = await all(readingAhead(app.services.eventStore), read);
    expect((await all(threaded, read)).flat()).toEqual(expected.flat());
    expect(expected.flat().every((event) => event.streamId.startsWith('contact-') && event.position > 3n)).toBe(true);
  });

  it('a caller that stops early ends the thread, and a read can start again', async () => {
    const threaded = threadedLogReader(eventsPath(), readingAhead(app.services.eventStore), { fromPositions: 0, ahead: 1 });
    const head = await app.services.eventStore.headPosition();
    for await (const events of threaded({ after: 0n, maxCount: 3, until: head })) {
      expect(events).toHaveLength(3);
      break;
    }
    expect((await all(threaded, { after: 0n, maxCount: 1000, until: head })).flat()).toHaveLength(Number(head));
  });

  it('where the thread cannot read the log, the rest is read in this thread, and the reason told', async () => {
    const head = await app.services.eventStore.headPosition();
    const fallbacks: string[] = [];
    const broken = threadedLogReader(join(dir, 'missing', 'events.sqlite'), readingAhead(app.services.eventStore), { fromPositions: 0, onFallback: (reason) => fallbacks.push(reason) });
    const batches = await all(broken, { after: 0n, maxCount: 5, until: head });
    expect(batches.flat()).toEqual((await all(readingAhead(app.services.eventStore), { after: 0n, maxCount: 5, until: head })).flat());
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]).toMatch(/reading thread/);
  });

  it('a short read is read in this thread (a thread takes a moment to start)', async () => {
    const head = await app.services.eventStore.headPosition();
    const fallbacks: string[] = [];
    const threaded = threadedLogReader(join(dir, 'missing', 'events.sqlite'), readingAhead(app.services.eventStore), { fromPositions: Number(head) + 1, onFallback: (reason) => fallbacks.push(reason) });
    expect((await all(threaded, { after: 0n, maxCount: 5, until: head })).flat()).toHaveLength(Number(head));
    expect(fallbacks).toEqual([]);
  });

  it('a rebuild through the thread makes the same read models as one through the service', async () => {
    const models = async (reader?: LogReader) => {
      const store = new EmbeddedReadStore({});
      const runner = new ProjectionRunner(app.services.eventStore, store, app.services.runner.projections, silentLogger);
      if (reader) runner.readLog = reader;
      await runner.rebuild(() => {}, 4);
      const docs: Record<string, unknown[]> = {};
      for (const name of app.services.runner.projections.flatMap((p) => p.collections)) docs[name] = await store.collection(name).find({}, { sort: { _id: 1 } });
      await store.close();
      return docs;
    };
    const threaded = await models(threadedLogReader(eventsPath(), readingAhead(app.services.eventStore), { fromPositions: 0 }));
    expect((threaded.customers ?? []).length).toBe(6);
    expect(threaded).toEqual(await models());
  });

  describe('with projections applied beside the reading, in its thread', () => {
    /** Every read model after a rebuild, with `beside` applying the projections it names (none: all in this thread). */
    const rebuilt = async (beside?: ReplayBeside) => {
      const store = new EmbeddedReadStore({});
      const runner = new ProjectionRunner(app.services.eventStore, store, app.services.runner.projections, silentLogger);
      runner.replayBeside = beside;
      try {
        await runner.rebuild(() => {}, 4);
        const docs: Record<string, unknown[]> = {};
        for (const name of app.services.runner.projections.flatMap((p) => p.collections)) docs[name] = await store.collection(name).find({}, { sort: { _id: 1 } });
        return docs;
      } finally {
        await store.close();
      }
    };
    // The heaviest projections of a replay, one of which (the funnel's) reads the company's settings, built in the thread too.
    const names = ['customers', 'opportunities', 'team', 'campaign-results'];

    it('makes the same read models as a rebuild that applies every projection itself', async () => {
      const fallbacks: string[] = [];
      let taken: string[] = [];
      const beside = threadedReplay(eventsPath(), readingAhead(app.services.eventStore), names, { fromPositions: 0, ahead: 2, onFallback: (reason) => fallbacks.push(reason) });
      const models = await rebuilt((read, projections, skipped) => {
        const reading = beside(read, projections, skipped);
        taken = reading?.projections.map((p) => p.name) ?? [];
        return reading;
      });
      expect(fallbacks).toEqual([]);
      expect(taken.sort()).toEqual([...names].sort());
      expect(models.customers).toHaveLength(6);
      expect(models.opportunities).toHaveLength(3);
      expect(models.report_team_records?.length ?? 0).toBeGreaterThan(0);
      expect(models).toEqual(await rebuilt());
    });

    it('with the projections the service applies beside its reading: the same read models', async () => {
      let taken: string[] = [];
      const beside = threadedReplay(eventsPath(), readingAhead(app.services.eventStore), APPLIED_BESIDE_READING, { fromPositions: 0, ahead: 2 });
      const models = await rebuilt((read, projections, skipped) => {
        const reading = beside(read, projections, skipped);
        taken = reading?.projections.map((p) => p.name) ?? [];
        return reading;
      });
      expect(taken.sort()).toEqual([...APPLIED_BESIDE_READING].sort());
      expect(models.tickets).toHaveLength(1);
      expect(models.batches?.length ?? 0).toBeGreaterThan(0);
      expect(models.campaign_members?.length ?? 0).toBeGreaterThan(0);
      expect(models).toEqual(await rebuilt());
    });

    it("leaves to the replay a projection whose collections one it applies reads (it would read them empty)", async () => {
      const head = await app.services.eventStore.headPosition();
      const company = app.services.runner.projections.find((p) => p.name === 'company')!;
      const opportunities = app.services.runner.projections.find((p) => p.name === 'opportunities')!;
      expect(opportunities.reads).toEqual(expect.arrayContaining([...company.collections]));
      const reading = threadedReplay(eventsPath(), readingAhead(app.services.eventStore), ['company', 'team'], { fromPositions: 0 })({ after: 0n, maxCount: 5, until: head }, app.services.runner.projections, {});
      try {
        expect(reading?.projections.map((p) => p.name)).toEqual(['team']);
      } finally {
        reading?.close();
      }
    });

    it('compacts the heap after a replay read in this thread, not after one read in a thread of its own', async () => {
      const compactions = async (beside?: ReplayBeside) => {
        const runner = new ProjectionRunner(app.services.eventStore, new EmbeddedReadStore({}), app.services.runner.projections, silentLogger);
        runner.replayBeside = beside;
        runner.compactAfterEvents = 1;
        let compacted = 0;
        runner.compactHeap = () => ((compacted += 1), { heapBeforeMb: 2, heapAfterMb: 1, ms: 0 });
        await runner.rebuild(() => {}, 4);
        return compacted;
      };
      expect(await compactions(threadedReplay(eventsPath(), readingAhead(app.services.eventStore), names, { fromPositions: 0 }))).toBe(0);
      expect(await compactions()).toBe(1);
      // A thread that could not read leaves the reading to this one.
      expect(await compactions(threadedReplay(join(dir, 'missing', 'events.sqlite'), readingAhead(app.services.eventStore), names, { fromPositions: 0 }))).toBe(1);
    });

    it('where the thread cannot start or read, the replay applies those projections itself, from the start', async () => {
      const fallbacks: string[] = [];
      const broken = threadedReplay(join(dir, 'missing', 'events.sqlite'), readingAhead(app.services.eventStore), names, { fromPositions: 0, onFallback: (reason) => fallbacks.push(reason) });
      expect(await rebuilt(broken)).toEqual(await rebuilt());
      expect(fallbacks[0]).toMatch(/reading thread/);
    });

    it('a short replay has none applied beside it (a thread takes a moment to start)', async () => {
      const head = await app.services.eventStore.headPosition();
      const beside = threadedReplay(eventsPath(), readingAhead(app.services.eventStore), names, { fromPositions: Number(head) + 1 });
      expect(beside({ after: 0n, maxCount: 5, until: head }, app.services.runner.projections, {})).toBeUndefined();
      expect(threadedReplay(eventsPath(), readingAhead(app.services.eventStore), ['no-such'], { fromPositions: 0 })({ after: 0n, maxCount: 5, until: head }, app.services.runner.projections, {})).toBeUndefined();
    });

  });
});

describe('reading a batch ahead', () => {
  const event = (position: number) => ({ id: `e${position}`, streamId: 'customer-1', revision: BigInt(position - 1), position: BigInt(position), type: 'T', data: {}, metadata: {} }) as unknown as RecordedEvent;
  const log = (size: number, failAfter = Infinity) => {
    const asked: bigint[] = [];
    return {
      asked,
      readAll: async ({ after = 0n, maxCount = Infinity }: { after?: bigint; maxCount?: number }) => {
        asked.push(after);
        if (Number(after) >= failAfter) throw new Error('the log is gone');
        return Array.from({ length: Math.max(0, Math.min(maxCount, size - Number(after))) }, (_, i) => event(Number(after) + i + 1));
      },
    };
  };

  it('asks for the next batch before the caller has the one before, and ends with a short batch or at `until`', async () => {
    const store = log(10);
    const reader = readingAhead(store as never);
    const seen: bigint[][] = [];
    for await (const _batch of reader({ after: 0n, maxCount: 4 })) seen.push([...store.asked]);
    expect(seen).toEqual([[0n, 4n], [0n, 4n, 8n], [0n, 4n, 8n]]);
    expect((await all(reader, { after: 0n, maxCount: 4, until: 4n })).flat().map((e) => e.position)).toEqual([1n, 2n, 3n, 4n]);
    expect((await all(reader, { after: 0n, maxCount: 5 })).map((batch) => batch.length)).toEqual([5, 5, 0]);
  });

  it('a failed read the caller did not wait for is dropped quietly; one it waits for fails the read', async () => {
    const reader = readingAhead(log(10, 4) as never);
    for await (const events of reader({ after: 0n, maxCount: 4 })) {
      expect(events).toHaveLength(4);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(all(reader, { after: 0n, maxCount: 4 })).rejects.toThrow('the log is gone');
  });
});
