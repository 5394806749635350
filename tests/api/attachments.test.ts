import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { multipartFile } from '../support/multipart.ts';
import { expectProblem } from '../support/problem.ts';

const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n%âãÏÓ\n'), Buffer.alloc(3000, 0x20), Buffer.from('\n%%EOF\n')]);

describe('attachments', () => {
  let app: TestApp;
  let customerId: string;
  let seller: { userId: string; token: string };
  let outsider: { userId: string; token: string };
  let auditor: { userId: string; token: string };
  const upload = (path: string, name: string, bytes: Buffer | string, token?: string, claimed?: string) => app.request('POST', path, { ...multipartFile(name, bytes, 'file', claimed), ...(token ? { token } : {}) });
  beforeAll(async () => {
    app = await startTestApp({ CRM_ATTACHMENT_MAX_BYTES: '8192' });
    const team = await app.department('Attach');
    const elsewhere = await app.department('Attach elsewhere');
    seller = await app.userWithToken('attach.seller', ['salesperson'], team);
    outsider = await app.userWithToken('attach.outsider', ['salesperson'], elsewhere);
    auditor = await app.userWithToken('attach.auditor', ['auditor'], elsewhere);
    customerId = (await app.request('POST', '/api/v1/customers', { body: { name: 'Attach Co' }, token: seller.token })).body.id;
  });
  afterAll(async () => app.close());

  it('stores a file with the type sniffed from its content, lists it, and gives the same bytes back', async () => {
    const base = `/api/v1/customers/${customerId}/attachments`;
    const added = await upload(base, '合同 2026.pdf', PDF, seller.token, 'text/html');
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ name: '合同 2026.pdf', contentType: 'application/pdf', size: PDF.length, addedBy: seller.userId });
    // The same file under the same name again: the same attachment, nothing new written.
    expect((await upload(base, '合同 2026.pdf', PDF, seller.token)).body.id).toBe(added.body.id);
    const listed = await app.request('GET', base, { token: seller.token });
    expect(listed.body.items.map((a: { id: string }) => a.id)).toEqual([added.body.id]);
    const response = await fetch(`${app.baseUrl}${base}/${added.body.id}`, { headers: { authorization: `Bearer ${seller.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="__ 2026.pdf"; filename*=UTF-8''${encodeURIComponent('合同 2026.pdf')}`);
    expect(Buffer.from(await response.arrayBuffer()).equals(PDF)).toBe(true);
    expect((await upload(base, '../../etc/report.csv', 'name,amount\r\n华东,100\r\n', seller.token)).body).toMatchObject({ name: 'report.csv', contentType: 'text/csv' });
  });

  it('refuses what it does not keep, what is too large, and bodies of the wrong kind', async () => {
    const base = `/api/v1/customers/${customerId}/attachments`;
    expectProblem(await upload(base, 'invoice.pdf', '<!DOCTYPE html><script>alert(1)</script>', seller.token), 415, 'attachment.type_not_allowed');
    expectProblem(await upload(base, 'setup.exe', Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00]), seller.token), 415, 'attachment.type_not_allowed');
    expectProblem(await upload(base, 'big.pdf', Buffer.concat([PDF, Buffer.alloc(8192)]), seller.token), 413, 'attachment.too_large');
    expectProblem(await app.request('POST', base, { token: seller.token, body: { file: 'x' } }), 415, 'unsupported_media_type');
    expectProblem(await app.request('POST', base, { token: seller.token, ...multipartFile('x.pdf', PDF, 'other') }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/customers', { token: seller.token, ...multipartFile('x.pdf', PDF) }), 415, 'unsupported_media_type');
  });

  it('follows the record\'s scope and the module\'s permissions', async () => {
    const base = `/api/v1/customers/${customerId}/attachments`;
    const id = (await app.request('GET', base, { token: seller.token })).body.items[0].id;
    expectProblem(await app.request('GET', base, { token: outsider.token }), 404, 'customer.not_found');
    expectProblem(await app.request('GET', `${base}/${id}`, { token: outsider.token }), 404, 'customer.not_found');
    expectProblem(await upload(base, 'x.pdf', PDF, outsider.token), 404, 'customer.not_found');
    expect((await app.request('GET', base, { token: auditor.token })).status).toBe(200);
    expectProblem(await upload(base, 'x.pdf', PDF, auditor.token), 403, 'forbidden');
    expectProblem(await app.request('GET', `${base}/01900000-0000-7000-8000-000000000000`, { token: seller.token }), 404, 'attachment.not_found');
    expectProblem(await app.request('DELETE', `${base}/${id}`, { token: auditor.token }), 403, 'forbidden');
    expectProblem(await app.request('DELETE', `${base}/${id}`, { token: outsider.token }), 404, 'customer.not_found');
  });

  it('a removed file leaves the list and its download, and the record\'s attachment history keeps both facts', async () => {
    const base = `/api/v1/customers/${customerId}/attachments`;
    const added = await upload(base, 'to-remove.pdf', PDF, seller.token);
    expect((await app.request('DELETE', `${base}/${added.body.id}`, { token: seller.token })).body).toEqual({ id: added.body.id, removed: true });
    expect((await app.request('GET', base, { token: seller.token })).body.items.map((a: { id: string }) => a.id)).not.toContain(added.body.id);
    expectProblem(await app.request('GET', `${base}/${added.body.id}`, { token: seller.token }), 404, 'attachment.not_found');
    expectProblem(await app.request('DELETE', `${base}/${added.body.id}`, { token: seller.token }), 404, 'attachment.not_found');
    const events = await app.services.eventStore.readStream(`attachment-${customerId}`);
    expect(events.filter((e) => (e.data as { attachmentId: string }).attachmentId === added.body.id).map((e) => e.type)).toEqual(['AttachmentAdded', 'AttachmentRemoved']);
  });
});
