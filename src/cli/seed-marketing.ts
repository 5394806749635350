import type { Services } from '../app/wiring.ts';
import { createEmailTemplate, freezeAudience, type MailDeps, recordEngagement, runSend, startSend } from '../commands/campaign-mail.ts';
import { createCampaign, moveCampaignStage, recordCampaignCost } from '../commands/campaigns.ts';
import { systemActor } from '../commands/employees.ts';
import { createLead } from '../commands/leads.ts';
import { createOpportunity, moveOpportunity } from '../commands/opportunities.ts';
import { type CampaignMember, memberIdFor } from '../domain/campaign/members.ts';
import { prng } from './seed-data.ts';

const CNY = (yuan: number) => ({ amount: Math.round(yuan * 100), currency: 'CNY' });
const DAY_MS = 86_400_000;
const PEOPLE = ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.49', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)'];
const SCANNER = 'Mimecast Security Scanner/2.1';

/** What the first part of the marketing seed leaves for the second. */
export interface SeededMailing {
  marketerId: string;
  mailing: string;
  members: CampaignMember[];
  customers: { _id: string; name?: unknown; ownerId?: unknown }[];
}

/**
 * The email campaign of the demo, up to its send: a template, its stages, an audience of up to 60 customer contacts,
 * and the send itself (mails into the outbox). Seeded early, so that the engagement the second part records comes
 * a while after delivery, as people's does; every event carries the time it was written (the log stays in order).
 */
export async function seedMailing(services: Services, marketerId: string): Promise<SeededMailing> {
  const { deps } = services;
  const meta = (name: string) => services.requestMeta(`seed-marketing:${name}`);
  const actor = { ...systemActor, userId: marketerId };
  const now = deps.clock.now().getTime();
  const day = (instant: number) => new Date(instant).toISOString().slice(0, 10);
  const { campaignId: mailing } = await createCampaign(deps, { fields: { name: '秋季新品邮件推广', type: 'email', startsOn: day(now - 2 * DAY_MS), endsOn: day(now + 28 * DAY_MS), budget: CNY(5_000), expected: { leads: 10, opportunities: 3, revenue: CNY(500_000) } }, ownerId: marketerId }, actor, meta('mailing'));
  const { id: templateId } = await createEmailTemplate(
    deps,
    {
      name: '秋季新品介绍',
      subject: { 'zh-CN': '{{contact.name}}，{{customer.name}} 专属：秋季新品上市', en: '{{contact.name}}, our autumn range is here' },
      html: {
        'zh-CN': '<p>{{contact.name}} 您好：</p><p>感谢 {{customer.name}} 一直以来的支持。我们的秋季新品已经上市，<a href="https://www.example.com/autumn">点击查看新品目录</a>，或 <a href="https://www.example.com/contact">预约产品演示</a>。</p><p style="color:#888">不想再收到此类邮件？<a href="{{unsubscribeUrl}}">退订</a></p>',
        en: '<p>Dear {{contact.name}},</p><p>Our autumn range is here: <a href="https://www.example.com/autumn">see the catalogue</a> or <a href="https://www.example.com/contact">book a demo</a>.</p><p style="color:#888"><a href="{{unsubscribeUrl}}">Unsubscribe</a></p>',
      },
    },
    actor,
    meta('template'),
  );
  for (const stage of ['design', 'test', 'audience', 'send'] as const) await moveCampaignStage(deps, mailing, { stage }, actor, meta(`stage-${stage}`));
  await services.runner.waitFor(await services.eventStore.headPosition(), 600_000);
  const contacts = (await services.readStore.collection('contacts').find({}, { sort: { _id: 1 }, limit: 200 })).filter((c) => typeof c.email === 'string').slice(0, 60);
  const customers = await services.readStore.collection('customers').find({ _id: { $in: contacts.map((c) => String(c.customerId)) } });
  const names = new Map(customers.map((c) => [c._id, c.name]));
  const members: CampaignMember[] = [...new Map(contacts.map((c) => [memberIdFor(String(c.email)), c])).values()].map((c) => ({
    memberId: memberIdFor(String(c.email)),
    resource: 'contacts',
    recordId: c._id,
    email: String(c.email),
    name: String(c.name),
    locale: 'zh-CN',
    ownerId: (c.ownerId as string | null) ?? null,
    departmentPath: (c.departmentPath as string | null) ?? null,
    merge: { contact: { name: c.name, title: c.title }, customer: { name: names.get(String(c.customerId)) ?? '' } },
  }));
  await freezeAudience(deps, mailing, { filter: { resource: 'contacts', query: {} }, exclude: [], excludeEmails: 0, members, excluded: 0 }, actor, meta('audience'));
  await startSend(deps, mailing, templateId, undefined, actor, meta('send'));
  const mailDeps: MailDeps = { ...deps, mailer: services.mailer, keys: services.keys, publicUrl: services.config.CRM_PUBLIC_URL ?? `http://localhost:${services.config.PORT}`, mailFrom: services.config.CRM_MAIL_FROM };
  await runSend({ ...mailDeps, logger: services.logger }, mailing, { ratePerSecond: 1000, concurrency: 4 }, actor);
  return { marketerId, mailing, members, customers };
}

