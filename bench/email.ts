import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmailTemplate, freezeAudience, startSend } from '../src/commands/campaign-mail.ts';
import { createCampaign } from '../src/commands/campaigns.ts';
import { systemActor } from '../src/commands/employees.ts';
import { type CampaignMember, memberIdFor } from '../src/domain/campaign/members.ts';
import { loadConfig } from '../src/infra/config.ts';
import { silentLogger } from '../src/infra/logger.ts';
import { openServices } from '../src/app/wiring.ts';

/**
 * `email_send_per_s`: a campaign's send of `members` mails into a real SMTP server (Mailpit), through the service's
 * own sender on the embedded store (a data directory, as `npm start` keeps it): the outbox events before and after
 * each SMTP transaction, rendering, signed links, pooled SMTP connections. `ratePerSecond` is the configured cap.
 */
export async function emailSendBench(smtpUrl: string, members: number, ratePerSecond: number, concurrency: number) {
  const config = loadConfig({ LOG_LEVEL: 'error', CRM_ADMIN_PASSWORD: 'bench-password-1', CRM_DATA_DIR: mkdtempSync(join(tmpdir(), 'crm-bench-mail-')), SMTP_URL: smtpUrl, CRM_MAIL_RATE_PER_S: String(ratePerSecond), CRM_MAIL_CONCURRENCY: String(concurrency), CRM_PUBLIC_URL: 'https://crm.example.com' });
  const services = await openServices(config, { logger: silentLogger, startTimers: false });
  const meta = (name: string) => services.requestMeta(name);
  const { id: templateId } = await createEmailTemplate(services.deps, { name: 'bench', subject: { 'zh-CN': '{{contact.name}}，春季新品' }, html: { 'zh-CN': '<p>{{contact.name}} 您好，{{customer.name}}</p><p><a href="https://shop.example.com/spring">新品</a> <a href="https://shop.example.com/price">价格</a></p><p><a href="{{unsubscribeUrl}}">退订</a></p>' } }, systemActor, meta('bench'));
  await services.runner.waitFor(await services.eventStore.headPosition(), 30_000);
  const admin = (await services.readStore.collection('employees').findOne({ username: 'admin' }))!;
  const { campaignId } = await createCampaign(services.deps, { fields: { name: 'bench', type: 'email', startsOn: '2027-03-01', endsOn: '2027-03-31', budget: { amount: 0, currency: 'CNY' } }, ownerId: admin._id }, systemActor, meta('bench'));
  const list: CampaignMember[] = Array.from({ length: members }, (_, i) => {
    const email = `bench-${campaignId.slice(0, 8)}-${i}@example.com`;
    return { memberId: memberIdFor(email), resource: 'leads', recordId: `lead-${i}`, email, name: `客户 ${i}`, locale: 'zh-CN', ownerId: null, departmentPath: null, merge: { contact: { name: `客户 ${i}` }, customer: { name: `公司 ${i}` } } };
  });
  await freezeAudience(services.deps, campaignId, { filter: { resource: 'leads', query: {} }, exclude: [], excludeEmails: 0, members: list, excluded: 0 }, systemActor, meta('bench'));
  await startSend(services.deps, campaignId, templateId, undefined, systemActor, meta('bench-send'));
  const started = performance.now();
  await services.campaigns.send(campaignId);
  const seconds = (performance.now() - started) / 1000;
  await services.close();
  return { members, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(members / seconds), ratePerSecond, concurrency };
}
