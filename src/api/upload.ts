import busboy from 'busboy';
import type { Context } from 'koa';
import { HttpProblem } from './problem.ts';

/** A file name as stored: no directories, no control characters, at most 255 characters. */
const cleanName = (name: string | undefined) =>
  [...(name ?? '').replace(/^.*[/\\]/, '')]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join('')
    .trim()
    .slice(0, 255) || 'file';

/** Room for the multipart framing (boundaries, part headers, a few small fields) around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * Reads the one file of a multipart/form-data upload (field `file`), at most `maxBytes` (`tooLarge` answers one
 * larger), and its few text fields.
 */
export function readUpload(ctx: Context, maxBytes: number, tooLarge: (maxBytes: number) => HttpProblem): Promise<{ name: string; bytes: Buffer; fields: Record<string, string> }> {
  if (!ctx.is('multipart/form-data')) throw new HttpProblem(415, 'unsupported_media_type', 'Unsupported media type', 'Upload the file as multipart/form-data in a field named file');
  // A body declared larger than the file may be (with room for the multipart framing) is refused before it is read.
  const declared = Number(ctx.get('content-length') || NaN);
  if (declared > maxBytes + MULTIPART_OVERHEAD) throw tooLarge(maxBytes);
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: ctx.req.headers, limits: { files: 1, fileSize: maxBytes, fields: 10, parts: 12 }, defParamCharset: 'utf8' });
    } catch (error) {
      reject(new HttpProblem(400, 'validation', 'Invalid request', `Malformed multipart body: ${(error as Error).message}`, { errors: [{ path: 'body', message: 'Malformed multipart body' }] }));
      return;
    }
    let upload: { name: string; bytes: Buffer } | undefined;
    let failure: HttpProblem | undefined;
    const fields: Record<string, string> = {};
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      if (field !== 'file') return void stream.resume();
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => (failure = tooLarge(maxBytes)));
      stream.on('close', () => {
        if (!failure) upload = { name: cleanName(info.filename), bytes: Buffer.concat(chunks) };
      });
    });
    parser.on('error', (error: Error) => reject(new HttpProblem(400, 'validation', 'Invalid request', `Malformed multipart body: ${error.message}`, { errors: [{ path: 'body', message: 'Malformed multipart body' }] })));
    parser.on('close', () => {
      if (failure) reject(failure);
      else if (!upload) reject(new HttpProblem(400, 'validation', 'Invalid request', 'No file: send it in a multipart field named file', { errors: [{ path: 'file', message: 'Required' }] }));
      else resolve({ ...upload, fields });
    });
    ctx.req.pipe(parser);
  });
}
