import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/**
 * Public links: a salesperson shares a sent quote with the customer, who opens it without an account. The link
 * is signed (it cannot be forged or altered), expires, can be withdrawn, and shows nothing internal.
 */
describe('public links: sharing a quote with the customer', () => {
  const clock = new ManualClock(new Date('2026-11-30T08:00:00.000Z'));
  let app: TestApp;
  let quoteId: string;
  const publicPath = (url: string) => new URL(url).pathname;
  beforeAll(async () => {
    app = await startTestApp({ CRM_PUBLIC_URL: 'https://crm.example.com' }, { clock });
    const customer = await app.request('POST', '/api/v1/customers', { body: { name: 'Shared Quote Co' } });
    const product = await app.request('POST', '/api/v1/products', { body: { code: 'SHARE-1', name: '齿轮泵', unit: '台', standardPrice: { amount: 9_900_00, currency: 'CNY' }, taxRate: 13 } });
    const quote = await app.request('POST', '/api/v1/quotes', {
      body: { customerId: customer.body.id, currency: 'CNY', validUntil: '2027-01-31', lines: [{ productId: product.body.id, quantity: 2 }], notes: 'Internal: floor price 9,000', custom: {} },
    });
    quoteId = quote.body.id;
  });
  afterAll(async () => app.close());

  it('shares only a sent quote; the customer reads it without an account, without internal fields', async () => {
    expectProblem(await app.request('POST', `/api/v1/quotes/${quoteId}/share`, { body: {} }), 409, 'quote.not_sent');
    expect((await app.request('POST', `/api/v1/quotes/${quoteId}/send`, { body: {} })).status).toBe(200);
    const shared = await app.request('POST', `/api/v1/quotes/${quoteId}/share`, { body: { validDays: 7 } });
    expect(shared.status).toBe(201);
    expect(shared.body.url).toMatch(/^https:\/\/crm\.example\.com\/api\/v1\/public\/quotes\/[A-Za-z0-9_-]+$/);
    expect(shared.body.expiresAt).toBe('2026-12-07T08:00:00.000Z');
    const opened = await app.request('GET', publicPath(shared.body.url), { token: null });
    expect(opened.status).toBe(200);
    expect(opened.headers.get('cache-control')).toBe('no-store');
    expect(opened.body).toMatchObject({ quoteId, version: 1, status: 'sent', currency: 'CNY', totals: { net: 19_800_00, tax: 2_574_00, total: 22_374_00 } });
    expect(opened.text).not.toContain('floor price');
    for (const internal of ['notes', 'custom', 'ownerId', 'opportunityId', 'customerId']) expect(opened.body).not.toHaveProperty(internal);
  });

  it('a forged, altered or expired link answers 404 like one never issued', async () => {
    const shared = await app.request('POST', `/api/v1/quotes/${quoteId}/share`, { body: { validDays: 1 } });
    const path = publicPath(shared.body.url);
    const token = path.split('/').pop()!;
    const altered = `${token.slice(0, 20)}${token[20] === 'A' ? 'B' : 'A'}${token.slice(21)}`;
    expectProblem(await app.request('GET', `/api/v1/public/quotes/${altered}`, { token: null }), 404, 'public_link.not_found');
    expectProblem(await app.request('GET', `/api/v1/public/quotes/${'x'.repeat(60)}`, { token: null }), 404, 'public_link.not_found');
    expect((await app.request('GET', path, { token: null })).status).toBe(200);
    clock.advance(86_400_000 + 1);
    expectProblem(await app.request('GET', path, { token: null }), 404, 'public_link.not_found');
  });

  it('a withdrawn link stops at once; only someone who may edit the quote, in scope, withdraws it', async () => {
    const shared = await app.request('POST', `/api/v1/quotes/${quoteId}/share`, { body: {} });
    const path = publicPath(shared.body.url);
    const team = await app.department('Public link outsiders');
    const outsider = await app.userWithToken('links.outsider', ['salesperson'], team);
    expectProblem(await app.request('POST', `/api/v1/public-links/${shared.body.linkId}/revoke`, { token: outsider.token, body: { reason: 'x' } }), 404, 'public_link.not_found');
    const auditor = await app.userWithToken('links.auditor', ['auditor'], team);
    expectProblem(await app.request('POST', `/api/v1/public-links/${shared.body.linkId}/revoke`, { token: auditor.token, body: { reason: 'x' } }), 403, 'forbidden');
    expect((await app.request('GET', path, { token: null })).status).toBe(200);
    const revoked = await app.request('POST', `/api/v1/public-links/${shared.body.linkId}/revoke`, { body: { reason: 'Sent to the wrong address' } });
    expect(revoked.status).toBe(200);
    expectProblem(await app.request('GET', path, { token: null }), 404, 'public_link.not_found');
    const history = await app.services.eventStore.readStream(`publiclink-${shared.body.linkId}`);
    expect(history.map((e) => e.type)).toEqual(['PublicLinkIssued', 'PublicLinkRevoked']);
  });
});
