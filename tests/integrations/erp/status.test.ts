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
