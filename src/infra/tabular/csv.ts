/** A CSV file that cannot be read (an unclosed quote, a row wider than the header allows). */
export class MalformedCsvError extends Error {
  constructor(
    message: string,
    /** The 1-based line where it went wrong. */
    readonly line: number,
  ) {
    super(message);
    this.name = 'MalformedCsvError';
  }
}

/**
 * The rows of a CSV text (RFC 4180 as Excel writes it): fields separated by commas (or, when the header line has
 * more semicolons or tabs than commas, by those), quoted with `"` where they hold a separator, a quote (doubled) or
 * a line break; lines end in CRLF or LF; blank lines are skipped. Stops with MalformedCsvError at an unclosed quote
 * or a stray quote inside an unquoted field.
 */
export function parseCsv(text: string, options: { maxRows?: number } = {}): string[][] {
  const separator = guessSeparator(text);
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  let line = 1;
  let quoteLine = 0;
  const endField = () => {
    row.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRow = () => {
    endField();
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
    if (options.maxRows !== undefined && rows.length > options.maxRows) throw new RowLimitError(options.maxRows);
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (char === '\n') line++;
        field += char;
      }
      continue;
    }
    if (char === '"') {
      if (fieldStarted && field.trim() !== '') throw new MalformedCsvError(`A quote inside an unquoted field on line ${line}`, line);
      quoted = true;
      quoteLine = line;
      field = '';
      fieldStarted = true;
    } else if (char === separator) endField();
    else if (char === '\r' && text[i + 1] === '\n') continue;
    else if (char === '\n' || char === '\r') {
      endRow();
      line++;
    } else {
      field += char;
      fieldStarted = true;
    }
  }
  if (quoted) throw new MalformedCsvError(`A quoted field opened on line ${quoteLine} is never closed`, quoteLine);
  if (field !== '' || row.length) endRow();
  return rows;
}

/** More rows than a file may have. */
export class RowLimitError extends Error {
  constructor(readonly maxRows: number) {
    super(`The file has more than ${maxRows} rows`);
    this.name = 'RowLimitError';
  }
}

function guessSeparator(text: string): string {
  const header = text.slice(0, Math.max(0, text.indexOf('\n')) || text.length);
  const count = (char: string) => header.split(char).length - 1;
  const [best] = [',', ';', '\t'].map((char) => [char, count(char)] as const).sort((a, b) => b[1] - a[1]);
  return best && best[1] > 0 ? best[0] : ',';
}
