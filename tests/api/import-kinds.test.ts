import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadStore } from '../../src/infra/readstore/port.ts';
import { CONTACTS, CUSTOMERS } from '../../src/projections/customers.ts';
import { LEAD_FLOW } from '../../src/projections/leads.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { completedBatch } from '../support/batches.ts';
import { docDigest } from '../support/digests.ts';
import { multipartFile } from '../support/multipart.ts';

const caughtUp = async (app: TestApp) => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);

/** Every document of a collection by digest (counters left out where they count nothing). */
async function collectionDigest(store: ReadStore, collection: string): Promise<string[]> {
  const counts = (doc: Record<string, unknown>) => !('day' in doc || 'month' in doc) || Object.entries(doc).some(([key, value]) => typeof value === 'number' && value !== 0 && key !== '_position');
  return (await store.collection(collection).find({})).filter((doc) => counts(doc as Record<string, unknown>)).map((doc) => docDigest(doc as Record<string, unknown>)).sort();
}

describe('imports of contacts, products and leads: dry run, run, undo and its undo', () => {
  let app: TestApp;
  let customerId: string;
  let seller: { userId: string; token: string };
  let manager: { userId: string; token: string };
  beforeAll(async () => {
    app = await startTestApp();
    const department = await app.department('Import kinds');
    seller = await app.userWithToken('kinds.seller', ['salesperson'], department);
    manager = await app.userWithToken('kinds.manager', ['manager'], department);
    customerId = (await app.request('POST', '/api/v1/customers', { body: { name: '华东精工机械有限公司', ownerId: seller.userId } })).body.id;
    await app.request('POST', '/api/v1/customers', { body: { name: '别人的公司' } });
    await app.request('POST', '/api/v1/products', { body: { code: 'P-009', name: '旧名称', unit: '台', standardPrice: { amount: 100, currency: 'CNY' }, taxRate: 13 } });
    await caughtUp(app);
  });
  afterAll(async () => app.close());

  const snapshot = async () => ({
    customers: await collectionDigest(app.services.readStore, CUSTOMERS),
    contacts: await collectionDigest(app.services.readStore, CONTACTS),
    products: await collectionDigest(app.services.readStore, 'products'),
    leads: await collectionDigest(app.services.readStore, 'leads'),
    leadFlow: await collectionDigest(app.services.readStore, LEAD_FLOW),
  });

  async function upload(resource: string, csv: string, token?: string) {
    const response = await app.request('POST', '/api/v1/imports', { ...multipartFile(`${resource}.csv`, `\uFEFF${csv}`, 'file', 'text/csv', { resource }), token });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { id: string; suggestedMapping: Record<string, string | null> };
  }
  async function run(importId: string, body: Record<string, unknown>, token?: string) {
    const started = await app.request('POST', `/api/v1/imports/${importId}/run`, { body, token });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const status = await app.request('GET', `/api/v1/imports/${importId}`, { token });
      if (status.body.status === 'completed') {
        await caughtUp(app);
        return status.body;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('import did not complete');
  }
  async function undo(batchId: string, token?: string) {
    const started = await app.request('POST', `/api/v1/batches/${batchId}/undo`, { body: {}, token });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return completedBatch(app, started.body.batchId, token);
  }

  it('products: codes matched and kept unique, prices in fen, yes/no; the undo discards what it created and puts back what it changed, and its undo brings them back', async () => {
    const before = await snapshot();
    const uploaded = await upload('products', ['存货编码,存货名称,规格型号,计量单位,参考售价,税率,是否启用', 'P-001,离心泵,CP-200,台,"12,000.00",13,是', 'P-002,球阀,DN50,个,333.33,13,否', 'p-001,重复泵,X,台,1,13,是', 'P-003,,X,台,1,13,是', 'P-009,新名称,,台,99,13,是'].join('\n'));
    expect(uploaded.suggestedMapping).toEqual({ 存货编码: 'code', 存货名称: 'name', 规格型号: 'specification', 计量单位: 'unit', 参考售价: 'standardPrice', 税率: 'taxRate', 是否启用: 'active' });
    const body = { mapping: uploaded.suggestedMapping, matchBy: 'code', policy: { '*': 'overwrite' } };
    const dryRun = await app.request('POST', `/api/v1/imports/${uploaded.id}/dry-run`, { body });
    expect(dryRun.body.summary).toEqual({ create: 2, update: 1, skip: 1, error: 1 });
    expect(dryRun.body.results.find((r: { row: number }) => r.row === 4)).toMatchObject({ action: 'skip', reason: 'Same product as row 2' });
    expect(dryRun.body.results.find((r: { row: number }) => r.row === 5).errors).toEqual([{ field: 'name', column: '存货名称', message: 'Required: the cell is empty' }]);
    const done = await run(uploaded.id, body);
    expect(done).toMatchObject({ created: 2, updated: 1, skipped: 1, failed: 1 });
    const list = (await app.request('GET', '/api/v1/products?limit=10')).body.items as { code: string; name: string; standardPrice: { amount: number }; active: boolean }[];
    expect(list.map((p) => [p.code, p.name, p.standardPrice.amount, p.active])).toEqual([
      ['P-001', '离心泵', 1_200_000, true],
      ['P-002', '球阀', 33_333, false],
      ['P-009', '新名称', 9_900, true],
    ]);
    const afterRun = await snapshot();
    const undone = await undo(done.batchId);
    expect(undone).toMatchObject({ records: 3, skipped: 0 });
    expect(await snapshot()).toEqual(before);
    // The codes are free again.
    expect((await app.request('POST', '/api/v1/products', { body: { code: 'P-002', name: '另一个', unit: '个', standardPrice: { amount: 1, currency: 'CNY' }, taxRate: 13 } })).status).toBe(201);
    // The undo of the undo brings the import's products back, but the one whose code was taken since.
    const redone = await undo(undone.id);
    expect(redone).toMatchObject({ records: 2, skipped: 1, conflicts: [{ resource: 'products', reason: 'value_taken' }] });
    expect((await snapshot()).products).not.toEqual(afterRun.products);
    expect((await app.request('GET', '/api/v1/products?limit=10')).body.items.map((p: { code: string }) => p.code)).toEqual(['P-001', 'P-002', 'P-009']);
  });

  it('contacts: their customer named by name, in scope; matched by email; the undo takes them off their customer again', async () => {
    const before = await snapshot();
    const csv = ['姓名,所属客户,手机,邮箱,职务', '王经理,华东精工机械有限公司,13900001111,wang@example.com,采购经理', '李工,不存在的公司,13900002222,li@example.com,工程师', '张三,华东精工机械有限公司,13900003333,zhang@example.com,', '王经理,华东精工机械有限公司,13900001111,wang@example.com,总经理', '钱七,别人的公司,13900004444,qian@example.com,'].join('\n');
    const uploaded = await upload('contacts', csv, manager.token);
    expect(uploaded.suggestedMapping).toEqual({ 姓名: 'name', 所属客户: 'customerName', 手机: 'mobile', 邮箱: 'email', 职务: 'title' });
    const body = { mapping: uploaded.suggestedMapping, matchBy: 'email' };
    const dryRun = await app.request('POST', `/api/v1/imports/${uploaded.id}/dry-run`, { body, token: manager.token });
    expect(dryRun.body.summary).toEqual({ create: 2, update: 0, skip: 1, error: 2 });
    const errors = dryRun.body.results.filter((r: { action: string }) => r.action === 'error');
    expect(errors.map((r: { row: number; errors: { field: string; message: string }[] }) => [r.row, r.errors[0]!.field, r.errors[0]!.message])).toEqual([
      [3, 'customerName', 'No customer named 不存在的公司 in your data scope'],
      [6, 'customerName', 'No customer named 别人的公司 in your data scope'],
    ]);
    const done = await run(uploaded.id, body, manager.token);
    expect(done).toMatchObject({ created: 2, failed: 2, skipped: 1 });
    const customer = (await app.request('GET', `/api/v1/customers/${customerId}`, { token: manager.token })).body;
    expect(customer.contactCount).toBe(2);
    expect(customer.contacts.map((c: { name: string }) => c.name).sort()).toEqual(['张三', '王经理']);
    // A second import matched by email updates the contact instead.
    const again = await upload('contacts', '邮箱,职务\nwang@example.com,总经理\n', manager.token);
    const update = await run(again.id, { mapping: again.suggestedMapping, matchBy: 'email', policy: { title: 'overwrite' } }, manager.token);
    expect(update).toMatchObject({ updated: 1, created: 0 });
    expect((await app.request('GET', `/api/v1/contacts?q=王经理`, { token: manager.token })).body.items[0].title).toBe('总经理');
    await undo(update.batchId, manager.token);
    expect((await undo(done.batchId, manager.token))).toMatchObject({ records: 2, skipped: 0 });
    expect(await snapshot()).toEqual(before);
  });

  it('leads: owners by login name, counted in the lead flow; the undo takes them and their counts away', async () => {
    const before = await snapshot();
    const csv = ['公司名称,联系人,电话,邮箱,线索来源,负责人', '苏州新线索有限公司,赵总,0512-1234,zhao@example.com,展会,kinds.seller', '无锡线索厂,孙经理,,sun@example.com,网站,', '常州某公司,,0519-0000,,,'].join('\n');
    const uploaded = await upload('leads', csv);
    expect(uploaded.suggestedMapping).toEqual({ 公司名称: 'company', 联系人: 'person', 电话: 'phone', 邮箱: 'email', 线索来源: 'source', 负责人: 'ownerUsername' });
    const done = await run(uploaded.id, { mapping: uploaded.suggestedMapping });
    expect(done).toMatchObject({ created: 2, failed: 1 });
    const leads = (await app.request('GET', '/api/v1/leads?limit=10')).body.items as { company: string; ownerId: string; source?: string }[];
    expect(leads.find((l) => l.company === '苏州新线索有限公司')).toMatchObject({ ownerId: seller.userId, source: '展会' });
    expect((await snapshot()).leadFlow).not.toEqual(before.leadFlow);
    expect(await undo(done.batchId)).toMatchObject({ records: 2, skipped: 0 });
    expect(await snapshot()).toEqual(before);
  });
});
