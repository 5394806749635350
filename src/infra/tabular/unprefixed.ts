import { Transform } from 'node:stream';

/** The SpreadsheetML namespace (a workbook's, worksheet's, shared strings' and styles' elements). */
export const SPREADSHEET_MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
/** The namespace of a package part's relationships (`_rels/*.rels`). */
export const PACKAGE_RELATIONSHIPS = 'http://schemas.openxmlformats.org/package/2006/relationships';

/** How much of a part is held while its root element's start tag is looked for (no real part's is near this). */
const MAX_ROOT_TAG = 64 * 1024;

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The end of the root element's start tag in `text` (after the declaration and comments), or -1 while it is incomplete. */
function rootTagEnd(text: string): number {
  for (let at = text.indexOf('<'); at !== -1; at = text.indexOf('<', at + 1)) {
    if (text.startsWith('<?', at) || text.startsWith('<!', at)) continue;
    return text.indexOf('>', at);
  }
  return -1;
}

/**
 * A part's XML text with the elements of `namespace` written without their prefix. XML lets a writer bind the part's
 * namespace to a prefix (`<x:worksheet xmlns:x="…/spreadsheetml/2006/main">`, as the Open XML SDK may) instead of
 * making it the default; exceljs's parsers know the elements by their plain names only, and read such a workbook as
 * empty or not at all. The prefix is the one the root element declares for `namespace`; a part without one passes
 * through unchanged. Text and attribute values cannot hold a `<`, so only tags (and comments) are rewritten; a tag
 * split between two chunks waits for the next.
 */
export function unprefixed(namespace: string): Transform {
  let prefix: string | null | undefined;
  let carry = '';
  const rewrite = (text: string) => (prefix ? text.replaceAll(`<${prefix}:`, '<').replaceAll(`</${prefix}:`, '</') : text);
  return new Transform({
    decodeStrings: false,
    encoding: 'utf8',
    transform(chunk: string | Buffer, _encoding, done) {
      let text = carry + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      carry = '';
      if (prefix === undefined) {
        const end = rootTagEnd(text);
        if (end === -1 && text.length < MAX_ROOT_TAG) {
          carry = text;
          return done();
        }
        const root = end === -1 ? '' : text.slice(0, end);
        prefix = new RegExp(`xmlns:([A-Za-z_][\\w.-]*)\\s*=\\s*["']${escaped(namespace)}["']`).exec(root)?.[1] ?? null;
      }
      if (prefix) {
        // The last tag may be cut short: it is rewritten with the next chunk.
        const open = text.lastIndexOf('<');
        if (open !== -1 && text.indexOf('>', open) === -1) [text, carry] = [text.slice(0, open), text.slice(open)];
      }
      done(null, rewrite(text));
    },
    flush(done) {
      done(null, rewrite(carry));
    },
  });
}
