import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { multipartFile } from '../support/multipart.ts';
import { expectProblem } from '../support/problem.ts';

const header = '客户名称,统一社会信用代码,客户等级,年营业额,负责人,备注';
const lines = [
  '上海华东机械有限公司,91310000MA1FL0XX1K,A,,,老客户', // line 2: the existing customer, by tax number
  '杭州西湖纺织厂,,B,"1,200,000.50",import.owner,', // line 3: new
  '宁波港口物流,,B,,nobody.here,', // line 4: unknown owner
  '苏州园林建材,,B,一百万,,', // line 5: not an amount
  '杭州西湖纺织厂,,C,,,', // line 6: repeats line 3
  '南京紫金电子,,,,,', // line 7: the name another customer holds
  ',,,,,', // line 8: empty
];
const CSV = `${header}\n${lines.join('\n')}\n`;
const mapping = { 客户名称: 'name', 统一社会信用代码: 'taxNumber', 客户等级: 'level', 年营业额: 'annualRevenue', 负责人: 'ownerUsername', 备注: 'notes' };

describe('imports: the dry run', () => {
  let app: TestApp;
  let importId: string;
  let existing: string;
  let other: string;
  beforeAll(async () => {
    app = await startTestApp();
    await app.userWithToken('import.owner', ['salesperson'], await app.department('Import owners'));
    existing = (await app.request('POST', '/api/v1/customers', { body: { name: '上海华东机械有限公司', taxNumber: '91310000MA1FL0XX1K', level: 'C' } })).body.id;
    other = (await app.request('POST', '/api/v1/customers', { body: { name: '南京紫金电子' } })).body.id;
    const uploaded = await app.request('POST', '/api/v1/imports', multipartFile('客户.csv', CSV, 'file', 'text/csv', { resource: 'customers' }));
    importId = uploaded.body.id;
    expect(uploaded.body.suggestedMapping).toEqual(mapping);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  });
  afterAll(async () => app.close());
  const dryRun = (body: Record<string, unknown>, query = '') => app.request('POST', `/api/v1/imports/${importId}/dry-run${query}`, { body });

  it('answers each row: create, update by the key, skip, or error naming the field, the column and what is wrong; nothing is written', async () => {
    const before = await app.services.eventStore.headPosition();
    const response = await dryRun({ mapping, matchBy: 'taxNumber' });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.summary).toEqual({ create: 1, update: 1, skip: 2, error: 3 });
    expect(response.body.results).toEqual([
      { row: 2, action: 'update', recordId: existing, changes: ['notes'] },
      { row: 3, action: 'create' },
      { row: 4, action: 'error', errors: [{ field: 'ownerUsername', column: '负责人', message: 'No employee has the login name nobody.here' }] },
      { row: 5, action: 'error', errors: [{ field: 'annualRevenue', column: '年营业额', message: 'Expected an amount such as 1234.56, not "一百万"' }] },
      { row: 6, action: 'skip', reason: 'Same customer as row 3' },
      { row: 7, action: 'error', errors: [{ field: 'name', column: '客户名称', message: 'A customer with this name exists already' }] },
      { row: 8, action: 'skip', reason: 'empty' },
    ]);
    expect(await app.services.eventStore.headPosition()).toBe(before);
    expect(other).toBeTruthy();
  });

  it('applies the policy per field on an update: fillIfEmpty (the default), overwrite, keep', async () => {
    const overwrite = await dryRun({ mapping, matchBy: 'taxNumber', policy: { level: 'overwrite' } }, '?action=update');
    expect(overwrite.body.results).toEqual([{ row: 2, action: 'update', recordId: existing, changes: ['level', 'notes'] }]);
    const keep = await dryRun({ mapping, matchBy: 'taxNumber', policy: { '*': 'keep' } }, '?action=skip');
    expect(keep.body.results[0]).toEqual({ row: 2, action: 'skip', recordId: existing, reason: 'unchanged' });
    // Matched by name, the existing name updates its record instead of failing.
    const byName = await dryRun({ mapping, matchBy: 'name' }, '?action=update');
    expect(byName.body.results.map((r: { row: number }) => r.row)).toEqual([2]);
    const none = await dryRun({ mapping }, '?action=error&limit=1');
    expect(none.body.summary.error).toBe(4);
    expect(none.body.results).toHaveLength(1);
    expect(none.body.results[0].errors.map((e: { field: string }) => e.field)).toEqual(['name', 'taxNumber']);
    expect(none.body.results[0].errors[1].message).toBe('A customer with this tax number exists already (match by it to update that one)');
  });

  it('refuses a mapping it cannot use (400 naming it); a contact row names its customer', async () => {
    expectProblem(await dryRun({ mapping: { 不存在: 'name' } }), 400, 'validation');
    expectProblem(await dryRun({ mapping: { 客户名称: 'name', 备注: 'name' } }), 400, 'validation');
    expectProblem(await dryRun({ mapping: { 客户名称: 'colour' } }), 400, 'validation');
    expectProblem(await dryRun({ mapping: { 客户名称: 'name' }, matchBy: 'taxNumber' }), 400, 'validation');
    expectProblem(await dryRun({ mapping, matchBy: 'email' }), 400, 'validation');
    const contacts = await app.request('POST', '/api/v1/imports', multipartFile('c.csv', '姓名\n李雷\n', 'file', 'text/csv', { resource: 'contacts' }));
    // A contact names its customer: without it, each row says so.
    const named = await app.request('POST', `/api/v1/imports/${contacts.body.id}/dry-run`, { body: { mapping: { 姓名: 'name' } } });
    expect(named.body.results).toEqual([{ row: 2, action: 'error', errors: [{ field: 'customerName', message: 'Required: the cell is empty' }] }]);
  });
});
