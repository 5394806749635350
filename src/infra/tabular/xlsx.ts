import ExcelJS from 'exceljs';
import { pipeline, Readable } from 'node:stream';
import { RowLimitError } from './csv.ts';
import { PACKAGE_RELATIONSHIPS, SPREADSHEET_MAIN, unprefixed } from './unprefixed.ts';
import { readZipParts, type ZipParts } from './zip.ts';

/** A spreadsheet in a format other than XLSX (an Excel 97–2003 or binary workbook, an OpenDocument spreadsheet): what to save it as instead. */
export class UnsupportedWorkbookError extends Error {
  constructor(kind: string) {
    super(`The file is ${kind}: save it as an Excel workbook (.xlsx) or as CSV, and upload that`);
    this.name = 'UnsupportedWorkbookError';
  }
}

/** A workbook that cannot be read (not a zip of Office Open XML, or no worksheet). */
export class MalformedWorkbookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedWorkbookError';
  }
}

/** A cell as text: rich text joined, a formula's result, a hyperlink's text, a date as ISO 8601, a number as written. */
function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== 'object') return String(value);
  if ('richText' in value) return value.richText.map((part) => part.text).join('');
  if ('result' in value) return cellText((value.result ?? null) as ExcelJS.CellValue);
  if ('text' in value) return cellText(value.text as ExcelJS.CellValue);
  if ('error' in value) return '';
  return String(value);
}

/**
 * The steps of exceljs's streaming WorkbookReader (lib/stream/xlsx/workbook-reader.js) that each read one part of the
 * workbook. Its own `parse` takes the parts in the archive's order, in one streaming pass of the zip that may hand a
 * worksheet over before the workbook part (exceljs#3064: "Cannot read properties of undefined (reading 'sheets')", at
 * random), and decodes each inflated chunk alone, so a character split between two chunks reads as U+FFFD. Here the parts
 * are found through the zip's central directory, read in the order they depend on each other, as whole characters.
 */
interface WorkbookReaderSteps {
  workbookRels?: { Id: string; Target: string }[];
  model?: { sheets?: { rId?: string; state?: string }[] };
  _parseRels(part: Readable): Promise<void>;
  _parseWorkbook(part: Readable): Promise<void>;
  _parseStyles(part: Readable): Promise<void>;
  _parseSharedStrings(part: Readable): AsyncGenerator<unknown>;
  _parseWorksheet(part: AsyncIterable<unknown>, sheetNo: string): Generator<{ eventType: string; value: unknown }>;
}

const WORKBOOK = 'xl/workbook.xml';
const WORKBOOK_RELS = 'xl/_rels/workbook.xml.rels';
const STYLES = 'xl/styles.xml';
const SHARED_STRINGS = 'xl/sharedStrings.xml';
/** Parts read whole into memory (all but the worksheet, which is read row by row) may inflate to at most this. */
const MAX_CACHED_PART_BYTES = 256 * 1024 * 1024;

/** The part name of the workbook's first visible worksheet (its first worksheet when all are hidden). */
function firstWorksheetPart(reader: WorkbookReaderSteps): string | undefined {
  const sheets = reader.model?.sheets ?? [];
  const sheet = sheets.find((candidate) => candidate.state !== 'hidden' && candidate.state !== 'veryHidden') ?? sheets[0];
  const target = reader.workbookRels?.find((relationship) => relationship.Id === sheet?.rId)?.Target;
  if (!target) return undefined;
  return target.startsWith('/') ? target.slice(1) : `xl/${target}`;
}

/** A part as exceljs's parsers read it: its text, the elements of its namespace unprefixed (a failure of the part's inflating ends it). */
async function openPart(parts: ZipParts, name: string, namespace = SPREADSHEET_MAIN): Promise<Readable> {
  return pipeline(await parts.openText(name), unprefixed(namespace), () => {});
}

async function openCachedPart(parts: ZipParts, name: string, namespace?: string): Promise<Readable> {
  const size = parts.sizeOf(name) ?? 0;
  if (size > MAX_CACHED_PART_BYTES) throw new MalformedWorkbookError(`The workbook's part ${name} inflates to ${size} bytes; at most ${MAX_CACHED_PART_BYTES} are read`);
  return openPart(parts, name, namespace);
}

/** The rows of the first worksheet, read as a stream: empty rows skipped, each row as wide as its last filled cell. */
async function readRows(reader: WorkbookReaderSteps, parts: ZipParts, maxRows: number | undefined): Promise<string[][]> {
  if (parts.sizeOf('xl/workbook.bin') !== undefined) throw new UnsupportedWorkbookError('an Excel binary workbook (.xlsb)');
  if (parts.sizeOf('mimetype') !== undefined && parts.sizeOf('content.xml') !== undefined) throw new UnsupportedWorkbookError('an OpenDocument spreadsheet (.ods)');
  for (const name of [WORKBOOK_RELS, WORKBOOK]) if (parts.sizeOf(name) === undefined) throw new MalformedWorkbookError(`The workbook has no part ${name}`);
  await reader._parseRels(await openCachedPart(parts, WORKBOOK_RELS, PACKAGE_RELATIONSHIPS));
  await reader._parseWorkbook(await openCachedPart(parts, WORKBOOK));
  const worksheet = firstWorksheetPart(reader);
  if (worksheet === undefined || parts.sizeOf(worksheet) === undefined) throw new MalformedWorkbookError('The workbook has no worksheet');
  if (parts.sizeOf(STYLES) !== undefined) await reader._parseStyles(await openCachedPart(parts, STYLES));
  if (parts.sizeOf(SHARED_STRINGS) !== undefined) for await (const _ of reader._parseSharedStrings(await openCachedPart(parts, SHARED_STRINGS)));
  const [opened] = reader._parseWorksheet(await openPart(parts, worksheet), /(\d+)\.xml$/.exec(worksheet)?.[1] ?? '1');
  const rows: string[][] = [];
  for await (const row of opened!.value as AsyncIterable<ExcelJS.Row>) {
    const values = Array.from((row.values as ExcelJS.CellValue[]).slice(1), (value) => cellText(value));
    while (values.length && values[values.length - 1] === '') values.pop();
    if (values.length === 0) continue;
    rows.push(values);
    if (maxRows !== undefined && rows.length > maxRows) throw new RowLimitError(maxRows);
  }
  return rows;
}

/**
 * The rows of a workbook's first visible worksheet, as text (shared strings and number formats cached, so a date cell
 * reads as a date; the worksheet itself streamed, so a file over `maxRows` stops at the first row too many).
 */
export async function readXlsx(bytes: Uint8Array, options: { maxRows?: number } = {}): Promise<string[][]> {
  const steps = { sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', worksheets: 'emit', entries: 'ignore' } as const;
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([]), steps) as unknown as WorkbookReaderSteps;
  try {
    return await readRows(reader, await readZipParts(bytes), options.maxRows);
  } catch (error) {
    if (error instanceof RowLimitError || error instanceof MalformedWorkbookError || error instanceof UnsupportedWorkbookError) throw error;
    throw new MalformedWorkbookError(`The workbook cannot be read: ${(error as Error).message}`);
  }
}
