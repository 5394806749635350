import { describe, expect, it } from 'vitest';
import { registerCustomer } from '../../src/commands/customers.ts';
import { findEmployeeByUsername, systemActor } from '../../src/commands/employees.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { EventLogSource } from '../../src/integrations/event-log-source.ts';
import { onceByEventId } from '../../src/integrations/once.ts';
import { startTestApp } from '../support/app.ts';
import { switchable } from '../support/switchable-store.ts';
import { waitUntil } from '../support/wait.ts';

describe('the event-log source while the read store is unreachable', () => {
  it('keeps retrying until it can read its checkpoint again, then goes on: no consumer stops for good', async () => {
    const app = await startTestApp();
    try {
      const store = switchable(new EmbeddedReadStore());
      const source = new EventLogSource(app.services.eventStore, store, silentLogger, { retryMs: 20 });
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

describe("an event-log consumer's inbox", () => {
  type Entry = { _id: string; consumer: string; eventId: string; position: number };

  it('keeps only the entries after its saved checkpoint, and still skips an event delivered again after a crash', async () => {
    const app = await startTestApp();
    try {
      const store = new EmbeddedReadStore();
      const inbox = store.collection<Entry>('_inbox');
      const source = new EventLogSource(app.services.eventStore, store, silentLogger, { retryMs: 20, forgetEvery: 5 });
      const handled: string[] = [];
      const handler = onceByEventId(store, 'inbox-test', async (event) => void handled.push(event.id));
      const consumer = await source.consume('inbox-test', ['customer'], handler);
      const ownerId = (await findEmployeeByUsername(app.services.deps, 'admin'))!.employeeId;
      for (let i = 0; i < 13; i++) await registerCustomer(app.services.deps, { fields: { name: `Inbox ${i}` }, ownerId }, systemActor, app.services.requestMeta('test'));
      const events = await app.services.eventStore.readAll({ filter: { categories: ['customer'] } });
      await waitUntil(async () => (await store.collection('_consumers').findOne({ _id: 'inbox-test' }))?.position === Number(events.at(-1)!.position), 5000, () => `all ${events.length} events (handled ${handled.length})`);
      await consumer.close();
      expect(handled).toEqual(events.map((event) => event.id));
      // Forgotten after every fifth event: what is left came after the last time, and is fewer than five.
      const lastForgotten = events[Math.floor(events.length / 5) * 5 - 1]!.position;
      const left = await inbox.find({ consumer: 'inbox-test' });
      expect(left.map((entry) => entry.eventId).sort()).toEqual(events.filter((event) => event.position > lastForgotten).map((event) => event.id).sort());
      expect(left.length).toBeLessThan(5);

      // A crash after the last event's inbox entry was saved and before its checkpoint: the log delivers it again, and it is skipped.
      await store.collection('_consumers').updateOne({ _id: 'inbox-test' }, { $set: { position: Number(events.at(-2)!.position) } });
      const delivered: string[] = [];
      const resumed = await source.consume('inbox-test', ['customer'], async (event) => {
        delivered.push(event.id);
        await handler(event);
      });
      await waitUntil(() => delivered.length === 1, 5000, () => 'the last event again');
      await resumed.close();
      expect(delivered).toEqual([events.at(-1)!.id]);
      expect(handled).toHaveLength(events.length);

      // An operator removes the checkpoint (see "Checkpoints ahead of the log"): the whole history comes again, and
      // the consumer's handled-through mark stands for the entries it no longer keeps: no second effect.
      await store.collection('_consumers').deleteOne({ _id: 'inbox-test' });
      const replayed: string[] = [];
      const again = await source.consume('inbox-test', ['customer'], async (event) => {
        replayed.push(event.id);
        await handler(event);
      });
      await waitUntil(() => replayed.length === events.length, 5000, () => `the history again (${replayed.length})`);
      await again.close();
      expect(handled).toHaveLength(events.length);
    } finally {
      await app.close();
    }
  });

  it('loses, when the consumer starts, the entries an earlier version kept before its checkpoint; other consumers keep theirs', async () => {
    const app = await startTestApp();
    try {
      const store = new EmbeddedReadStore();
      const inbox = store.collection<Entry>('_inbox');
      const entry = (consumer: string, position: number) => ({ insertOne: { document: { _id: `${consumer}:e${position}`, consumer, eventId: `e${position}`, position } } });
      await inbox.bulkWrite(Array.from({ length: 4500 }, (_, i) => entry('old-consumer', i + 1)));
      await inbox.bulkWrite([entry('other-consumer', 1), entry('other-consumer', 2)]);
      const head = Number(await app.services.eventStore.headPosition());
      await store.collection('_consumers').insertOne({ _id: 'old-consumer', position: head });
      const consumer = await new EventLogSource(app.services.eventStore, store, silentLogger, { retryMs: 20 }).consume('old-consumer', ['customer'], async () => {});
      await consumer.close();
      expect(await inbox.countDocuments({ consumer: 'old-consumer', position: { $lte: head } })).toBe(0);
      expect(await inbox.countDocuments({ consumer: 'old-consumer' })).toBe(4500 - head);
      expect(await inbox.countDocuments({ consumer: 'other-consumer' })).toBe(2);
    } finally {
      await app.close();
    }
  });
});

describe('an event-log consumer that started far behind the log', () => {
  it('compacts the heap once, when it has caught up with the head it started behind, and not for what follows', async () => {
    const app = await startTestApp();
    try {
      const ownerId = (await findEmployeeByUsername(app.services.deps, 'admin'))!.employeeId;
      const register = (name: string) => registerCustomer(app.services.deps, { fields: { name }, ownerId }, systemActor, app.services.requestMeta('test'));
      for (let i = 0; i < 12; i++) await register(`Behind ${i}`);
      const behind = (await app.services.eventStore.readAll({ filter: { categories: ['customer'] } })).length;
      const compactions: number[] = [];
      const compactHeap = () => (compactions.push(Date.now()), { heapBeforeMb: 2, heapAfterMb: 1, ms: 0 });
      const store = new EmbeddedReadStore();
      const seen: string[] = [];
      const source = new EventLogSource(app.services.eventStore, store, silentLogger, { retryMs: 20, compactAfterEvents: behind, compactHeap });
      const consumer = await source.consume('far-behind', ['customer'], async (event) => void seen.push(event.id));
      await waitUntil(() => seen.length === behind, 5000, () => `the ${behind} events (seen ${seen.length})`);
      await waitUntil(() => compactions.length === 1, 5000, () => 'the compaction');
      await register('After catching up');
      await waitUntil(() => seen.length === behind + 1, 5000, () => 'the live event');
      await consumer.close();
      expect(compactions).toHaveLength(1);

      // One event short of the threshold behind: no compaction.
      const short = new EventLogSource(app.services.eventStore, new EmbeddedReadStore(), silentLogger, { retryMs: 20, compactAfterEvents: behind + 2, compactHeap });
      const count: string[] = [];
      const shortConsumer = await short.consume('less-behind', ['customer'], async (event) => void count.push(event.id));
      await waitUntil(() => count.length === behind + 1, 5000, () => 'every event');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await shortConsumer.close();
      expect(compactions).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});

describe("an event-log consumer's handled-through mark past the log's head", () => {
  it('is lowered to the head when the consumer starts: events that take lost positions again are handled', async () => {
    const app = await startTestApp();
    try {
      const store = new EmbeddedReadStore();
      const head = Number(await app.services.eventStore.headPosition());
      // The log lost its last events after the consumer had handled them (a power cut, a restored backup).
      await store.collection('_inbox').insertOne({ _id: 'lost-tail:handled-through', through: head + 1_000 });
      await store.collection('_consumers').insertOne({ _id: 'lost-tail', position: head });
      const handled: string[] = [];
      const source = new EventLogSource(app.services.eventStore, store, silentLogger, { retryMs: 20 });
      const consumer = await source.consume('lost-tail', ['customer'], onceByEventId(store, 'lost-tail', async (event) => void handled.push(event.id)));
      const ownerId = (await findEmployeeByUsername(app.services.deps, 'admin'))!.employeeId;
      const { customerId } = await registerCustomer(app.services.deps, { fields: { name: 'After the loss' }, ownerId }, systemActor, app.services.requestMeta('test'));
      const created = (await app.services.eventStore.readStream(`customer-${customerId}`))[0]!;
      expect(Number(created.position)).toBeLessThanOrEqual(head + 1_000);
      await waitUntil(() => handled.includes(created.id), 5000, () => 'the new event');
      await consumer.close();
      expect(await store.collection('_inbox').findOne({ _id: 'lost-tail:handled-through' })).toMatchObject({ through: head });
    } finally {
      await app.close();
    }
  });
});
