import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCompany } from '../../src/cli/seed-company.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';
import { allProjections } from '../../src/projections/all.ts';
import { readModelDigest } from '../../src/projections/digest.ts';
import { FUNNEL } from '../../src/projections/opportunities.ts';
import { ProjectionRunner } from '../../src/projections/runner.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { serverUrl, testDatabaseUrl } from '../support/servers.ts';

const mongo = serverUrl('MONGO_URL');

describe.skipIf(!mongo)('the same event log projected into FerretDB and into the embedded store', () => {
  let app: TestApp;
  let embeddedDigest: string;
  const stores: MongoReadStore[] = [];
  const freshStore = async () => {
    const store = await MongoReadStore.connect(testDatabaseUrl());
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    app = await startTestApp();
    await seedCompany(app.services, 120);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 60_000);
    embeddedDigest = await readModelDigest(app.services.readStore, allProjections);
  });
  afterAll(async () => {
    for (const store of stores) {
      await store.dropDatabase();
      await store.close();
    }
    await app?.close();
  });

  it('live: projections following the log into FerretDB give identical documents in every collection', async () => {
    const store = await freshStore();
    const runner = new ProjectionRunner(app.services.eventStore, store, allProjections, silentLogger);
    await runner.start();
    await runner.waitFor(await app.services.eventStore.headPosition(), 150_000);
    await runner.stop();
    expect(runner.status().filter((s) => s.failed)).toEqual([]);
    expect(await readModelDigest(store, allProjections)).toBe(embeddedDigest);
    expect(await store.collection('customers').countDocuments()).toBe(await app.services.readStore.collection('customers').countDocuments());
  });

  it('first start on an existing log: catches up in process, bulk-loads, then follows new events live', async () => {
    const store = await freshStore();
    const runner = new ProjectionRunner(app.services.eventStore, store, allProjections, silentLogger, () => new EmbeddedReadStore());
    await runner.start();
    await runner.waitFor(await app.services.eventStore.headPosition(), 60_000);
    expect(runner.status().every((s) => s.position === runner.status()[0]!.position)).toBe(true);
    expect(await readModelDigest(store, allProjections)).toBe(embeddedDigest);
    const created = await app.request('POST', '/api/v1/customers', { body: { name: 'Arrived after the catch-up' } });
    expect(created.status).toBe(201);
    const head = await app.services.eventStore.headPosition();
    await runner.waitFor(head, 30_000);
    await app.services.runner.waitFor(head, 30_000);
    await runner.stop();
    expect(await store.collection('customers').findOne({ _id: created.body.id })).toMatchObject({ name: 'Arrived after the catch-up' });
    expect(await readModelDigest(store, allProjections)).toBe(await readModelDigest(app.services.readStore, allProjections));
  });

  it('rebuild: replayed in process and bulk-loaded into FerretDB, again identical', async () => {
    const store = await freshStore();
    const runner = new ProjectionRunner(app.services.eventStore, store, allProjections, silentLogger, () => new EmbeddedReadStore());
    const applied = await runner.rebuild();
    expect(applied).toBeGreaterThan(500);
    expect(await readModelDigest(store, allProjections)).toBe(await readModelDigest(app.services.readStore, allProjections));
    // The reports read from FerretDB answer as they do from the embedded store.
    const funnel = (store: { collection: MongoReadStore['collection'] }) =>
      store.collection(FUNNEL).aggregate([{ $group: { _id: '$stage', count: { $sum: '$count' }, amount: { $sum: '$amount' } } }, { $sort: { _id: 1 } }]);
    const expected = await funnel(app.services.readStore);
    expect(expected.length).toBeGreaterThan(2);
    expect(await funnel(store)).toEqual(expected);
  });
});
