import { describe, expect, it } from 'vitest';
import { EmbeddedReadStore } from '../../../src/infra/readstore/embedded.ts';
import { ErpBridgeStatus } from '../../../src/integrations/erp/status.ts';

describe('the ERP bridge status over instances', () => {
  it('sums the counts of every instance; the last error and troubled come from the one that heard from the topic last', async () => {
    const store = new EmbeddedReadStore();
    let now = Date.parse('2026-12-03T08:00:00Z');
    const clock = () => new Date(now);
    const worker = new ErpBridgeStatus(clock, store, 'worker-1');
    const api = new ErpBridgeStatus(clock, store, 'api-1');
    worker.handled('erp.customer', { status: 'applied' });
    worker.handled('erp.customer', { status: 'unchanged' });
    now += 1_000;
    api.handled('erp.customer', { status: 'rejected', reason: 'Not a valid erp.customer v1 value: name: Required' });
    api.handled('erp.product', { status: 'applied' });
    await worker.flush();
    expect(await api.combined()).toEqual([
      { topic: 'erp.customer', messages: 3, applied: 1, unchanged: 1, conflicts: 0, rejected: 1, lastMessageAt: '2026-12-03T08:00:01.000Z', lastError: 'Not a valid erp.customer v1 value: name: Required', lastErrorAt: '2026-12-03T08:00:01.000Z', troubled: true },
      { topic: 'erp.product', messages: 1, applied: 1, unchanged: 0, conflicts: 0, rejected: 0, lastMessageAt: '2026-12-03T08:00:01.000Z', lastError: null, lastErrorAt: null, troubled: false },
    ]);
    // A later message taken by the worker clears the trouble; the error stays the last one seen.
    now += 1_000;
    worker.handled('erp.customer', { status: 'applied' });
    await worker.flush(); // (its timer does it a second after a change)
    const [customers] = await api.combined();
    expect(customers).toMatchObject({ messages: 4, applied: 2, troubled: false, lastMessageAt: '2026-12-03T08:00:02.000Z', lastError: expect.stringContaining('name: Required') });
    // Each instance's own view (its /readyz and /metrics) stays its own.
    expect(api.snapshot().find((t) => t.topic === 'erp.customer')).toMatchObject({ messages: 1, troubled: true });
  });

  it('without a shared store, is the instance alone', async () => {
    const alone = new ErpBridgeStatus(() => new Date('2026-12-03T08:00:00Z'));
    alone.handled('erp.inventory', { status: 'applied' });
    expect(await alone.combined()).toEqual(alone.snapshot());
  });
});

describe('the ERP bridge status kept in the shared store', () => {
  it('keeps one document per topic however often instances start, adding each one\'s counts once', async () => {
    // A store whose writes take a moment, as a server's do.
    const store = new EmbeddedReadStore();
    const collection = store.collection('_erp_status');
    const updateOne = collection.updateOne.bind(collection);
    const slow = Object.assign(Object.create(collection) as typeof collection, {
      updateOne: async (...args: Parameters<typeof updateOne>) => (await new Promise((resolve) => setTimeout(resolve, 5)), updateOne(...args)),
    });
    store.collection = (() => slow) as never;
    const clock = () => new Date('2026-12-03T08:00:00Z');
    for (let start = 0; start < 5; start++) {
      const instance = new ErpBridgeStatus(clock, store, `worker-${start}`);
      instance.handled('erp.customer', { status: 'applied' });
      instance.handled('erp.product', { status: 'applied' });
      const writing = instance.flush();
      await new Promise((resolve) => setTimeout(resolve, 2));
      // A message handled while a flush writes, and flushes at once (the timer's, a status request's): each
      // message is added once.
      instance.handled('erp.customer', { status: 'unchanged' });
      await Promise.all([writing, instance.flush(), instance.flush(), instance.combined()]);
      await instance.flush();
    }
    expect((await store.collection('_erp_status').find({})).map((doc) => doc._id).sort()).toEqual(['erp.customer', 'erp.product']);
    const [customers, products] = await new ErpBridgeStatus(clock, store, 'api-1').combined();
    expect(customers).toMatchObject({ messages: 10, applied: 5, unchanged: 5, troubled: false });
    expect(products).toMatchObject({ messages: 5, applied: 5 });
  });

  it('counts what a failed write left out the next time, and still sums the per-instance documents of earlier versions', async () => {
    const store = new EmbeddedReadStore();
    await store.collection('_erp_status').insertOne({ _id: 'old-host:1:ab|erp.customer', instance: 'old-host:1:ab', topic: 'erp.customer', messages: 7, applied: 7, unchanged: 0, conflicts: 0, rejected: 0, lastMessageAt: '2026-12-01T00:00:00.000Z', lastError: null, lastErrorAt: null, troubled: false });
    const instance = new ErpBridgeStatus(() => new Date('2026-12-03T08:00:00Z'), store, 'worker-1');
    instance.handled('erp.customer', { status: 'rejected', reason: 'Not a valid erp.customer v1 value' });
    const collection = store.collection('_erp_status');
    const updateOne = collection.updateOne.bind(collection);
    let failing = true;
    const flaky = Object.assign(Object.create(collection) as typeof collection, { updateOne: (...args: Parameters<typeof updateOne>) => (failing ? Promise.reject(new Error('store away')) : updateOne(...args)) });
    store.collection = (() => flaky) as never;
    await expect(instance.flush()).rejects.toThrow('store away');
    failing = false;
    instance.handled('erp.customer', { status: 'applied' });
    const [customers] = await instance.combined();
    expect(customers).toMatchObject({ messages: 9, applied: 8, rejected: 1, lastError: 'Not a valid erp.customer v1 value', lastMessageAt: '2026-12-03T08:00:00.000Z', troubled: false });
  });
});
