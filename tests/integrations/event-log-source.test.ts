import { describe, expect, it } from 'vitest';
import { registerCustomer } from '../../src/commands/customers.ts';
import { findEmployeeByUsername, systemActor } from '../../src/commands/employees.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { EventLogSource } from '../../src/integrations/event-log-source.ts';
import { startTestApp } from '../support/app.ts';
import { switchable } from '../support/switchable-store.ts';
import { waitUntil } from '../support/wait.ts';

describe('the event-log source while the read store is unreachable', () => {
  it('keeps retrying until it can read its checkpoint again, then goes on: no consumer stops for good', async () => {
    const app = await startTestApp();
    try {
      const store = switchable(new EmbeddedReadStore());
      const source = new EventLogSource(app.services.eventStore, store, silentLogger, 20);
      const seen: string[] = [];
      const consumer = await source.consume('test-consumer', ['customer'], async (event) => void seen.push(event.id));
      const ownerId = (await findEmployeeByUsername(app.services.deps, 'admin'))!.employeeId;
      const customer = async (name: string) => {
        const result = await registerCustomer(app.services.deps, { fields: { name }, ownerId }, systemActor, app.services.requestMeta('test'));
        return (await app.services.eventStore.readStream(`customer-${result.customerId}`))[0]!.id;
      };
      const before = await customer('Before the outage');
      await waitUntil(() => seen.includes(before), 5000, () => 'the first event');
      // Its checkpoint cannot be saved, nor read back by the retries, for several retry periods.
      store.down = true;
      const during = await customer('During the outage');
      await new Promise((resolve) => setTimeout(resolve, 200));
      store.down = false;
      const after = await customer('After the outage');
      await waitUntil(() => seen.includes(after), 5000, () => `the event after the outage (seen: ${seen.length})`);
      expect(seen).toContain(during);
      await consumer.close();
    } finally {
      await app.close();
    }
  });
});
