/** A multipart/form-data body with one file, as a browser would send it. */
export function multipartFile(name: string, bytes: Buffer | string, field = 'file', claimedType = 'application/octet-stream'): { raw: Buffer; headers: Record<string, string> } {
  const boundary = `----crmtest${Math.random().toString(16).slice(2)}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${name}"\r\nContent-Type: ${claimedType}\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head, 'utf8'), Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8'), Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8')]);
  return { raw: body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
