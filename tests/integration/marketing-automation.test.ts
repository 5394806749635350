import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { startMarketingAutomation } from '../../src/integrations/marketing/automation.ts';
import type { EventConsumer } from '../../src/integrations/event-source.ts';
import { automationCategory } from '../../src/domain/campaign/automation.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';
import { serverUrl } from '../support/servers.ts';
import { waitUntil } from '../support/wait.ts';

const brokers = serverUrl('KAFKA_BROKERS');
const sources = [
  { name: 'the event log (embedded default)', env: {} as Record<string, string> },
  ...(brokers ? [{ name: 'Kafka consumer groups', env: { KAFKA_BROKERS: brokers, KAFKA_TOPIC_PARTITIONS: '3' } }] : []),
];

/**
 * The marketing consumer runs automation rules (data) on the published events: a new contact gets the welcome mail
 * an hour later, a lead from the web form gets its owner a task. A rule fires once per event across a restart and
 * a redelivery (a second consumer group reading everything again), and the delay survives the restart.
 */
describe.each(sources)('marketing automation on $name', ({ env }) => {
  const clock = new ManualClock(new Date('2027-05-10T01:00:00.000Z'));
  const dataDir = mkdtempSync(join(tmpdir(), 'crm-automation-'));
  let app: TestApp;
  const consumers: EventConsumer[] = [];
  const open = async () => {
    app = await startTestApp({ ...env, CRM_DATA_DIR: dataDir }, { clock });
    consumers.push(await startMarketingAutomation(app.services, `marketing-${randomUUID().slice(0, 8)}`));
  };
  beforeAll(open, 120_000);
  afterAll(async () => {
    for (const consumer of consumers) await consumer.close();
    await app?.close();
  });

  /** The automations recorded so far: each one's stream and events. */
  const automations = async () => {
    const events = (await app.services.eventStore.readAll({ maxCount: 1_000_000 })).filter((e) => e.streamId.startsWith(`${automationCategory}-`));
    const byStream = new Map<string, string[]>();
    for (const event of events) byStream.set(event.streamId, [...(byStream.get(event.streamId) ?? []), event.type]);
    return byStream;
  };
  /** The mails the outbox holds that an automation sent. */
  const automated = () => {
    const dir = join(dataDir, 'outbox');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .map((f) => readFileSync(join(dir, f), 'utf8')).filter((mail) => /^X-CRM-Automation:/im.test(mail));
  };
  const tick = async () => {
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 30_000);
    return app.services.timers.tick();
  };

  it('schedules once per rule and event, waits out the delay, acts once; a restart and a redelivery change nothing', async () => {
    // Conditions of this run's own (Kafka's topics also hold earlier runs' events, which a new group reads again).
    const run = randomUUID().slice(0, 8);
    const seller = await app.userWithToken(`auto.seller.${randomUUID().slice(0, 6)}`, ['salesperson']);
    const templateId = (await app.request('POST', '/api/v1/email-templates', { body: { name: '欢迎', subject: { 'zh-CN': '欢迎，{{contact.name}}' }, html: { 'zh-CN': '<p>{{contact.name}} 您好，欢迎成为 {{customer.name}} 的联系人。</p>' } } })).body.id as string;
    expectProblem(await app.request('PUT', '/api/v1/settings/marketing-automation', { body: [{ key: 'welcome', name: '欢迎邮件', when: { eventType: 'ContactAdded' }, afterMinutes: 60, do: { action: 'send_template', templateId: '01900000-0000-7000-8000-00000000dead' } }] }), 404, 'email_template.not_found');
    const rules = [
      { key: 'welcome', name: '新联系人欢迎邮件', when: { eventType: 'ContactAdded', conditions: { 'fields.title': `采购 ${run}` } }, afterMinutes: 60, do: { action: 'send_template', templateId } },
      { key: 'web_lead', name: '网站线索：当天回电', when: { eventType: 'LeadCreated', conditions: { 'fields.source': `web ${run}` } }, afterMinutes: 0, do: { action: 'create_task', subject: '回电网站线索', dueInHours: 4 } },
    ];
    expect((await app.request('PUT', '/api/v1/settings/marketing-automation', { body: rules })).status).toBe(200);
    const stored = (await app.request('GET', '/api/v1/settings/marketing-automation')).body as { key: string; activeFrom: string }[];
    expect(stored.map((r) => r.activeFrom)).toEqual([clock.now().toISOString(), clock.now().toISOString()]);

    const customerId = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: `自动化客户 ${randomUUID().slice(0, 6)}` } })).body.id as string;
    await app.request('POST', '/api/v1/contacts', { token: seller.token, body: { customerId, name: '周经理', title: `采购 ${run}`, mobile: '13900001234', email: 'zhou@example.com' } });
    await app.request('POST', '/api/v1/contacts', { token: seller.token, body: { customerId, name: '财务', title: '财务', mobile: '13900001235', email: 'finance@example.com' } });
    await app.request('POST', '/api/v1/leads', { token: seller.token, body: { company: '网站访客公司', person: '吴先生', source: `web ${run}` } });
    await app.request('POST', '/api/v1/leads', { token: seller.token, body: { company: '展会访客', person: '郑女士', source: 'fair' } });
    await waitUntil(async () => (await automations()).size === 2, 60_000, () => 'two automations scheduled');

    // The task is due at once; the welcome mail an hour after the contact was added.
    expect(await tick()).toBe(1);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 30_000);
    const tasks = (await app.request('GET', '/api/v1/tasks?limit=50', { token: seller.token })).body.items as { subject: string; customerId?: string }[];
    expect(tasks.filter((t) => t.subject === '回电网站线索')).toHaveLength(1);
    expect(automated()).toHaveLength(0);
    clock.advance(61 * 60_000);
    expect(await tick()).toBe(1);
    const done = (await app.services.eventStore.readAll({ maxCount: 1_000_000 })).filter((e) => e.type === 'AutomationDone').map((e) => e.data);
    expect(done).toEqual(expect.arrayContaining([expect.objectContaining({ outcome: 'sent' })]));
    expect(automated()).toHaveLength(1);
    expect(automated()[0]).toContain('zhou@example.com');
    expect([...(await automations()).values()].map((types) => types.join(','))).toEqual(expect.arrayContaining(['AutomationScheduled,AutomationMailSending,AutomationDone', 'AutomationScheduled,AutomationDone']));

    // A redelivery: another consumer group reads every event again. Nothing is scheduled twice.
    const before = await automations();
    consumers.push(await startMarketingAutomation(app.services, `marketing-replay-${randomUUID().slice(0, 8)}`));
    const head = await app.services.eventStore.headPosition();
    await new Promise((resolve) => setTimeout(resolve, brokers && env.KAFKA_BROKERS ? 8000 : 1500));
    expect((await app.services.eventStore.readAll({ maxCount: 1_000_000 })).filter((e) => e.position > head).map((e) => `${e.streamId} ${e.type}`)).toEqual([]);
    expect(await automations()).toEqual(before);

    // A restart: nothing is due again, nothing is sent again; a new contact after it gets its mail once.
    for (const consumer of consumers.splice(0)) await consumer.close();
    await app.close();
    await open();
    expect(await tick()).toBe(0);
    expect(automated()).toHaveLength(1);
    await app.request('POST', '/api/v1/contacts', { body: { customerId, name: '王助理', title: `采购 ${run}`, mobile: '13900005678', email: 'wang.assistant@example.com' } });
    await waitUntil(async () => (await automations()).size === 3, 60_000, () => 'the new contact scheduled');
    clock.advance(61 * 60_000);
    expect(await tick()).toBe(1);
    expect(await tick()).toBe(0);
    expect(automated()).toHaveLength(2);
  });
});
