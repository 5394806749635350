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

  it('answers a clear 4xx for a file that is not what it claims, too large or too long, and for a missing resource', async () => {
    expectProblem(await upload('photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])), 415, 'import.unsupported_file');
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
