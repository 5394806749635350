import ExcelJS from 'exceljs';
import { Readable } from 'node:stream';
import { RowLimitError } from './csv.ts';

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
 * The rows of a workbook's first worksheet, as text, read as a stream (shared strings and number formats cached, so a
 * date cell reads as a date):
 * empty rows are skipped, each row as wide as its last filled cell.
 */
export async function readXlsx(bytes: Uint8Array, options: { maxRows?: number } = {}): Promise<string[][]> {
  const rows: string[][] = [];
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([Buffer.from(bytes)]), { sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', worksheets: 'emit', entries: 'ignore' });
  let sheets = 0;
  try {
    for await (const worksheet of reader) {
      sheets += 1;
      if (sheets > 1) continue; // the first worksheet only (the reader must still be drained)
      for await (const row of worksheet as AsyncIterable<ExcelJS.Row>) {
        const values = Array.from((row.values as ExcelJS.CellValue[]).slice(1), (value) => cellText(value));
        while (values.length && values[values.length - 1] === '') values.pop();
        if (values.length === 0) continue;
        rows.push(values);
        if (options.maxRows !== undefined && rows.length > options.maxRows) throw new RowLimitError(options.maxRows);
      }
    }
  } catch (error) {
    if (error instanceof RowLimitError) throw error;
    throw new MalformedWorkbookError(`The workbook cannot be read: ${(error as Error).message}`);
  }
  if (sheets === 0) throw new MalformedWorkbookError('The workbook has no worksheet');
  return rows;
}
