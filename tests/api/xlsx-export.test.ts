import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XLSX_TYPE } from '../../src/api/xlsx.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/** Parses CSV as the export writes it (RFC 4180 quoting, a BOM first). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endCell();
    else if (c === '\r' && text[i + 1] === '\n') {
      endCell();
      rows.push(row);
      row = [];
      i++;
    } else cell += c;
  }
  return rows;
}

/** Every list also exports as an XLSX workbook (issue 18): the CSV export's columns and rows, opened back with exceljs. */
describe('XLSX exports', () => {
  let app: TestApp;
  let restricted: string;
  let viewer: string;
  const xlsx = async (path: string, token?: string) => {
    const response = await fetch(`${app.baseUrl}${path}`, { headers: { accept: XLSX_TYPE, authorization: `Bearer ${token ?? (await app.login())}` } });
    return { response, bytes: Buffer.from(await response.arrayBuffer()) };
  };
  const rowsOf = async (bytes: Buffer) => {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(bytes as never);
    const sheet = workbook.worksheets[0]!;
    const rows: { values: unknown[]; types: number[] }[] = [];
    sheet.eachRow((row) => rows.push({ values: (row.values as unknown[]).slice(1), types: Array.from({ length: row.cellCount }, (_, i) => row.getCell(i + 1).type) }));
    return { name: sheet.name, rows };
  };

  beforeAll(async () => {
    app = await startTestApp();
    await app.request('POST', '/api/v1/settings/fields/customers', { body: { key: 'tier', label: { 'zh-CN': '等级', en: 'Tier' }, type: 'text' } });
    const department = await app.department('XLSX');
    const role = await app.request('POST', '/api/v1/roles', { body: { name: 'Exports, no revenue', permissions: { customers: ['view', 'export'] }, dataScope: 'all', fieldSecurity: { customers: { annualRevenue: 'hidden' } } } });
    await app.request('POST', '/api/v1/employees', { body: { name: 'Exporter', departmentId: department, username: 'exporter', password: 'exporter-pass-1', roleIds: [role.body.id] } });
    restricted = await app.firstLogin('exporter', 'exporter-pass-1');
    const noExport = await app.request('POST', '/api/v1/roles', { body: { name: 'Views only', permissions: { customers: ['view'] }, dataScope: 'all' } });
    await app.request('POST', '/api/v1/employees', { body: { name: 'Viewer', departmentId: department, username: 'viewer', password: 'viewer-pass-1', roleIds: [noExport.body.id] } });
    viewer = await app.firstLogin('viewer', 'viewer-pass-1');
    for (const [i, name] of ['上海精工机械有限公司', '=HYPERLINK("http://evil.example","点我")', 'Acme, "Quoted" Ltd'].entries())
      expect((await app.request('POST', '/api/v1/customers', { body: { name, industry: '机械制造', annualRevenue: { amount: (i + 1) * 987_654_00, currency: 'CNY' }, custom: { tier: `T${i}` } } })).status).toBe(201);
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  });
  afterAll(async () => app.close());

  it('holds the CSV export\'s header and rows, numbers as numbers, as an attachment of the XLSX type', async () => {
    const { response, bytes } = await xlsx('/api/v1/customers?sort=name');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(XLSX_TYPE);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="customers.xlsx"');
    const { name, rows } = await rowsOf(bytes);
    expect(name).toBe('customers');
    const csv = parseCsv((await app.request('GET', '/api/v1/customers?sort=name', { headers: { accept: 'text/csv' } })).text);
    expect(rows[0]!.values).toEqual(csv[0]);
    expect(rows).toHaveLength(csv.length);
    const column = (header: string) => csv[0]!.indexOf(header);
    for (const [i, row] of rows.slice(1).entries()) {
      const csvRow = csv[i + 1]!;
      expect(row.values[column('id')]).toBe(csvRow[column('id')]);
      expect(row.values[column('custom.tier')]).toBe(csvRow[column('custom.tier')]);
      // A number in the workbook; the same digits in the CSV.
      expect(row.values[column('annualRevenueAmount')]).toBe(Number(csvRow[column('annualRevenueAmount')]));
      // CSV writes a formula-like text with a leading quote; the workbook keeps the text as text.
      expect(row.values[column('name')]).toBe(csvRow[column('name')]!.replace(/^'(?==)/, ''));
    }
  });

  it('writes a formula-like name as text, never as a formula', async () => {
    const { rows } = await rowsOf((await xlsx('/api/v1/customers')).bytes);
    const header = rows[0]!.values as string[];
    const formulaLike = rows.find((row) => String(row.values[header.indexOf('name')]).startsWith('=HYPERLINK'))!;
    expect(formulaLike.types[header.indexOf('name')]).toBe(ExcelJS.ValueType.String);
    for (const row of rows) expect(row.types).not.toContain(ExcelJS.ValueType.Formula);
  });

  it('leaves out what is hidden from the caller, needs export, and keeps the row cap', async () => {
    const { rows } = await rowsOf((await xlsx('/api/v1/customers', restricted)).bytes);
    expect(rows[0]!.values).not.toContain('annualRevenueAmount');
    expect(JSON.stringify(rows)).not.toMatch(/98765400|197530800/);
    expect(rows).toHaveLength(4);
    const refused = await app.request('GET', '/api/v1/customers', { token: viewer, headers: { accept: XLSX_TYPE } });
    expectProblem(refused, 403, 'forbidden');
    const capped = await startTestApp({ CRM_EXPORT_MAX_ROWS: '2' });
    try {
      for (const name of ['One Co', 'Two Co', 'Three Co']) await capped.request('POST', '/api/v1/customers', { body: { name } });
      await capped.services.runner.waitFor(await capped.services.eventStore.headPosition(), 5000);
      expectProblem(await capped.request('GET', '/api/v1/customers', { headers: { accept: XLSX_TYPE } }), 413, 'export.too_large');
    } finally {
      await capped.close();
    }
  });
});
