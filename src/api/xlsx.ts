import ExcelJS from 'exceljs';
import { PassThrough, type Readable } from 'node:stream';
import type { CsvColumn } from './csv.ts';

/** Excel's workbook (Office Open XML), asked for with `Accept` on the same list URLs as CSV. */
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const wantsXlsx = (accept: string): boolean => accept.toLowerCase().includes(XLSX_TYPE);

/** A cell's value: numbers, text and booleans as they are, anything structured (money, lists) as JSON text. */
const cellOf = (value: unknown): ExcelJS.CellValue => {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  return JSON.stringify(value);
};

/**
 * An export as an XLSX workbook of one sheet, streamed (exceljs's streaming writer: each row is written out as it
 * is added, shared strings off, so the whole export is never held in memory), with the CSV export's columns and
 * row cap; it pauses between batches so the event loop serves other requests meanwhile. A text cell starting
 * with `=` stays text: a workbook's cell is a formula only when written as one.
 */
export function xlsxStream<T>(batches: AsyncIterable<T[]>, columns: CsvColumn<T>[], maxRows: number, sheetName: string): Readable {
  const out = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: false, useSharedStrings: false });
  const sheet = workbook.addWorksheet(sheetName.slice(0, 31));
  void (async () => {
    sheet.addRow(columns.map((column) => column.header)).commit();
    let written = 0;
    for await (const batch of batches) {
      for (const row of batch.slice(0, maxRows - written)) sheet.addRow(columns.map((column) => cellOf(column.value(row)))).commit();
      written += Math.min(batch.length, maxRows - written);
      if (written >= maxRows) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    sheet.commit();
    await workbook.commit();
  })().catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
  return out;
}

export const xlsxResponse = (body: Readable, name: string) => ({
  status: 200,
  body,
  headers: { 'Content-Type': XLSX_TYPE, 'Content-Disposition': `attachment; filename="${name}.xlsx"` },
});
