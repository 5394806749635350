import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { automationCategory } from '../../src/domain/campaign/automation.ts';
import { toMessage } from '../../src/integrations/kafka/messages.ts';
import { startMarketingAutomation } from '../../src/integrations/marketing/automation.ts';
import type { EventConsumer } from '../../src/integrations/event-source.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { waitUntil } from '../support/wait.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** W3C Trace Context: one trace id from the request, through its events and Kafka, into what the consumers write. */
describe('trace context', () => {
  let app: TestApp;
  let consumer: EventConsumer;
  beforeAll(async () => {
    app = await startTestApp();
    consumer = await startMarketingAutomation(app.services);
  });
  afterAll(async () => {
    await consumer.close();
    await app.close();
  });
  const historyOf = async (customerId: string) => (await app.request('GET', `/api/v1/customers/${customerId}/history`)).body.items as { traceId?: string }[];

  it("continues the caller's trace: the answer names a span of it, the events and history carry its id, Kafka messages its traceparent", async () => {
    const created = await app.request('POST', '/api/v1/customers', { body: { name: 'Traced Trading' }, headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` } });
    expect(created.status).toBe(201);
    const answer = created.headers.get('traceparent')!;
    expect(answer).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(answer).not.toContain('00f067aa0ba902b7');
    expect((await historyOf(created.body.id)).map((item) => item.traceId)).toEqual([TRACE]);
    const [event] = await app.services.eventStore.readStream(`customer-${created.body.id}`);
    expect(event!.metadata.traceId).toBe(TRACE);
    expect(toMessage(event!).headers).toMatchObject({ traceparent: `00-${TRACE}-${event!.id.replaceAll('-', '').slice(-16)}-01` });
  });

  it('begins a trace for a request without one (or with one that is not valid), and says which', async () => {
    const cases: Record<string, string>[] = [{}, { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` }, { traceparent: 'garbage' }];
    for (const headers of cases) {
      const created = await app.request('POST', '/api/v1/customers', { body: { name: `Untraced ${Math.random()}` }, headers });
      const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(created.headers.get('traceparent')!)![1]!;
      expect(traceId).not.toBe('0'.repeat(32));
      expect((await historyOf(created.body.id)).map((item) => item.traceId)).toEqual([traceId]);
    }
  });

  it("goes on into what the marketing consumer writes for the request's events", async () => {
    const rules = [{ key: 'traced_call', name: 'Traced call', when: { eventType: 'CustomerRegistered' }, do: { action: 'create_task', subject: 'Call the new customer', dueInHours: 1 } }];
    expect((await app.request('PUT', '/api/v1/settings/marketing-automation', { body: rules })).status).toBe(200);
    const other = '0af7651916cd43dd8448eb211c80319c';
    const created = await app.request('POST', '/api/v1/customers', { body: { name: 'Automated Trading' }, headers: { traceparent: `00-${other}-b7ad6b7169203331-01` } });
    const [registered] = await app.services.eventStore.readStream(`customer-${created.body.id}`);
    let scheduled: { metadata: { traceId?: string } } | undefined;
    await waitUntil(async () => {
      scheduled = (await app.services.eventStore.readAll({ filter: { categories: [automationCategory] } })).find((e) => e.streamId.endsWith(registered!.id));
      return scheduled !== undefined;
    }, 20_000, () => 'the automation scheduled for the new customer');
    expect(scheduled!.metadata.traceId).toBe(other);
  });
});
