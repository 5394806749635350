import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startErpOutbound } from '../../../src/integrations/erp/outbound.ts';
import { httpTransport, masterData, simulateErp } from '../../../src/integrations/erp/simulator.ts';
import { CUSTOMERS } from '../../../src/projections/customers.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { waitUntil } from '../../support/wait.ts';

const options = { customers: 20, products: 5, inventory: 10, duplicateEvery: 5, outOfOrderEvery: 4, malformed: 2, prefix: 'T' };

describe('the ERP simulator (npm run erp:simulate) against the embedded default, over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('makes the master data it is told to: duplicates, late versions and malformed messages included', () => {
    const messages = masterData(options);
    const customers = messages.filter((m) => m.topic === 'erp.customer');
    // 20 customers, 5 of them late (v2 then v1), 4 of them twice, and one malformed customer message.
    expect(customers).toHaveLength(20 + 5 + 4 + 1);
    expect(messages.filter((m) => m.topic === 'erp.product')).toHaveLength(5 + 1 + 1);
    expect(messages.filter((m) => m.topic === 'erp.inventory')).toHaveLength(10);
  });

  it('syncs its master data into the CRM and acknowledges the orders the CRM confirms', async () => {
    const token = await app.login();
    const owner = await app.userWithToken('sim.owner', ['salesperson']);
    expect((await app.request('PUT', '/api/v1/settings/erp', { body: { defaultOwnerId: owner.userId } })).status).toBe(200);
    const outbound = await startErpOutbound(app.services);
    const run = await simulateErp(httpTransport(app.baseUrl, token, 20), options);
    try {
      await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
      const customers = app.services.readStore.collection(CUSTOMERS);
      expect(await customers.countDocuments({ erpCode: { $regex: '^TC' } })).toBe(20);
      expect(await customers.findOne({ erpCode: 'TC000004' })).toMatchObject({ name: '模拟客户 T 4 v2' });
      const status = (await app.request('GET', '/api/v1/integrations/erp/status')).body;
      expect(status.topics.find((t: { topic: string }) => t.topic === 'erp.customer')).toMatchObject({ applied: 20, unchanged: 9, rejected: 1 });

      const customer = await customers.findOne({ erpCode: 'TC000001' });
      const product = await app.services.readStore.collection('products').findOne({ erpCode: 'TP000001' });
      const order = await app.request('POST', '/api/v1/orders', { body: { customerId: customer!._id, lines: [{ productId: product!._id, quantity: 3 }] } });
      expect((await app.request('POST', `/api/v1/orders/${order.body.id}/confirm`, { body: {} })).status).toBe(200);
      await waitUntil(async () => (await app.request('GET', `/api/v1/orders/${order.body.id}`)).body.erpAcknowledgement !== undefined, 15_000, () => 'the ERP acknowledgement');
      expect((await app.request('GET', `/api/v1/orders/${order.body.id}`)).body.erpAcknowledgement).toMatchObject({ erpDocumentNumber: 'XSDD-T000001', status: 'accepted' });
    } finally {
      expect(await run.stop()).toBe(1);
      await outbound.close();
    }
  });
});
