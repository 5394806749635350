import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERASED } from '../../src/domain/shared/personal-data.ts';
import { contactStream } from '../../src/domain/contact/index.ts';
import type { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { openValue, SEALED_PREFIX, valueAt } from '../../src/infra/personal-data/sealing.ts';
import { isPublished, toMessage } from '../../src/integrations/kafka/messages.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/** Values only this contact holds: none may be found anywhere once it is erased. */
const secrets = { name: '王秘密', mobile: '13912345678', newMobile: '13800004321', email: 'secret.person@example.com', birthday: '1980-05-06', hobby: '深海潜水秘密' };

describe('personal data: sealed per person, left out of exports without the grant, erased by crypto-shredding', () => {
  let app: TestApp;
  let dir: string;
  let contactId: string;
  let customerId: string;
  let auditor: string;
  let manager: string;
  let salesperson: string;
  let raw: SqliteEventStore;
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 20_000);
  const storeBytes = () =>
    ['events.sqlite', 'events.sqlite-wal']
      .map((file) => join(dir, file))
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file));
  const foundInStore = (text: string | Buffer) => storeBytes().some((bytes) => bytes.includes(typeof text === 'string' ? Buffer.from(text, 'utf8') : text));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crm-personal-'));
    app = await startTestApp({ CRM_DATA_DIR: dir });
    raw = app.services.chain as unknown as SqliteEventStore;
    const departmentId = await app.department('Privacy team');
    auditor = (await app.userWithToken('auditor-pd', ['auditor'], departmentId)).token;
    manager = (await app.userWithToken('manager-pd', ['manager'], departmentId)).token;
    salesperson = (await app.userWithToken('seller-pd', ['salesperson'], departmentId)).token;
    const label = (en: string) => ({ 'zh-CN': en, en });
    expect((await app.request('POST', '/api/v1/settings/fields/contacts', { body: { key: 'hobby', label: label('Hobby'), type: 'text', personal: true } })).status).toBe(201);
    expect((await app.request('POST', '/api/v1/settings/fields/contacts', { body: { key: 'colour', label: label('Colour'), type: 'text' } })).status).toBe(201);
    customerId = (await app.request('POST', '/api/v1/customers', { body: { name: '保密贸易有限公司' } })).body.id;
    const added = await app.request('POST', '/api/v1/contacts', {
      body: { customerId, name: secrets.name, title: '采购经理', mobile: secrets.mobile, email: secrets.email, birthday: secrets.birthday, custom: { hobby: secrets.hobby, colour: 'blue' } },
    });
    expect(added.status).toBe(201);
    contactId = added.body.id;
    expect((await app.request('PATCH', `/api/v1/contacts/${contactId}`, { body: { mobile: secrets.newMobile } })).status).toBe(200);
    await caughtUp();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the custom field marked personal says so', async () => {
    const fields = (await app.request('GET', '/api/v1/settings/fields/contacts')).body.items;
    expect(fields.map((f: { key: string; personal: boolean }) => [f.key, f.personal])).toEqual([
      ['hobby', true],
      ['colour', false],
    ]);
  });

  it('stores personal values sealed under the contact’s key, reads them plain, and publishes them sealed', async () => {
    const contact = (await app.request('GET', `/api/v1/contacts/${contactId}`)).body;
    expect(contact).toMatchObject({ name: secrets.name, mobile: secrets.newMobile, email: secrets.email, birthday: secrets.birthday, title: '采购经理', custom: { hobby: secrets.hobby, colour: 'blue' } });
    const stored = await raw.readStream(contactStream(contactId));
    expect(stored[0]!.metadata.personal).toEqual([
      { subjectId: contactStream(contactId), pointers: ['/fields/name', '/fields/mobile', '/fields/email', '/fields/birthday', '/fields/custom/hobby'] },
    ]);
    expect(stored[1]!.metadata.personal).toEqual([{ subjectId: contactStream(contactId), pointers: ['/changes/mobile'] }]);
    expect(valueAt(stored[0]!.data, '/fields/title')).toBe('采购经理');
    expect(String(valueAt(stored[0]!.data, '/fields/name'))).toMatch(new RegExp(`^${SEALED_PREFIX}`));
    // Neither the file nor the write-ahead log holds a personal value in clear; the others are there.
    for (const value of Object.values(secrets)) expect(foundInStore(value), value).toBe(false);
    expect(foundInStore('采购经理')).toBe(true);
    // What the relay publishes is the stored event: sealed.
    const messages = stored.map((event) => String(toMessage(event).value));
    for (const value of Object.values(secrets)) expect(messages.join('\n')).not.toContain(value);
    expect(JSON.parse(messages[0]!).metadata.personal[0].subjectId).toBe(contactStream(contactId));
    // A consumer allowed to hold personal data fetches the key and opens them.
    const key = await app.request('GET', `/api/v1/personal-data/keys/${contactStream(contactId)}`);
    expect(key.status).toBe(200);
    expect(key.headers.get('cache-control')).toBe('no-store');
    expect(key.body).toMatchObject({ subjectId: contactStream(contactId), algorithm: 'AES-256-GCM' });
    const opened = openValue(Buffer.from(key.body.key, 'base64'), contactStream(contactId), '/fields/name', String(valueAt(JSON.parse(messages[0]!).data, '/fields/name')));
    expect(opened).toBe(secrets.name);
    expectProblem(await app.request('GET', `/api/v1/personal-data/keys/${contactStream(contactId)}`, { token: auditor }), 403, 'forbidden');
    expectProblem(await app.request('GET', `/api/v1/personal-data/keys/${contactStream(contactId)}`, { token: salesperson }), 403, 'forbidden');
    expectProblem(await app.request('GET', '/api/v1/personal-data/keys/contact-not-a-uuid'), 404, 'personal_data.not_found');
    expectProblem(await app.request('GET', '/api/v1/personal-data/keys/customer-x'), 400, 'validation');
  });

  it("an auditor's exports leave personal fields out unless granted; a manager's keep them", async () => {
    const header = async (token: string | undefined) => (await app.request('GET', '/api/v1/contacts', { token, headers: { accept: 'text/csv' } })).text.split('\r\n')[0]!.split(',');
    const audited = await header(auditor);
    for (const field of ['name', 'officePhone', 'mobile', 'email', 'birthday', 'custom.hobby']) expect(audited).not.toContain(field);
    expect(audited).toEqual(expect.arrayContaining(['id', 'title', 'customerName', 'custom.colour']));
    const exported = (await app.request('GET', '/api/v1/contacts', { token: auditor, headers: { accept: 'text/csv' } })).text;
    for (const value of Object.values(secrets)) expect(exported).not.toContain(value);
    expect(await header(manager)).toEqual(expect.arrayContaining(['name', 'mobile', 'email', 'birthday', 'custom.hobby']));
    // Reading stays open to the auditor: the record, its history and the dossier.
    expect((await app.request('GET', `/api/v1/contacts/${contactId}`, { token: auditor })).body.name).toBe(secrets.name);
    const dossier = await app.request('GET', `/api/v1/customers/${customerId}/dossier`, { token: auditor });
    expect(JSON.stringify(dossier.body)).toContain(secrets.name);
    // An administrator grants the export: the auditor's role gets personalData export.
    const roles = (await app.request('GET', '/api/v1/roles')).body.items as { id: string; key: string; permissions: Record<string, string[]> }[];
    const role = roles.find((r) => r.key === 'auditor')!;
    expect(role.permissions.personalData ?? []).toEqual([]);
    expect((await app.request('PATCH', `/api/v1/roles/${role.id}`, { body: { permissions: { ...role.permissions, personalData: ['export'] } } })).status).toBe(200);
    const granted = (await app.userWithToken('auditor-pd2', ['auditor'], null)).token;
    expect(await header(granted)).toEqual(expect.arrayContaining(['name', 'mobile', 'custom.hobby']));
    expect((await app.request('PATCH', `/api/v1/roles/${role.id}`, { body: { permissions: role.permissions } })).status).toBe(200);
  });

  it('erases a contact: the key is destroyed, every reader sees [erased], and nothing can bring the values back', async () => {
    const keyBefore = Buffer.from((await app.request('GET', `/api/v1/personal-data/keys/${contactStream(contactId)}`)).body.key, 'base64');
    expect(foundInStore(keyBefore)).toBe(true);
    for (const token of [auditor, manager, salesperson]) expectProblem(await app.request('POST', `/api/v1/contacts/${contactId}/erase`, { token, body: {} }), 403, 'forbidden');
    const erased = await app.request('POST', `/api/v1/contacts/${contactId}/erase`, { body: {} });
    expect(erased.status).toBe(200);
    // Every event of this contact was sealed: none holds its data in clear, out of the erasure's reach.
    expect(erased.body).toMatchObject({ id: contactId, eventsInClear: 0 });
    await caughtUp();
    const expected = { name: ERASED, mobile: ERASED, email: ERASED, birthday: ERASED, title: '采购经理', custom: { hobby: ERASED, colour: 'blue' } };
    expect((await app.request('GET', `/api/v1/contacts/${contactId}`)).body).toMatchObject(expected);
    const customer = (await app.request('GET', `/api/v1/customers/${customerId}`)).body;
    expect(JSON.stringify(customer)).not.toContain(secrets.name);
    expect((await app.request('GET', `/api/v1/contacts?q=${encodeURIComponent(secrets.name)}`)).body.items).toEqual([]);
    const history = (await app.request('GET', `/api/v1/contacts/${contactId}/history`)).body.items;
    expect(history.map((item: { type: string }) => item.type)).toEqual(['ContactAdded', 'ContactChanged', 'PersonalDataErased']);
    expect(history[2].data).toMatchObject({ contactId, subjectId: contactStream(contactId), fields: ['name', 'officePhone', 'mobile', 'email', 'birthday', 'custom.hobby'] });
    for (const value of Object.values(secrets)) expect(JSON.stringify(history), value).not.toContain(value);
    // The key is gone from the store's pages and its write-ahead log, and no value was ever there in clear.
    expect(foundInStore(keyBefore)).toBe(false);
    for (const value of Object.values(secrets)) expect(foundInStore(value), value).toBe(false);
    expectProblem(await app.request('GET', `/api/v1/personal-data/keys/${contactStream(contactId)}`), 410, 'personal_data.erased');
    // The contact takes no more changes, and is erased once.
    expectProblem(await app.request('PATCH', `/api/v1/contacts/${contactId}`, { body: { mobile: '13700000000' } }), 409, 'contact.erased');
    expectProblem(await app.request('POST', `/api/v1/contacts/${contactId}/erase`, { body: {} }), 409, 'contact.erased');
    // The erasure is published; the chain over the log still verifies.
    const stored = await raw.readStream(contactStream(contactId));
    expect(isPublished(stored[stored.length - 1]!)).toBe(true);
    expect((await app.request('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
    // A rebuild from the log shows [erased] too.
    await app.services.runner.rebuild();
    expect((await app.request('GET', `/api/v1/contacts/${contactId}`)).body).toMatchObject(expected);
    const docs = await app.services.readStore.collection('contacts').find({ _id: contactId });
    for (const value of Object.values(secrets)) expect(JSON.stringify(docs)).not.toContain(value);
  });

  it('a contact with events from before sealing: erased, it reads [erased] in a rebuild too, and the answer says how many events still hold its data in clear', async () => {
    const legacyId = '01900000-0000-7000-8000-00000000abcd';
    await raw.append(contactStream(legacyId), [{ id: '01900000-0000-7000-8000-00000000abce', type: 'ContactAdded', data: { contactId: legacyId, customerId, fields: { name: '旧时联系人', mobile: '13700001111' } }, metadata: { actor: 'system', at: new Date().toISOString(), correlationId: 'legacy', schemaVersion: 1 } }], 'no_stream');
    await caughtUp();
    expect((await app.request('GET', `/api/v1/contacts/${legacyId}`)).body.name).toBe('旧时联系人');
    const erased = await app.request('POST', `/api/v1/contacts/${legacyId}/erase`, { body: {} });
    expect(erased.body).toMatchObject({ id: legacyId, eventsInClear: 1 });
    await caughtUp();
    expect((await app.request('GET', `/api/v1/contacts/${legacyId}`)).body).toMatchObject({ name: ERASED, mobile: ERASED });
    await app.services.runner.rebuild();
    expect((await app.request('GET', `/api/v1/contacts/${legacyId}`)).body).toMatchObject({ name: ERASED, mobile: ERASED });
    expect(JSON.stringify((await app.request('GET', `/api/v1/contacts/${legacyId}/history`)).body)).not.toContain('旧时联系人');
  });

  it("a campaign's copies of a contact (its member list, its mail record) are sealed with the contact's key, and erased with it", async () => {
    const customer = (await app.request('POST', '/api/v1/customers', { body: { name: '营销保密公司', industry: '隐私行业' } })).body.id;
    const contact = (await app.request('POST', '/api/v1/contacts', { body: { customerId: customer, name: '营销秘密人', email: 'campaign.secret@example.com', mobile: '13655556666' } })).body.id;
    const campaignId = (await app.request('POST', '/api/v1/campaigns', { body: { name: '隐私邮件', type: 'email', startsOn: '2027-03-01', endsOn: '2027-03-31', budget: { amount: 100_000, currency: 'CNY' } } })).body.id;
    const templateId = (await app.request('POST', '/api/v1/email-templates', { body: { name: '隐私模板', subject: { 'zh-CN': '{{contact.name}} 您好' }, html: { 'zh-CN': '<p>{{contact.name}}</p><p><a href="{{unsubscribeUrl}}">退订</a></p>' } } })).body.id;
    await app.request('POST', `/api/v1/campaigns/${campaignId}/stage`, { body: { stage: 'design' } });
    await caughtUp();
    const audience = await app.request('POST', `/api/v1/campaigns/${campaignId}/audience`, { body: { filter: { resource: 'customers', query: { industry: '隐私行业' } } } });
    expect(audience.body, JSON.stringify(audience.body)).toMatchObject({ count: 1 });
    expect((await app.request('POST', `/api/v1/campaigns/${campaignId}/send`, { body: { templateId } })).status).toBe(202);
    await app.services.campaigns.send(campaignId);
    await caughtUp();
    // The mail went out (to the opened address); the log holds the copies sealed, under the contact's key.
    expect((await app.request('GET', `/api/v1/campaigns/${campaignId}/members`)).body.items[0]).toMatchObject({ status: 'delivered' });
    const copies = (await raw.readAll()).filter((event) => ['CampaignMembersListed', 'CampaignMailSending'].includes(event.type) && event.streamId.includes(campaignId));
    expect(copies.map((event) => event.type)).toEqual(['CampaignMembersListed', 'CampaignMailSending']);
    for (const event of copies) expect(event.metadata.personal?.map((p) => p.subjectId), JSON.stringify(event.data).slice(0, 600)).toEqual([contactStream(contact)]);
    expect(copies[1]!.data).toMatchObject({ contactId: contact, email: expect.stringMatching(new RegExp(`^${SEALED_PREFIX}`)) });
    for (const value of ['营销秘密人', 'campaign.secret@example.com', '13655556666']) {
      expect(JSON.stringify(copies.map((event) => event.data)), value).not.toContain(value);
      expect(foundInStore(value), value).toBe(false);
    }
    expect((await app.request('GET', `/api/v1/campaigns/${campaignId}/members`)).body.items[0]).toMatchObject({ email: 'campaign.secret@example.com', name: '营销秘密人' });

    expect((await app.request('POST', `/api/v1/contacts/${contact}/erase`, { body: {} })).status).toBe(200);
    await caughtUp();
    const member = (await app.request('GET', `/api/v1/campaigns/${campaignId}/members`)).body.items[0];
    expect(member).toMatchObject({ email: ERASED, name: ERASED });
    await app.services.runner.rebuild();
    expect((await app.request('GET', `/api/v1/campaigns/${campaignId}/members`)).body.items[0]).toMatchObject({ email: ERASED, name: ERASED });
    const opened = await app.services.eventStore.readStream(copies[1]!.streamId);
    expect(opened[0]!.data).toMatchObject({ email: ERASED });
  });

  it('a contact outside the caller’s scope is neither erased nor its key handed out (404)', async () => {
    const other = await app.request('POST', '/api/v1/customers', { body: { name: '别人的客户' } });
    const contact = await app.request('POST', '/api/v1/contacts', { body: { customerId: other.body.id, name: '张三' } });
    const grantedManager = (await app.userWithToken('manager-pd3', ['manager'], await app.department('Elsewhere'))).token;
    expectProblem(await app.request('GET', `/api/v1/personal-data/keys/${contactStream(contact.body.id)}`, { token: grantedManager }), 404, 'contact.not_found');
  });
});
