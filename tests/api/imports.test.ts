import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { multipartFile } from '../support/multipart.ts';
import { expectProblem } from '../support/problem.ts';

const CSV = '客户名称,统一社会信用代码,联系电话,客户等级,负责人,备注\r\n上海华东机械有限公司,91310000MA1FL0XX1K,021-5555 0101,A,wang.fang,老客户\r\n杭州西湖纺织厂,,0571-8888 2222,B,,\r\n';

describe('imports: upload and column mapping', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ CRM_IMPORT_MAX_ROWS: '5', CRM_IMPORT_MAX_BYTES: '16384' });
    await app.request('POST', '/api/v1/settings/fields/customers', { body: { key: 'tier', label: { 'zh-CN': '客户层级', en: 'Tier' }, type: 'text' } });
  });
  afterAll(async () => app.close());
  const upload = (name: string, bytes: Buffer | string, resource = 'customers', token?: string) => app.request('POST', '/api/v1/imports', { ...multipartFile(name, bytes, 'file', 'text/csv', { resource }), ...(token ? { token } : {}) });

  it('reads UTF-8, UTF-8 with a BOM, GB18030 and XLSX alike and suggests the mapping from Chinese headers', async () => {
    const sheet = new ExcelJS.Workbook();
    const rows = CSV.trim().split('\r\n').map((line) => line.split(','));
    const ws = sheet.addWorksheet('客户');
    for (const row of rows) ws.addRow(row);
    const xlsx = Buffer.from(await sheet.xlsx.writeBuffer());
    const files: [string, Buffer, string, string | undefined][] = [
      ['customers.csv', Buffer.from(CSV, 'utf8'), 'csv', 'utf-8'],
      ['customers-bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CSV, 'utf8')]), 'csv', 'utf-8-bom'],
      ['客户.csv', iconv.encode(CSV, 'gb18030'), 'csv', 'gb18030'],
      ['customers.xlsx', xlsx, 'xlsx', undefined],
    ];
    for (const [name, bytes, format, encoding] of files) {
      const response = await upload(name, bytes);
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect(response.body).toMatchObject({ resource: 'customers', rows: 2, format, columns: ['客户名称', '统一社会信用代码', '联系电话', '客户等级', '负责人', '备注'] });
      expect(response.body.encoding).toBe(encoding);
      expect(response.body.suggestedMapping).toEqual({ 客户名称: 'name', 统一社会信用代码: 'taxNumber', 联系电话: 'phone', 客户等级: 'level', 负责人: 'ownerUsername', 备注: 'notes' });
      const status = await app.request('GET', response.headers.get('location')!);
      expect(status.body).toMatchObject({ id: response.body.id, status: 'uploaded', rows: 2, created: 0, updated: 0, failed: 0, batchId: null, fileName: name });
    }
  });

  it('suggests English headers and custom fields by label', async () => {
    const response = await upload('contacts.csv', 'Full Name,Mobile,E-mail,Customer\nLi Lei,13900001111,li@example.com,Acme\n', 'contacts');
    expect(response.body.suggestedMapping).toEqual({ 'Full Name': 'name', Mobile: 'mobile', 'E-mail': 'email', Customer: 'customerName' });
    const custom = await upload('tiers.csv', 'Company Name,Tier\nAcme,gold\n');
    expect(custom.body.suggestedMapping).toEqual({ 'Company Name': 'name', Tier: 'custom.tier' });
  });

  it('saves a mapping as a named template: the next file it fits is mapped by it, or by the one named', async () => {
    const template = { mapping: { 单位: 'name', 税号: 'taxNumber', 旧系统备注: 'notes' }, matchBy: 'taxNumber', policy: { '*': 'overwrite' } };
    const saved = await app.request('PUT', `/api/v1/import-templates/customers/${encodeURIComponent('金蝶导出')}`, { body: template });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({ name: '金蝶导出', resource: 'customers', ...template });
    await app.request('PUT', '/api/v1/import-templates/customers/narrow', { body: { mapping: { 单位: 'name' } } });
    const listed = await app.request('GET', '/api/v1/import-templates?resource=customers');
    expect(listed.body.items.map((t: { name: string }) => t.name)).toEqual(['narrow', '金蝶导出']);
    // The template mapping the most of the file's columns wins over the header suggestions.
    const fitted = await upload('kd.csv', '单位,税号,旧系统备注,联系电话\n华北重工,91110000MA0000001X,迁移,010-1\n');
    expect(fitted.body.suggestedMapping).toEqual({ 单位: 'name', 税号: 'taxNumber', 旧系统备注: 'notes', 联系电话: 'phone' });
    expect(fitted.body.template).toEqual({ name: '金蝶导出', matchBy: 'taxNumber', policy: { '*': 'overwrite' } });
    // One whose columns the file lacks does not fit; one named in the upload is used.
    const narrow = await app.request('POST', '/api/v1/imports', multipartFile('n.csv', '单位,电话\n华北重工,010-1\n', 'file', 'text/csv', { resource: 'customers', template: 'narrow' }));
    expect(narrow.body.template.name).toBe('narrow');
    expect((await upload('none.csv', '客户名称\nX\n')).body.template).toBeUndefined();
    expectProblem(await app.request('POST', '/api/v1/imports', multipartFile('n.csv', '单位\nX\n', 'file', 'text/csv', { resource: 'customers', template: 'missing' })), 404, 'import_template.not_found');
    expectProblem(await app.request('PUT', '/api/v1/import-templates/customers/bad', { body: { mapping: { 单位: 'colour' } } }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/import-templates/customers/bad', { body: { mapping: { 单位: null } } }), 400, 'validation');
    expect((await app.request('DELETE', '/api/v1/import-templates/customers/narrow')).status).toBe(204);
    expectProblem(await app.request('DELETE', '/api/v1/import-templates/customers/narrow'), 404, 'import_template.not_found');
  });

  it('answers a clear 4xx for a file that is not what it claims, too large or too long, and for a missing resource', async () => {
    expectProblem(await upload('photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])), 415, 'import.unsupported_file');
    // An Excel 97–2003 workbook: the answer says what to save it as.
    const xls = await upload('customers.xls', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]));
    expectProblem(xls, 415, 'import.unsupported_file');
    expect(xls.body.detail).toMatch(/Excel 97–2003 workbook \(\.xls.*save it as an Excel workbook \(\.xlsx\) or as CSV/);
    const broken = await upload('broken.csv', 'name,notes\nAcme,"never closed\n');
    expectProblem(broken, 422, 'import.malformed_file');
    expect(broken.body.line).toBe(2);
    expectProblem(await upload('fake.xlsx', Buffer.from('PK\u0003\u0004 not a workbook')), 422, 'import.malformed_file');
    expectProblem(await upload('long.csv', `name\n${Array.from({ length: 6 }, (_, i) => `C${i}`).join('\n')}\n`), 413, 'import.too_many_rows');
    expectProblem(await upload('big.csv', `name\n${'x'.repeat(20_000)}\n`), 413, 'import.too_large');
    expectProblem(await upload('x.csv', 'name\nA\n', 'opportunities'), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/imports', { body: { resource: 'customers' } }), 415, 'unsupported_media_type');
  });

  it('takes the import grant and the record type\'s create and edit; an import is visible only in its uploader\'s scope', async () => {
    const seller = await app.userWithToken('import.seller', ['salesperson'], await app.department('Imports'));
    expectProblem(await upload('customers.csv', CSV, 'customers', seller.token), 403, 'forbidden');
    const mine = await upload('customers.csv', CSV);
    const manager = await app.userWithToken('import.manager', ['manager'], await app.department('Imports 2'));
    expectProblem(await app.request('GET', `/api/v1/imports/${mine.body.id}`, { token: manager.token }), 404, 'import.not_found');
  });
});
