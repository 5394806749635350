import ExcelJS from 'exceljs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { MalformedCsvError, MalformedWorkbookError, NotTextError, readTable, RowLimitError, UnsupportedWorkbookError } from '../../src/infra/tabular/index.ts';
import { parseCsv } from '../../src/infra/tabular/csv.ts';
import { SPREADSHEET_MAIN, unprefixed } from '../../src/infra/tabular/unprefixed.ts';
import { Readable } from 'node:stream';
import { normalizeHeader, suggestMapping } from '../../src/domain/import/mapping.ts';

const CSV = '客户名称,统一社会信用代码,联系电话,备注\r\n上海华东机械有限公司,91310000MA1FL0XX1K,021-5555 0101,"老客户, 有""特价"""\r\n杭州西湖纺织厂,,0571-8888 2222,"两行\n备注"\r\n';
const expected = {
  header: ['客户名称', '统一社会信用代码', '联系电话', '备注'],
  rows: [
    ['上海华东机械有限公司', '91310000MA1FL0XX1K', '021-5555 0101', '老客户, 有"特价"'],
    ['杭州西湖纺织厂', '', '0571-8888 2222', '两行\n备注'],
  ],
};

async function workbook(rows: unknown[][]): Promise<Uint8Array> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('客户');
  for (const row of rows) sheet.addRow(row);
  book.addWorksheet('Other').addRow(['ignored']);
  return new Uint8Array(await book.xlsx.writeBuffer());
}

/** The workbook's parts zipped again in the given order (names that match none of the patterns keep their place after). */
function reordered(bytes: Uint8Array, order: RegExp[]): Uint8Array {
  const parts = unzipSync(bytes);
  const rank = (name: string) => { const index = order.findIndex((pattern) => pattern.test(name)); return index === -1 ? order.length : index; };
  return zipSync(Object.fromEntries(Object.entries(parts).sort(([a], [b]) => rank(a) - rank(b))));
}

/** Sets the inflated size the central directory declares for one part. */
function declaringSize(bytes: Uint8Array, part: string, size: number): Uint8Array {
  const copy = Buffer.from(bytes);
  for (let at = copy.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at !== -1; at = copy.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 4)) {
    if (copy.toString('utf8', at + 46, at + 46 + copy.readUInt16LE(at + 28)) === part) copy.writeUInt32LE(size, at + 24);
  }
  return copy;
}

