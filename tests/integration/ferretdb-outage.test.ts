import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCompany } from '../../src/cli/seed-company.ts';
import { jsonLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';
import type { ReadStore } from '../../src/infra/readstore/port.ts';
import { allProjections } from '../../src/projections/all.ts';
import { readModelDigest } from '../../src/projections/digest.ts';
import { ProjectionRunner } from '../../src/projections/runner.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { serverUrl, testDatabaseUrl, serversCommand } from '../support/servers.ts';
import { withOption } from '../../src/infra/readstore/mongo-url.ts';

const mongo = serverUrl('MONGO_URL');
const ferretdb = (action: 'stop' | 'start') => serversCommand(`ferretdb-${action}`);

/** Waits for the runner to reach `position`; on a timeout, says where each projection stands and what was logged. */
async function caughtUp(runner: ProjectionRunner, position: bigint, log: string[], timeoutMs = 30_000): Promise<void> {
  try {
    await runner.waitFor(position, timeoutMs);
  } catch (error) {
    const status = runner.status().map((s) => `${s.name}@${s.position}${s.failed ? ` failed: ${s.failed}` : ''}`);
    throw new Error(`${(error as Error).message}\nprojections: ${status.join(', ')}\nlog:\n${log.join('')}`, { cause: error });
  }
}

describe.skipIf(!mongo)('the service while FerretDB is down', () => {
  let app: TestApp;
  const log: string[] = [];
  beforeAll(async () => {
    // A long server selection: once the store knows FerretDB is away, answers must come from a short ping instead.
    app = await startTestApp({ MONGO_URL: withOption(testDatabaseUrl(), 'serverSelectionTimeoutMS', '30000') }, { logger: jsonLogger('warn', (line) => log.push(line)) });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('reports it on /readyz, answers reads with 503 without waiting out server selection, keeps taking commands, and catches up when it returns', async () => {
    const token = await app.login();
    const before = await app.request('POST', '/api/v1/customers', { body: { name: `Before the read-store outage ${Date.now()}` }, token });
    expect(before.status).toBe(201);
    await serversCommand('ferretdb-stop');
    let during: { status: number; body: { id: string } };
    try {
      const ready = await app.request('GET', '/readyz', { token: null });
      expect(ready.status).toBe(503);
      expect(ready.body.detail).toMatch(/readStore/);
      expect(ready.body.checks).toEqual({ eventStore: 'ok', readStore: 'unavailable' });
      const asked = Date.now();
      const list = await app.request('GET', '/api/v1/customers', { token });
      expect(list.status).toBe(503);
      expect(Date.now() - asked).toBeLessThan(10_000);
      expect(list.headers.get('retry-after')).toBeTruthy();
      during = await app.request('POST', '/api/v1/customers', { body: { name: `During the read-store outage ${Date.now()}` }, token });
      expect(during.status).toBe(201);
    } finally {
      await serversCommand('ferretdb-start');
    }
    await caughtUp(app.services.runner, await app.services.eventStore.headPosition(), log);
    expect(app.services.runner.status().filter((s) => s.failed)).toEqual([]);
    const read = await app.request('GET', `/api/v1/customers/${during.body.id}`, { token });
    expect(read.status).toBe(200);
    expect((await app.request('GET', '/readyz', { token: null })).status).toBe(200);
  });

  it('a first start whose bulk load is cut off by the outage starts the catch-up again and loads identical documents', async () => {
    await seedCompany(app.services, 20);
    const head = await app.services.eventStore.headPosition();
    await caughtUp(app.services.runner, head, log);
    const expected = await readModelDigest(app.services.readStore, allProjections);

    // The first attempt's staging store stops FerretDB when the load comes to its second collection, so the
    // first is loaded and the rest cannot be: the next attempt must start from empty collections again.
    let outage: Promise<void> | undefined;
    let loaded = 0;
    const staging = (): ReadStore => {
      const store = new EmbeddedReadStore();
      if (outage) return store;
      return {
        flush: () => store.flush(),
        ping: () => store.ping(),
        close: () => store.close(),
        collection: (name) => {
          const collection = store.collection(name);
          return Object.assign(Object.create(collection) as typeof collection, {
            find: async (...args: Parameters<typeof collection.find>) => {
              if (++loaded === 2) {
                await ferretdb('stop');
                outage = new Promise((resolve) => setTimeout(resolve, 2000)).then(() => ferretdb('start')).then(() => {});
              }
              return collection.find(...args);
            },
          });
        },
      } as ReadStore;
    };
    const runnerLog: string[] = [];
    // Short server selection: attempts fail fast while FerretDB is down, instead of waiting for it to return.
    const store = await MongoReadStore.connect(testDatabaseUrl(), { serverSelectionTimeoutMS: 300 });
    const runner = new ProjectionRunner(app.services.eventStore, store, allProjections, jsonLogger('warn', (line) => runnerLog.push(line)), staging);
    runner.retryMs = 200;
    try {
      await runner.start();
      await caughtUp(runner, head, runnerLog, 60_000);
      await outage;
      expect(outage).toBeDefined();
      expect(runner.status().filter((s) => s.failed)).toEqual([]);
      expect(runnerLog.join('')).toMatch(/read store unreachable during catch-up/);
      expect(await readModelDigest(store, allProjections)).toBe(expected);
    } finally {
      await runner.stop();
      await outage;
      await store.dropDatabase();
      await store.close();
    }
  });
});
