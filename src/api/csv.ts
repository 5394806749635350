import { Readable } from 'node:stream';

/** CSV for spreadsheet users: UTF-8 with BOM (Excel opens Chinese text correctly), RFC 4180 quoting. */
export interface CsvColumn<T> {
  header: string;
  /** The record field it shows, when not the header (field-level security hides the column with the field). */
  field?: string;
  value(row: T): unknown;
}

const cell = (value: unknown): string => {
  if (value === undefined || value === null) return '';
  // A number is a number (a negative one, a delta, too), never a formula.
  if (typeof value === 'number') return String(value);
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // A cell starting like a formula is shown as text, never evaluated by the spreadsheet (CSV injection).
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export function toCsv<T>(rows: Iterable<T>, columns: CsvColumn<T>[]): string {
  const lines = [columns.map((c) => cell(c.header)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => cell(c.value(row))).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/**
 * A CSV export as a stream: the header, then batch after batch of rows (at most `maxRows`), pausing between
 * batches so the event loop serves other requests meanwhile; the whole export is never held in memory.
 */
export function csvStream<T>(batches: AsyncIterable<T[]>, columns: CsvColumn<T>[], maxRows: number): Readable {
  async function* lines(): AsyncGenerator<string> {
    yield `\uFEFF${columns.map((c) => cell(c.header)).join(',')}\r\n`;
    let written = 0;
    for await (const batch of batches) {
      const rows = batch.slice(0, maxRows - written);
      if (rows.length) yield `${rows.map((row) => columns.map((c) => cell(c.value(row))).join(',')).join('\r\n')}\r\n`;
      written += rows.length;
      if (written >= maxRows) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return Readable.from(lines(), { objectMode: false });
}

export const wantsCsv = (accept: string): boolean => /\btext\/csv\b/i.test(accept);
export const CSV_TYPE = 'text/csv; charset=utf-8';
export const csvResponse = (body: string | Readable, name: string) => ({
  status: 200,
  body,
  headers: { 'Content-Type': CSV_TYPE, 'Content-Disposition': `attachment; filename="${name}.csv"` },
});

type Row = Record<string, unknown>;

/** Columns that show record fields as they are. */
export const fieldColumns = <T extends Row>(...fields: string[]): CsvColumn<T>[] => fields.map((field) => ({ header: field, value: (doc: T) => doc[field] }));

/** The minor-unit amount of a money field, `<field>Amount`, hidden together with the field. */
export const amountColumn = <T extends Row>(field: string): CsvColumn<T> => ({ header: `${field}Amount`, field, value: (doc: T) => (doc[field] as { amount?: number } | undefined)?.amount });

/** A money field as two columns, `<field>Amount` and `<field>Currency`, hidden together with the field. */
export const moneyColumns = <T extends Row>(field: string): CsvColumn<T>[] => [
  amountColumn(field),
  { header: `${field}Currency`, field, value: (doc: T) => (doc[field] as { currency?: string } | undefined)?.currency },
];
