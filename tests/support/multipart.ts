/** A multipart/form-data body with one file (and text fields before it), as a browser would send it. */
export function multipartFile(name: string, bytes: Buffer | string, field = 'file', claimedType = 'application/octet-stream', fields: Record<string, string> = {}): { raw: Buffer; headers: Record<string, string> } {
  const boundary = `----crmtest${Math.random().toString(16).slice(2)}`;
  const texts = Object.entries(fields).map(([key, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`).join('');
  const head = `${texts}--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${name}"\r\nContent-Type: ${claimedType}\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head, 'utf8'), Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8'), Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8')]);
  return { raw: body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
