import { decodeText, NotTextError, type TextEncoding } from './decode.ts';
import { MalformedCsvError, parseCsv, RowLimitError } from './csv.ts';
import { MalformedWorkbookError, readXlsx, UnsupportedWorkbookError } from './xlsx.ts';

export { MalformedCsvError, MalformedWorkbookError, NotTextError, RowLimitError, UnsupportedWorkbookError };

/** A table read from an uploaded file: its header row and the rows under it, as text. */
export interface Table {
  format: 'csv' | 'xlsx';
  /** For CSV: the encoding it was read in. */
  encoding?: TextEncoding;
  header: string[];
  rows: string[][];
}

const ZIP = [0x50, 0x4b, 0x03, 0x04];
/** An OLE2 compound file: an Excel 97–2003 workbook (.xls; WPS's .et), or an encrypted (password-protected) .xlsx. */
const COMPOUND_FILE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/**
 * Reads a CSV (UTF-8, UTF-8 with BOM, GB18030) or XLSX file, by its content, not its name: a zip is read as a
 * workbook, anything else as CSV text. The first non-empty row is the header. Throws NotTextError,
 * UnsupportedWorkbookError, MalformedCsvError, MalformedWorkbookError or RowLimitError for a file that is not what it
 * claims, in another spreadsheet format, or too long.
 */
export async function readTable(bytes: Uint8Array, options: { maxRows: number }): Promise<Table> {
  if (COMPOUND_FILE.every((byte, i) => bytes[i] === byte)) throw new UnsupportedWorkbookError('an Excel 97–2003 workbook (.xls, or WPS .et) or a password-protected workbook');
  const isZip = ZIP.every((byte, i) => bytes[i] === byte);
  let rows: string[][];
  let encoding: TextEncoding | undefined;
  if (isZip) rows = await readXlsx(bytes, { maxRows: options.maxRows + 1 });
  else {
    const decoded = decodeText(bytes);
    encoding = decoded.encoding;
    rows = parseCsv(decoded.text, { maxRows: options.maxRows + 1 });
  }
  const [header, ...data] = rows;
  if (!header || header.every((cell) => cell.trim() === '')) throw new MalformedCsvError('The file has no header row', 1);
  return { format: isZip ? 'xlsx' : 'csv', ...(encoding ? { encoding } : {}), header: header.map((cell) => cell.trim()), rows: data };
}