describe('reading an uploaded table', () => {
  it('reads CSV in UTF-8, UTF-8 with a BOM and GB18030 (Chinese Excel) alike, by its bytes', async () => {
    const utf8 = Buffer.from(CSV, 'utf8');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]);
    const gb = iconv.encode(CSV, 'gb18030');
    expect(gb.equals(utf8)).toBe(false);
    for (const [bytes, encoding] of [[utf8, 'utf-8'], [bom, 'utf-8-bom'], [gb, 'gb18030']] as const) expect(await readTable(bytes, { maxRows: 10 })).toEqual({ format: 'csv', encoding, ...expected });
  });

  it('reads the first worksheet of an XLSX workbook: numbers, dates and rich text as text, empty rows skipped', async () => {
    const bytes = await workbook([expected.header, expected.rows[0]!, [], ['杭州西湖纺织厂', null, 5712222, { richText: [{ text: '两行' }, { text: '\n备注' }] }], [new Date('2026-01-02T00:00:00Z'), 'x']]);
    const table = await readTable(bytes, { maxRows: 10 });
    expect(table.format).toBe('xlsx');
    expect(table.header).toEqual(expected.header);
    expect(table.rows).toEqual([expected.rows[0], ['杭州西湖纺织厂', '', '5712222', '两行\n备注'], ['2026-01-02T00:00:00.000Z', 'x']]);
  });

  it('reads Chinese text whole however the parts inflate, in chunks that split a character', async () => {
    const rows = Array.from({ length: 5000 }, (_, index) => [`上海华东机械有限公司第${index}号`, `备注：老客户${index}`]);
    const table = await readTable(await workbook(rows), { maxRows: 10_000 });
    expect(table.rows.filter((row, index) => row[0] !== rows[index + 1]![0] || row[1] !== rows[index + 1]![1])).toEqual([]);
  });

  it('reads the first tab whatever order the parts are zipped in and the worksheets are numbered, skipping a hidden tab', async () => {
    const book = new ExcelJS.Workbook();
    book.addWorksheet('说明', { state: 'hidden' }).addRow(['hidden notes']);
    book.addWorksheet('客户').addRow(['name']).commit();
    book.getWorksheet('客户')!.addRow(['上海华东机械有限公司']);
    book.addWorksheet('Other').addRow(['ignored']);
    const original = new Uint8Array(await book.xlsx.writeBuffer());
    // the shared strings and relationships first, the worksheets last-tab-first, the workbook part last
    const late = reordered(original, [/sharedStrings/, /styles/, /_rels/, /sheet3/, /sheet2/, /sheet1/, /workbook\.xml$/]);
    for (const bytes of [original, late]) expect((await readTable(bytes, { maxRows: 10 })).rows).toEqual([['上海华东机械有限公司']]);
  });

  it('reads a workbook whose parts bind their namespace to a prefix (<x:worksheet>, as the Open XML SDK may write)', async () => {
    const bytes = await workbook([['客户名称', '联系电话'], ['上海华东机械有限公司', 2155550101]]);
    const parts = unzipSync(bytes);
    // Each XML part's unprefixed elements moved under the prefix its default namespace is then bound to.
    const prefixed = (xml: string, prefix: string) => xml.replace(/<(\/?)([A-Za-z][\w.-]*)(?=[\s/>])/g, `<$1${prefix}:$2`).replace(/xmlns="/, `xmlns:${prefix}="`);
    for (const name of Object.keys(parts)) if (/\.(xml|rels)$/.test(name) && name.startsWith('xl/')) parts[name] = strToU8(prefixed(strFromU8(parts[name]!), name.endsWith('.rels') ? 'rel' : 'x'));
    expect(strFromU8(parts['xl/worksheets/sheet1.xml']!)).toMatch(/^<\?xml[^>]*>\s*<x:worksheet xmlns:x="/);
    expect(await readTable(zipSync(parts), { maxRows: 10 })).toMatchObject({ header: ['客户名称', '联系电话'], rows: [['上海华东机械有限公司', '2155550101']] });
  });

  it('unprefixes a part however its text is cut into chunks, and leaves a part without the prefix as it is', async () => {
    const xml = `<?xml version="1.0"?>\n<!-- a comment --><x:sst xmlns:x="${SPREADSHEET_MAIN}" xmlns:y="urn:other" count="2"><x:si><x:t>上海 &lt;x:not a tag&gt;</x:t></x:si><y:keep/></x:sst>`;
    const expected = `<?xml version="1.0"?>\n<!-- a comment --><sst xmlns:x="${SPREADSHEET_MAIN}" xmlns:y="urn:other" count="2"><si><t>上海 &lt;x:not a tag&gt;</t></si><y:keep/></sst>`;
    const read = async (chunks: string[]) => (await Readable.from(chunks).pipe(unprefixed(SPREADSHEET_MAIN)).toArray()).join('');
    for (let size = 1; size <= xml.length; size += 1) {
      const chunks = Array.from({ length: Math.ceil(xml.length / size) }, (_, i) => xml.slice(i * size, (i + 1) * size));
      expect(await read(chunks)).toBe(expected);
    }
    const plain = `<sst xmlns="${SPREADSHEET_MAIN}"><si><t>x:y</t></si></sst>`;
    expect(await read([plain.slice(0, 7), plain.slice(7)])).toBe(plain);
  });

  it('names the other spreadsheet formats it does not read, and what to save them as', async () => {
    const xls = Uint8Array.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0, 0, 0, 0, 0, 0x3e, 0, 3, 0]);
    await expect(readTable(xls, { maxRows: 10 })).rejects.toThrow(new UnsupportedWorkbookError('an Excel 97–2003 workbook (.xls, or WPS .et) or a password-protected workbook'));
    const xlsb = zipSync({ '[Content_Types].xml': strToU8('<Types/>'), 'xl/workbook.bin': new Uint8Array([0x83, 0x01, 0x00]) });
    await expect(readTable(xlsb, { maxRows: 10 })).rejects.toThrow(/Excel binary workbook \(\.xlsb\): save it as an Excel workbook \(\.xlsx\) or as CSV/);
    const ods = zipSync({ mimetype: strToU8('application/vnd.oasis.opendocument.spreadsheet'), 'content.xml': strToU8('<office:document-content/>') });
    await expect(readTable(ods, { maxRows: 10 })).rejects.toThrow(/OpenDocument spreadsheet \(\.ods\)/);
  });

  it('refuses a workbook whose parts declare a size they do not have, or more than it reads into memory', async () => {
    const bytes = await workbook([['name'], ['上海华东机械有限公司']]);
    const sharedStrings = unzipSync(bytes)['xl/sharedStrings.xml']!;
    expect(strFromU8(sharedStrings)).toContain('上海华东机械有限公司');
    await expect(readTable(declaringSize(bytes, 'xl/sharedStrings.xml', 4), { maxRows: 10 })).rejects.toThrow(MalformedWorkbookError);
    await expect(readTable(declaringSize(bytes, 'xl/sharedStrings.xml', 2 ** 31), { maxRows: 10 })).rejects.toThrow(/inflates to 2147483648 bytes/);
    await expect(readTable(zipSync({ 'xl/workbook.xml': strToU8('<workbook/>') }), { maxRows: 10 })).rejects.toThrow(/no part xl\/_rels\/workbook\.xml\.rels/);
  });

  it('takes semicolons or tabs where the header has more of them than commas', () => {
    expect(parseCsv('a;b\n1;2,5\n')).toEqual([['a', 'b'], ['1', '2,5']]);
    expect(parseCsv('a\tb\r\n1\t2')).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('refuses a file that is not what it claims: binary, UTF-16, an unclosed quote, a stray quote, a broken workbook, no header, too many rows', async () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    await expect(readTable(png, { maxRows: 10 })).rejects.toThrow(NotTextError);
    await expect(readTable(Buffer.from('\ufeffname\n', 'utf16le'), { maxRows: 10 })).rejects.toThrow(NotTextError);
    await expect(readTable(Buffer.from('name,notes\nA,"never closed\n'), { maxRows: 10 })).rejects.toThrow(expect.objectContaining({ name: 'MalformedCsvError', line: 2 }));
    await expect(readTable(Buffer.from('name\nA "quoted" B\n'), { maxRows: 10 })).rejects.toThrow(MalformedCsvError);
    await expect(readTable(Buffer.from('PK\u0003\u0004this is no workbook at all'), { maxRows: 10 })).rejects.toThrow(MalformedWorkbookError);
    await expect(readTable(Buffer.from('\n\n'), { maxRows: 10 })).rejects.toThrow(MalformedCsvError);
    await expect(readTable(Buffer.from('name\n1\n2\n3\n'), { maxRows: 2 })).rejects.toThrow(RowLimitError);
    await expect(readTable(await workbook([['name'], ['1'], ['2'], ['3']]), { maxRows: 2 })).rejects.toThrow(RowLimitError);
  });
});

describe('column mapping suggested from the headers', () => {
  it('maps Chinese headers (with full-width brackets and notes) to customer fields', () => {
    expect(suggestMapping('customers', ['客户名称（必填）', '统一社会信用代码', '联系电话', '所属行业', '客户等级', '负责人', '备注', '不认识的列'])).toEqual({
      '客户名称（必填）': 'name',
      统一社会信用代码: 'taxNumber',
      联系电话: 'phone',
      所属行业: 'industry',
      客户等级: 'level',
      负责人: 'ownerUsername',
      备注: 'notes',
      不认识的列: null,
    });
  });
  it('maps English headers, whatever their case and spacing, and a column named twice only once', () => {
    expect(suggestMapping('customers', ['Company Name', 'Tax ID', 'PHONE', 'Owner', 'phone'])).toEqual({ 'Company Name': 'name', 'Tax ID': 'taxNumber', PHONE: 'phone', Owner: 'ownerUsername', phone: null });
    expect(suggestMapping('contacts', ['Full Name', 'Mobile', 'E-mail', 'Customer'])).toEqual({ 'Full Name': 'name', Mobile: 'mobile', 'E-mail': 'email', Customer: 'customerName' });
    expect(suggestMapping('products', ['存货编码', '存货名称', '规格型号', '计量单位', '单价', '税率'])).toEqual({ 存货编码: 'code', 存货名称: 'name', 规格型号: 'specification', 计量单位: 'unit', 单价: 'standardPrice', 税率: 'taxRate' });
    expect(suggestMapping('leads', ['公司名称', '联系人', '手机', '线索来源'])).toEqual({ 公司名称: 'company', 联系人: 'person', 手机: 'phone', 线索来源: 'source' });
  });
  it('maps custom fields by key or label, after the standard fields', () => {
    const custom = [{ key: 'tier', label: { 'zh-CN': '客户层级', en: 'Tier' } }, { key: 'region2', label: { 'zh-CN': '区域', en: 'Region' } }];
    expect(suggestMapping('customers', ['客户层级', 'TIER', '区域'], custom)).toEqual({ 客户层级: 'custom.tier', TIER: null, 区域: 'region' });
    expect(normalizeHeader(' Ｅ－ｍａｉｌ（工作） ')).toBe('email');
  });
});