/**
 * The demo's campaign results: a scanner's fetches and people's opens and clicks of the mailing, an exhibition
 * with its stand's costs, the leads each brought and deals that cite them (two won), and the mailing's cost.
 */
export async function seedCampaignResults(services: Services, seeded: SeededMailing, salespeople: readonly string[]) {
  const { deps } = services;
  const meta = (name: string) => services.requestMeta(`seed-marketing:${name}`);
  const random = prng(31);
  const { mailing, members, customers } = seeded;
  const actor = { ...systemActor, userId: seeded.marketerId };
  const now = deps.clock.now().getTime();
  const day = (instant: number) => new Date(instant).toISOString().slice(0, 10);

  // A scanner fetches some mails' pixels; about half the people open theirs, and a third of those click.
  let opened = 0;
  let clicked = 0;
  for (const member of members) {
    const who = { campaignId: mailing, memberId: member.memberId };
    if (random() < 0.3) await recordEngagement(deps, 'open', who, { method: 'HEAD', userAgent: SCANNER, ip: '203.0.113.7' }, systemActor, meta(`scan-${member.memberId}`));
    if (random() >= 0.5) continue;
    const agent = PEOPLE[Math.floor(random() * PEOPLE.length)]!;
    await recordEngagement(deps, 'open', who, { method: 'GET', userAgent: agent, ip: '198.51.100.20' }, systemActor, meta(`open-${member.memberId}`));
    opened += 1;
    if (random() < 0.35) {
      await recordEngagement(deps, 'click', { ...who, url: 'https://www.example.com/autumn' }, { method: 'GET', userAgent: agent, ip: '198.51.100.20' }, systemActor, meta(`click-${member.memberId}`));
      clicked += 1;
    }
  }
  await recordCampaignCost(deps, mailing, { amount: CNY(1_800), description: '邮件发送服务（一个月）', on: day(now) }, actor, meta('mailing-cost'));

  // The exhibition last month: a stand, the leads met there, two deals.
  const { campaignId: fair } = await createCampaign(deps, { fields: { name: '上海国际工业博览会', type: 'exhibition', startsOn: day(now - 30 * DAY_MS), endsOn: day(now - 26 * DAY_MS), budget: CNY(80_000), expected: { leads: 30, opportunities: 6, revenue: CNY(2_000_000) } }, ownerId: seeded.marketerId }, actor, meta('fair'));
  for (const stage of ['plan', 'prepare', 'run', 'follow_up'] as const) await moveCampaignStage(deps, fair, { stage }, actor, meta(`fair-${stage}`));
  await recordCampaignCost(deps, fair, { amount: CNY(45_000), description: '展位费（36 平方米）', on: day(now - 35 * DAY_MS) }, actor, meta('fair-stand'));
  await recordCampaignCost(deps, fair, { amount: CNY(12_500), description: '展台搭建与物料', on: day(now - 31 * DAY_MS) }, actor, meta('fair-build'));

  // Leads and deals that cite the campaigns (first touch).
  let leads = 0;
  const cite = async (campaignId: string, count: number, prefix: string) => {
    for (let i = 0; i < count; i++) {
      const ownerId = salespeople[(i + leads) % salespeople.length]!;
      await createLead(deps, { fields: { company: `${prefix}客户 ${i + 1}`, person: `联系人 ${i + 1}`, phone: `1380000${String(leads + i).padStart(4, '0')}`, source: prefix, campaignId }, ownerId }, actor, meta(`lead-${campaignId}-${i}`));
    }
    leads += count;
  };
  await cite(mailing, 6, '邮件推广');
  await cite(fair, 14, '展会');
  let won = 0;
  const deal = async (campaignId: string, name: string, yuan: number, win: boolean, index: number) => {
    const customer = customers[index % Math.max(1, customers.length)];
    if (!customer) return;
    const ownerId = (customer.ownerId as string | null) ?? salespeople[0]!;
    const owner = { ...actor, userId: ownerId };
    const { opportunityId } = await createOpportunity(deps, { fields: { name, customerId: customer._id, amount: CNY(yuan), expectedCloseDate: day(now + 30 * DAY_MS), campaignId }, ownerId }, owner, meta(`deal-${name}`));
    if (!win) return;
    await moveOpportunity(deps, opportunityId, { type: 'WinOpportunity' }, owner, meta(`won-${name}`));
    won += 1;
  };
  await deal(mailing, '秋季新品首批采购', 36_000, true, 0);
  await deal(fair, '展会意向：自动化产线改造', 1_280_000, true, 1);
  await deal(fair, '展会意向：备件年度合同', 240_000, false, 2);
  return { campaigns: 2, members: members.length, opened, clicked, leads, wonDeals: won };
}
