/** The encodings a spreadsheet's CSV comes in: UTF-8 (with or without the BOM Excel writes) and GB18030 (what Chinese Excel writes as "CSV"). */
export type TextEncoding = 'utf-8' | 'utf-8-bom' | 'gb18030';

/** A file that is not the text it claims to be (binary, or UTF-16, or bytes no supported encoding reads). */
export class NotTextError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NotTextError';
  }
}

const BOM = [0xef, 0xbb, 0xbf];

/**
 * The text of a CSV file and the encoding it was read in: a UTF-8 byte-order mark says UTF-8; bytes that are valid
 * UTF-8 are; anything else is read as GB18030 (a superset of GBK and GB2312). A NUL byte, a UTF-16 byte-order mark
 * or bytes GB18030 cannot read either mean it is no text file.
 */
export function decodeText(bytes: Uint8Array): { text: string; encoding: TextEncoding } {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)))
    throw new NotTextError('The file is UTF-16 text; save it as CSV UTF-8 (or CSV) and upload it again');
  if (bytes.includes(0)) throw new NotTextError('The file holds binary data (a NUL byte), not CSV text');
  if (BOM.every((byte, i) => bytes[i] === byte)) return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(3)), encoding: 'utf-8-bom' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    try {
      return { text: new TextDecoder('gb18030', { fatal: true }).decode(bytes), encoding: 'gb18030' };
    } catch {
      throw new NotTextError('The file is neither UTF-8 nor GB18030 text');
    }
  }
}
