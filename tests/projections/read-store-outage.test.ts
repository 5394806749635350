import { describe, expect, it } from 'vitest';
import { registerCustomer } from '../../src/commands/customers.ts';
import { findEmployeeByUsername, systemActor } from '../../src/commands/employees.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { allProjections } from '../../src/projections/all.ts';
import { readModelDigest } from '../../src/projections/digest.ts';
import { ProjectionRunner } from '../../src/projections/runner.ts';
import { startTestApp } from '../support/app.ts';
import { switchable } from '../support/switchable-store.ts';

describe('projections when the read store is unreachable', () => {
  it('pause, then resume from the last event applied once it is back: nothing lost, nothing marked failed', async () => {
    const app = await startTestApp();
    try {
      const store = switchable(new EmbeddedReadStore());
      const runner = new ProjectionRunner(app.services.eventStore, store, allProjections, silentLogger);
      runner.retryMs = 50;
      await runner.start();
      const meta = () => app.services.requestMeta('test');
      const ownerId = (await findEmployeeByUsername(app.services.deps, 'admin'))!.employeeId;
      await registerCustomer(app.services.deps, { fields: { name: 'Before the outage' }, ownerId }, systemActor, meta());
      await runner.waitFor(await app.services.eventStore.headPosition(), 5000);
      store.down = true;
      for (let i = 0; i < 5; i++) await registerCustomer(app.services.deps, { fields: { name: `During the outage ${i}` }, ownerId }, systemActor, meta());
      const head = await app.services.eventStore.headPosition();
      await expect(runner.waitFor(head, 300)).rejects.toThrow(/not reached/);
      store.down = false;
      await runner.waitFor(head, 5000);
      await runner.stop();
      expect(runner.status().filter((s) => s.failed)).toEqual([]);
      await app.services.runner.waitFor(head, 5000);
      expect(await readModelDigest(store, allProjections)).toBe(await readModelDigest(app.services.readStore, allProjections));
    } finally {
      await app.close();
    }
  });

  it('answer API reads with 503 and Retry-After, not 500', async () => {
    const app = await startTestApp();
    try {
      const token = await app.login();
      const original = app.services.readStore.collection.bind(app.services.readStore);
      const down = switchable({ ...app.services.readStore, collection: original });
      down.down = true;
      app.services.readStore.collection = ((name: string) => (name === 'customers' ? down.collection(name) : original(name))) as typeof original;
      const response = await app.request('GET', '/api/v1/customers', { token });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('2');
      expect(response.body.code).toBe('read_store_unavailable');
    } finally {
      await app.close();
    }
  });
});
