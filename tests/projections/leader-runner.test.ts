import { describe, expect, it } from 'vitest';
import { registerCustomer } from '../../src/commands/customers.ts';
import { findEmployeeByUsername, systemActor } from '../../src/commands/employees.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { FencedError } from '../../src/infra/readstore/fencing.ts';
import { allProjections } from '../../src/projections/all.ts';
import { readModelDigest } from '../../src/projections/digest.ts';
import { PROGRESS, ProjectionRunner } from '../../src/projections/runner.ts';
import { startTestApp } from '../support/app.ts';

/** The embedded store standing in for a store other processes share (MongoDB): write-back keeps later versions, progress is published. */
class SharedStore extends EmbeddedReadStore {
  readonly shared = true;
}

const fence = (token: number, valid = () => true) => ({ token, valid });

describe('a leader-elected runner over a shared read store', () => {
  it('publishes its progress for API instances, which wait on it for read-your-writes and hand it their rebuild requests', async () => {
    const app = await startTestApp();
    try {
      const meta = () => app.services.requestMeta('test');
      const ownerId = (await findEmployeeByUsername(app.services.deps, 'admin'))!.employeeId;
      const store = new SharedStore();
      const leader = new ProjectionRunner(app.services.eventStore, store, allProjections, silentLogger);
      leader.fenceWith(fence(1));
      await leader.start();
      const api = new ProjectionRunner(app.services.eventStore, store, allProjections, silentLogger);
      await api.observe(60_000);
      const { position } = await registerCustomer(app.services.deps, { fields: { name: 'Seen by the API' }, ownerId }, systemActor, meta());
      // The API instance applies nothing itself: it learns the position from the leader's progress.
      await api.waitFor(position, 5_000, api.projectionsReading(['customers']));
      expect(await store.collection('customers').countDocuments({ name: 'Seen by the API' })).toBe(1);
      expect((await store.collection(PROGRESS).findOne({ _id: 'runner' }))?.fence).toBe(1);

      await api.rebuildProjection('customers');
      expect(api.status().find((s) => s.name === 'customers')?.catchingUp).toBe(true);
      await expect.poll(async () => (await store.collection('_projection_requests').countDocuments({})), { timeout: 5_000 }).toBe(0);
      await leader.waitFor(await app.services.eventStore.headPosition(), 5_000);
      // An instance polling every 100 ms (the API's default is a second) sees the rebuild end.
      const watcher = new ProjectionRunner(app.services.eventStore, store, allProjections, silentLogger);
      await watcher.observe(100);
      await expect.poll(() => watcher.status().find((s) => s.name === 'customers')?.catchingUp ?? false, { timeout: 5_000 }).toBe(false);
      expect(await store.collection('customers').countDocuments({ name: 'Seen by the API' })).toBe(1);
      await leader.stop();
      await api.stop();
      await watcher.stop();
    } finally {
      await app.close();
    }
  });

  it('a standby promoted to leader forgets what it observed of the old leader (a catch-up it never finished) and follows every projection', async () => {
    const app = await startTestApp();
    try {
      const store = new SharedStore();
      // The old leader died catching up the customers' read model, and said so in its progress.
      await store.collection(PROGRESS).insertOne({ _id: 'runner', positions: {}, failures: {}, catchingUp: ['customers'], fence: 1, at: new Date().toISOString() });
      const standby = new ProjectionRunner(app.services.eventStore, store, allProjections, silentLogger);
      await standby.observe(60_000);
      expect(standby.status().find((s) => s.name === 'customers')?.catchingUp).toBe(true);
      standby.fenceWith(fence(2));
      await standby.start();
      const ownerId = (await findEmployeeByUsername(app.services.deps, 'admin'))!.employeeId;
      const { position } = await registerCustomer(app.services.deps, { fields: { name: 'After the promotion' }, ownerId }, systemActor, app.services.requestMeta('test'));
      await standby.waitFor(position, 10_000, standby.projectionsReading(['customers']));
      expect(await store.collection('customers').countDocuments({ name: 'After the promotion' })).toBe(1);
      await standby.stop();
    } finally {
      await app.close();
    }
  });

  it('is fenced: a deposed leader\'s checkpoint writes are refused, and one that cannot trust its lease applies nothing', async () => {
    const app = await startTestApp();
    try {
      const meta = () => app.services.requestMeta('test');
      const ownerId = (await findEmployeeByUsername(app.services.deps, 'admin'))!.employeeId;
      for (let i = 0; i < 5; i++) await registerCustomer(app.services.deps, { fields: { name: `Fenced ${i}` }, ownerId }, systemActor, meta());
      const store = new SharedStore();
      let oldTrusted = true;
      const old = new ProjectionRunner(app.services.eventStore, store, allProjections, silentLogger);
      old.fenceWith(fence(1, () => oldTrusted));
      await old.start();
      await old.waitFor(await app.services.eventStore.headPosition(), 5_000);
      // A new leader (token 2) takes over and writes its checkpoints.
      const successor = new ProjectionRunner(app.services.eventStore, store, allProjections, silentLogger);
      successor.fenceWith(fence(2));
      await successor.start();
      await successor.stop();
      // The old one, still believing it leads, saves: refused by the token.
      await expect((old as unknown as { saveAll(): Promise<void> }).saveAll()).rejects.toBeInstanceOf(FencedError);
      // Once it cannot trust its lease, it does not even apply what comes.
      oldTrusted = false;
      const before = await readModelDigest(store, allProjections);
      await registerCustomer(app.services.deps, { fields: { name: 'After the takeover' }, ownerId }, systemActor, meta());
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await store.collection('customers').countDocuments({ name: 'After the takeover' })).toBe(0);
      expect(await readModelDigest(store, allProjections)).toBe(before);
      await old.stop();
      const checkpoints = await store.collection<{ _id: string; fence: number }>('_projections').find({});
      expect(new Set(checkpoints.map((c) => c.fence))).toEqual(new Set([2]));
    } finally {
      await app.close();
    }
  });
});
