import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const clock = new ManualClock(new Date('2026-11-10T01:00:00.000Z'));
const MINUTE = 60_000;

type Entry = { position: number; at: string; actor: { id: string; name: string | null }; resource: string; recordId: string; type: string; changes: { field: string; from: unknown; to: unknown }[] };

/**
 * The customer dossier, against an expectation written from what the test did (in order, by whom, and which
 * fields each step set), not from the events the service stored.
 */
describe("a customer's dossier", () => {
  let app: TestApp;
  let auditor: string;
  let rep: { userId: string; token: string };
  let other: { userId: string; token: string };
  let customerId: string;
  let department: string;
  const ids: Record<string, string> = {};
  const dossier = async (query = '', token = auditor) => app.request('GET', `/api/v1/customers/${customerId}/dossier${query}`, { token });

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    department = await app.department('Dossier team');
    auditor = (await app.userWithToken('dossier-auditor', ['auditor'], null)).token;
    rep = await app.userWithToken('dossier-rep', ['salesperson'], department);
    other = await app.userWithToken('dossier-other', ['salesperson'], department);
    const step = () => clock.advance(MINUTE);
    customerId = (await app.request('POST', '/api/v1/customers', { token: rep.token, body: { name: 'Dossier Trading Co', phone: '021-5555 0100' } })).body.id as string;
    step();
    await app.request('PATCH', `/api/v1/customers/${customerId}`, { token: rep.token, body: { name: '档案贸易有限公司' } });
    step();
    ids.contact = (await app.request('POST', '/api/v1/contacts', { token: rep.token, body: { customerId, name: '王经理', mobile: '13900001111' } })).body.id as string;
    step();
    await app.request('PATCH', `/api/v1/contacts/${ids.contact}`, { token: rep.token, body: { title: '采购经理' } });
    step();
    ids.activity = (await app.request('POST', '/api/v1/activities', { token: rep.token, body: { kind: 'call', customerId, occurredAt: clock.now().toISOString(), summary: 'Called about the order' } })).body.id as string;
    step();
    ids.opportunity = (await app.request('POST', '/api/v1/opportunities', { token: rep.token, body: { name: '二期产线', customerId, amount: { amount: 800_000_00, currency: 'CNY' }, expectedCloseDate: '2027-03-31' } })).body.id as string;
    step();
    await app.request('POST', `/api/v1/opportunities/${ids.opportunity}/stage`, { token: rep.token, body: { stage: 'proposal' } });
    step();
    expect((await app.request('POST', `/api/v1/customers/${customerId}/assign`, { body: { ownerId: other.userId } })).status).toBe(200);
    // Another customer's events stay out.
    await app.request('POST', '/api/v1/customers', { token: rep.token, body: { name: 'Unrelated Co' } });
    // The dossier and the forensics find related records and employees through the read models.
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);
  });
  afterAll(async () => app.close());

  it('merges the customer’s and its records’ events in log order, with who did it and the fields each changed', async () => {
    const response = await dossier();
    expect(response.status).toBe(200);
    expect(response.body.records).toEqual({ customers: 1, contacts: 1, activities: 1, opportunities: 1 });
    const items = response.body.items as Entry[];
    const positions = items.map((item) => item.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    const story = items.map((item) => [item.resource, item.recordId, item.actor.name]);
    expect(story).toEqual([
      ['customers', customerId, 'dossier-rep'],
      ['customers', customerId, 'dossier-rep'],
      ['contacts', ids.contact, 'dossier-rep'],
      ['contacts', ids.contact, 'dossier-rep'],
      ['activities', ids.activity, 'dossier-rep'],
      ['opportunities', ids.opportunity, 'dossier-rep'],
      ['opportunities', ids.opportunity, 'dossier-rep'],
      ['customers', customerId, 'Administrator 管理员'],
    ]);
    const changed = (i: number) => Object.fromEntries(items[i]!.changes.map((change) => [change.field, [change.from, change.to]]));
    expect(changed(0)).toMatchObject({ name: [null, 'Dossier Trading Co'], phone: [null, '021-5555 0100'], ownerId: [null, rep.userId] });
    expect(changed(1)).toEqual({ name: ['Dossier Trading Co', '档案贸易有限公司'] });
    expect(changed(3)).toEqual({ title: [null, '采购经理'] });
    expect(changed(6)).toMatchObject({ stage: [expect.any(String), 'proposal'] });
    expect(changed(7)).toMatchObject({ ownerId: [rep.userId, other.userId] });
  });

  it('pages by cursor and narrows by time', async () => {
    const first = await dossier('?limit=3');
    expect(first.body.items).toHaveLength(3);
    const rest = await dossier(`?cursor=${first.body.nextCursor}`);
    expect(rest.body.items).toHaveLength(5);
    expect(rest.body.nextCursor).toBeNull();
    const window = await dossier(`?from=${encodeURIComponent('2026-11-10T01:02:00.000Z')}&to=${encodeURIComponent('2026-11-10T01:04:00.000Z')}`);
    expect((window.body.items as Entry[]).map((item) => item.resource)).toEqual(['contacts', 'contacts']);
  });

  it('leaves out fields the caller’s roles hide; salespeople may not read dossiers; a customer outside scope is not found', async () => {
    const role = (await app.request('POST', '/api/v1/roles', { body: { name: 'Phone-blind auditor', permissions: { customers: ['view'], contacts: ['view'], activities: ['view'], opportunities: ['view'], audit: ['view'] }, dataScope: 'all', fieldSecurity: { customers: { phone: 'hidden' } } } })).body.id as string;
    const hire = await app.request('POST', '/api/v1/employees', { body: { name: 'Blind', departmentId: department, roleIds: [role], username: 'blind-auditor', password: 'blind-auditor-password-1' } });
    expect(hire.status).toBe(201);
    const blind = await app.firstLogin('blind-auditor', 'blind-auditor-password-1');
    const items = (await dossier('', blind)).body.items as Entry[];
    expect(items.flatMap((item) => item.changes.map((change) => change.field))).not.toContain('phone');
    expect(JSON.stringify(items)).not.toContain('021-5555 0100');
    expectProblem(await dossier('', rep.token), 403, 'forbidden');
    expectProblem(await app.request('GET', '/api/v1/customers/00000000-0000-7000-8000-000000000000/dossier', { token: auditor }), 404, 'customer.not_found');
  });

  it('shows the campaign mail that reached the customer’s contacts, as entries of the campaign, without the address', async () => {
    const customer = (await app.request('POST', '/api/v1/customers', { body: { name: '营销档案公司', industry: '档案行业' } })).body.id as string;
    const contact = (await app.request('POST', '/api/v1/contacts', { body: { customerId: customer, name: '收信人', email: 'reader@example.com' } })).body.id as string;
    const campaignId = (await app.request('POST', '/api/v1/campaigns', { body: { name: '档案邮件', type: 'email', startsOn: '2027-03-01', endsOn: '2027-03-31', budget: { amount: 100_000, currency: 'CNY' } } })).body.id as string;
    const templateId = (await app.request('POST', '/api/v1/email-templates', { body: { name: '档案模板', subject: { 'zh-CN': '您好' }, html: { 'zh-CN': '<p>您好</p><p><a href="{{unsubscribeUrl}}">退订</a></p>' } } })).body.id as string;
    await app.request('POST', `/api/v1/campaigns/${campaignId}/stage`, { body: { stage: 'design' } });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);
    expect((await app.request('POST', `/api/v1/campaigns/${campaignId}/audience`, { body: { filter: { resource: 'customers', query: { industry: '档案行业' } } } })).body).toMatchObject({ count: 1 });
    expect((await app.request('POST', `/api/v1/campaigns/${campaignId}/send`, { body: { templateId } })).status).toBe(202);
    await app.services.campaigns.send(campaignId);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);
    const response = await app.request('GET', `/api/v1/customers/${customer}/dossier`, { token: auditor });
    expect(response.body.records).toEqual({ customers: 1, contacts: 1, campaigns: 1 });
    const mail = (response.body.items as Entry[]).filter((item) => item.resource === 'campaigns');
    expect(mail.map((item) => [item.recordId, item.type])).toEqual([
      [campaignId, 'CampaignMailSending'],
      [campaignId, 'CampaignMailDelivered'],
    ]);
    expect(mail[0]!.changes.map((change) => change.field)).toEqual(expect.arrayContaining(['messageId', 'templateId', 'locale']));
    expect(JSON.stringify(mail)).not.toContain('reader@example.com');
    expect((response.body.items as Entry[]).some((item) => item.resource === 'contacts' && item.recordId === contact)).toBe(true);
  });

  it('exports the whole dossier as a PDF with its Chinese text embedded, which poppler renders and reads back', async (context) => {
    const poppler = spawnSync('pdftoppm', ['-v']).error === undefined;
    if (!poppler && process.env.CRM_REQUIRE_BROWSER === '1') throw new Error('No pdftoppm: CI installs poppler-utils (.ci/browser.sh)');
    if (!poppler) return context.skip('pdftoppm is not installed (apt-get install poppler-utils; CI installs it)');
    const dir = mkdtempSync(join(tmpdir(), 'crm-dossier-pdf-'));
    /** The dossier as a PDF for a caller, as the text poppler reads back from it. */
    const pdfText = async (name: string, token: string | undefined): Promise<string> => {
      const response = await fetch(`${app.baseUrl}/api/v1/customers/${customerId}/dossier`, { headers: { authorization: `Bearer ${token ?? (await app.login())}`, accept: 'application/pdf' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/pdf');
      const pdf = Buffer.from(await response.arrayBuffer());
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      writeFileSync(join(dir, `${name}.pdf`), pdf);
      return spawnSync('pdftotext', ['-layout', join(dir, `${name}.pdf`), '-']).stdout.toString();
    };
    // An administrator's PDF holds every field.
    const full = await pdfText('full', undefined);
    const rendered = spawnSync('pdftoppm', ['-r', '60', '-png', '-f', '1', '-l', '1', join(dir, 'full.pdf'), join(dir, 'page')]);
    expect(rendered.status, rendered.stderr.toString()).toBe(0);
    expect(statSync(join(dir, 'page-1.png')).size).toBeGreaterThan(5_000);
    const fonts = spawnSync('pdffonts', [join(dir, 'full.pdf')]).stdout.toString();
    expect(fonts).toMatch(/NotoSansSC.*yes/);
    for (const expected of ['客户档案 Customer dossier', '档案贸易有限公司', '王经理', '13900001111', '采购经理', 'dossier-rep', `contacts/${ids.contact}`]) expect(full).toContain(expected);
    // The auditor's is an export without the personal data grant: the contact's name and mobile are left out.
    const audited = await pdfText('audited', auditor);
    for (const expected of ['客户档案 Customer dossier', '档案贸易有限公司', '采购经理', `contacts/${ids.contact}`]) expect(audited).toContain(expected);
    for (const personal of ['王经理', '13900001111']) expect(audited).not.toContain(personal);
  });
});
