import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildServer, stopChild } from '../support/child.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { Mailpit, StallingSmtpProxy } from '../support/mailpit.ts';
import { serverUrl, skipReason } from '../support/servers.ts';

const smtp = serverUrl('MAILPIT_SMTP_URL');
const api = serverUrl('MAILPIT_API_URL');
const CNY = (amount: number) => ({ amount, currency: 'CNY' });
const PUBLIC_URL = 'https://crm.example.com';

/** A campaign's whole flow against a real SMTP server (Mailpit), read back through Mailpit's API. */
describe.skipIf(!smtp || !api)(`email campaigns through SMTP (Mailpit) ${smtp ? '' : skipReason('MAILPIT_SMTP_URL')}`, () => {
  const mailpit = new Mailpit(api!);
  /** Every run's mail carries its own marker in the subject, so earlier runs' mail in Mailpit does not count. */
  const run = randomUUID().slice(0, 8);

  /** An app on a data directory, mailing through `smtpUrl`. */
  const open = (dataDir: string, smtpUrl = smtp!) => startTestApp({ CRM_DATA_DIR: dataDir, SMTP_URL: smtpUrl, CRM_PUBLIC_URL: PUBLIC_URL, CRM_MAIL_RATE_PER_S: '1000', CRM_MAIL_CONCURRENCY: '4' });
  const caughtUp = async (app: TestApp) => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 30_000);
  const post = async (app: TestApp, path: string, body: unknown, token?: string) => {
    const response = await app.request('POST', path, { body, ...(token ? { token } : {}) });
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  /** `count` leads with addresses `<prefix>-<i>@example.com`, created over HTTP, 25 at a time. */
  async function leads(app: TestApp, prefix: string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 25)
      await Promise.all(Array.from({ length: Math.min(25, count - i) }, (_, j) => post(app, '/api/v1/leads', { company: `${prefix} 公司 ${i + j}`, person: `客户 ${i + j}`, email: `${prefix}-${i + j}@example.com`, source: prefix })));
  }
  /** A campaign with a template whose subject carries `marker`, its audience frozen from the leads of `source`. */
  async function campaign(app: TestApp, marker: string, source: string) {
    const templateId = (await post(app, '/api/v1/email-templates', { name: marker, subject: { 'zh-CN': `${marker} {{contact.name}}` }, html: { 'zh-CN': '<p>{{contact.name}} 您好</p><p><a href="https://shop.example.com/new">新品</a></p><p><a href="{{unsubscribeUrl}}">退订</a></p>' } })).id as string;
    const campaignId = (await post(app, '/api/v1/campaigns', { name: marker, type: 'email', startsOn: '2027-03-01', endsOn: '2027-03-31', budget: CNY(100_000) })).id as string;
    await caughtUp(app);
    const audience = await post(app, `/api/v1/campaigns/${campaignId}/audience`, { filter: { resource: 'leads', query: { source } } });
    return { templateId, campaignId, count: audience.count as number };
  }
  const sent = async (app: TestApp, campaignId: string) => {
    await app.services.campaigns.send(campaignId);
    await caughtUp(app);
    return (await app.request('GET', `/api/v1/campaigns/${campaignId}`)).body.send;
  };
  /** How many mails each address got. */
  const perAddress = (messages: { To: { Address: string }[] }[]) => {
    const counts = new Map<string, number>();
    for (const message of messages) for (const to of message.To) counts.set(to.Address, (counts.get(to.Address) ?? 0) + 1);
    return counts;
  };

  let app: TestApp;
  beforeAll(async () => {
    app = await open(mkdtempSync(join(tmpdir(), 'crm-mailpit-')));
  });
  afterAll(async () => app?.close());

  it('sends a test, then a batch of 1,000 members: one mail each, with its own Message-ID and one-click unsubscribe headers', async () => {
    await leads(app, `batch${run}`, 1000);
    await caughtUp(app);
    const marker = `[batch ${run}]`;
    const { templateId, campaignId, count } = await campaign(app, marker, `batch${run}`);
    expect(count).toBe(1000);

    const test = await post(app, `/api/v1/campaigns/${campaignId}/test-send`, { templateId, to: [`tester-${run}@example.com`] });
    const tests = await mailpit.waitFor(`to:"tester-${run}@example.com"`, 1);
    expect(tests.map((m) => `<${m.MessageID}>`)).toEqual(test.messageIds);
    expect(tests[0]!.Subject).toMatch(/^\[测试 TEST\] /);

    const started = Date.now();
    expect((await app.request('POST', `/api/v1/campaigns/${campaignId}/send`, { body: { templateId } })).status).toBe(202);
    const send = await sent(app, campaignId);
    const seconds = (Date.now() - started) / 1000;
    expect(send).toMatchObject({ status: 'completed', delivered: 1000, failed: 0, skipped: 0 });
    // (The test mail's subject has the marker too.)
    const received = (await mailpit.waitFor(`subject:"${marker}"`, 1001)).filter((m) => !m.Subject.startsWith('[测试 TEST]'));
    const counts = perAddress(received);
    expect(counts.size).toBe(1000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(received.map((m) => m.MessageID)).size).toBe(1000);
    const headers = await mailpit.headers(received[0]!.ID);
    expect(headers['List-Unsubscribe-Post']).toEqual(['List-Unsubscribe=One-Click']);
    expect(headers['List-Unsubscribe']![0]).toMatch(/^<https:\/\/crm\.example\.com\/api\/v1\/public\/unsubscribe\/[A-Za-z0-9_-]+>$/);
    console.info(`campaign send into Mailpit: 1000 mails in ${seconds.toFixed(1)} s (${Math.round(1000 / seconds)}/s)`);
  });

  it('verifies the tracking pixel and links from the mail Mailpit received, refuses tampered ones, and honours unsubscribe and suppression', async () => {
    await leads(app, `track${run}`, 5);
    await caughtUp(app);
    const marker = `[track ${run}]`;
    const first = await campaign(app, marker, `track${run}`);
    // A second campaign to the same people, frozen now: the unsubscribe below must still keep its mail from them.
    const second = await campaign(app, `[again ${run}]`, `track${run}`);
    await post(app, `/api/v1/campaigns/${first.campaignId}/send`, { templateId: first.templateId });
    await sent(app, first.campaignId);
    const [message] = await mailpit.waitFor(`to:"track${run}-0@example.com" subject:"${marker}"`, 1);
    const body = await mailpit.message(message!.ID);
    const local = (url: string) => url.replace(PUBLIC_URL, app.baseUrl);
    const pixel = /<img src="([^"]+)"/.exec(body.HTML)![1]!.replace(/&amp;/g, '&');
    const link = /<a href="([^"]+\/t\/click\/[^"]+)"/.exec(body.HTML)![1]!.replace(/&amp;/g, '&');
    expect((await fetch(local(pixel))).status).toBe(200);
    const click = await fetch(local(link), { redirect: 'manual' });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://shop.example.com/new');
    // The plain-text part has the tracked link too.
    expect(body.Text).toContain('/api/v1/public/t/click/');
    // Tampered: one character of the token changed, or a token cut short.
    const token = link.split('/').at(-1)!;
    for (const forged of [`${token.slice(0, -5)}${token.at(-5) === 'x' ? 'y' : 'x'}${token.slice(-4)}`, token.slice(0, -10)]) {
      const refused = await fetch(`${app.baseUrl}/api/v1/public/t/click/${forged}`, { redirect: 'manual' });
      expect(refused.status).toBe(404);
      expect(refused.headers.get('location')).toBeNull();
    }

    // Unsubscribe through the List-Unsubscribe URL of the mail: GET changes nothing, POST (one-click) does.
    const unsubscribe = local((await mailpit.headers(message!.ID))['List-Unsubscribe']![0]!.slice(1, -1));
    expect((await fetch(unsubscribe)).status).toBe(200);
    expect((await app.request('GET', `/api/v1/consents?email=track${run}-0@example.com`)).body.emailConsent).toBe('unknown');
    expect((await fetch(unsubscribe, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })).status).toBe(200);
    expect((await app.request('GET', `/api/v1/consents?email=track${run}-0@example.com`)).body.emailConsent).toBe('withdrawn');

    // The second campaign skips the suppressed address at send time.
    await post(app, `/api/v1/campaigns/${second.campaignId}/send`, { templateId: second.templateId });
    expect(await sent(app, second.campaignId)).toMatchObject({ delivered: 4, skipped: 1 });
    const again = await mailpit.waitFor(`subject:"[again ${run}]"`, 4);
    expect(again.map((m) => m.To[0]!.Address).sort()).toEqual([1, 2, 3, 4].map((i) => `track${run}-${i}@example.com`));
    const members = (await app.request('GET', `/api/v1/campaigns/${second.campaignId}/members?status=unsubscribed`)).body;
    expect(members.items.map((m: { email: string }) => m.email)).toEqual([`track${run}-0@example.com`]);
  });

  it('a sender killed in the middle of a send and restarted mails every member exactly once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-mailpit-crash-'));
    const members = 200;
    const marker = `[crash ${run}]`;
    // Prepared in-process on the data directory, then closed: the send runs in a server process of its own.
    const setup = await open(dataDir);
    await leads(setup, `crash${run}`, members);
    await caughtUp(setup);
    const { templateId, campaignId, count } = await campaign(setup, marker, `crash${run}`);
    expect(count).toBe(members);
    const marketer = await setup.userWithToken(`crash.marketer.${run}`, ['manager']);
    await setup.close();

    // The server mails through a proxy that lets 80 mails reach Mailpit and then holds the rest mid-transaction.
    const target = new URL(smtp!);
    const proxy = new StallingSmtpProxy({ host: target.hostname, port: Number(target.port) }, 80);
    const proxyPort = await proxy.listen();
    const server = await startChildServer({ CRM_DATA_DIR: dataDir, SMTP_URL: `smtp://127.0.0.1:${proxyPort}`, CRM_PUBLIC_URL: PUBLIC_URL, CRM_MAIL_RATE_PER_S: '1000' }, ['MONGO_URL', 'KAFKA_BROKERS']);
    try {
      const started = await fetch(`${server.baseUrl}/api/v1/campaigns/${campaignId}/send`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${marketer.token}` }, body: JSON.stringify({ templateId }) });
      expect(started.status, await started.clone().text()).toBe(202);
      const until = Date.now() + 60_000;
      while (proxy.stalledAt === undefined && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(proxy.stalledAt).toBeDefined();
      // Let the server record the answers to what passed, then kill it while it waits on the held mails.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await stopChild(server, 'SIGKILL');
    } finally {
      await stopChild(server, 'SIGKILL');
      await proxy.close();
    }
    expect((await mailpit.waitFor(`subject:"${marker}"`, 80, 5000)).length).toBe(80);

    // Restarted on the same data directory, straight to Mailpit: the send resumes where it stopped.
    const restarted = await open(dataDir);
    try {
      await caughtUp(restarted);
      await restarted.services.campaigns.resume();
      const send = await sent(restarted, campaignId);
      expect(send).toMatchObject({ status: 'completed', delivered: members, failed: 0 });
      const received = await mailpit.waitFor(`subject:"${marker}"`, members);
      const counts = perAddress(received);
      expect(counts.size).toBe(members);
      expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      // The mails held at the crash went out again with the Message-ID recorded before their first attempt.
      expect(new Set(received.map((m) => m.MessageID)).size).toBe(members);
    } finally {
      await restarted.close();
    }
  });
});
