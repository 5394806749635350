import { afterAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { silentLogger } from '../../src/infra/logger.ts';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';
import { type Doc, DuplicateKeyError } from '../../src/infra/readstore/port.ts';
import { customersProjection } from '../../src/projections/customers.ts';
import { ProjectionRunner } from '../../src/projections/runner.ts';
import { startTestApp } from '../support/app.ts';
import { serverUrl, testDatabaseUrl } from '../support/servers.ts';
import { withOption } from '../../src/infra/readstore/mongo-url.ts';
import { countAt, twoRunnersCount } from '../support/rolling-deploy.ts';

const mongo = serverUrl('MONGO_URL');

/** What a production deployment meets: a replica set's URL, read preferences, rolling deploys, changed indexes. */
describe.skipIf(!mongo)('the MongoDB adapter as production uses it (FerretDB, a replica set of one)', () => {
  const stores: MongoReadStore[] = [];
  const freshStore = async (option?: [string, string]) => {
    const store = await MongoReadStore.connect(option ? withOption(testDatabaseUrl(), ...option) : testDatabaseUrl());
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    for (const store of stores) {
      await store.dropDatabase().catch(() => {});
      await store.close();
    }
  });

  it("starts the service on a replica set's URL (a host list, replicaSet=rs0) and serves from it", async () => {
    const url = testDatabaseUrl();
    expect(url).toMatch(/^mongodb:\/\/[^/]+,[^/]+\/crm_test_\w+\?replicaSet=rs0$/);
    const app = await startTestApp({ MONGO_URL: url });
    try {
      const created = await app.request('POST', '/api/v1/customers', { body: { name: '副本集客户' } });
      expect(created.status).toBe(201);
      const read = await app.request('GET', `/api/v1/customers/${created.body.id}`, { headers: { 'X-Min-Position': created.headers.get('x-position') ?? '0' } });
      expect(read.body.name).toBe('副本集客户');
    } finally {
      await app.close();
      const store = await MongoReadStore.connect(url);
      stores.push(store);
    }
  });

  it('reads the read models from the primary, whatever read preference the URL names', async () => {
    const store = await freshStore(['readPreference', 'secondaryPreferred']);
    expect((store as unknown as { client: MongoClient }).client.readPreference.mode).toBe('primary');
  });

  it('two runners writing one database (a rolling deploy) keep the later version of a counter', async () => {
    const store = await freshStore();
    await twoRunnersCount(store, 'report_x');
    expect(await store.collection<Doc>('report_x').findOne({ _id: 'day' })).toEqual({ _id: 'day', n: 10, _position: 10 });
    // Straight to the server, the guarded increment is one atomic update: a second runner's copy is refused.
    await expect(countAt(store, 'report_x', 7)).rejects.toBeInstanceOf(DuplicateKeyError);
  });

  it('an index a projection changed without a new version stops it with the projection named, and what to do', async () => {
    const store = await freshStore();
    // What an older version of the projection left: an index of the same name over other keys.
    await store.collection('customers').createIndex({ somethingElse: 1 }, { name: 'ownerId_1' });
    const runner = new ProjectionRunner({ headPosition: async () => 0n } as never, store, [customersProjection], silentLogger);
    const saved = { _id: customersProjection.name, version: customersProjection.version, position: 0 };
    await store.collection('_projections').replaceOne({ _id: saved._id }, saved, { upsert: true });
    await expect(runner.start()).rejects.toThrow(/Projection customers \(version \d+\) cannot set up its indexes: .*bump its version/);
  });
});
