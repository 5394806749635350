import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/**
 * Exports cannot block the server: they are streamed page by page (yielding between pages) and capped at
 * CRM_EXPORT_MAX_ROWS; a larger one is refused with 413 before a byte is sent, saying how to narrow it. (How
 * responsive the server stays during a 100k-row export is measured by `npm run bench`:
 * healthz_p99_during_export_ms.)
 */
describe('CSV exports', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ CRM_EXPORT_MAX_ROWS: '5' });
    for (let i = 0; i < 7; i++) await app.request('POST', '/api/v1/customers', { body: { name: `Export Co ${i}`, region: i < 3 ? '华东' : '华南' } });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  });
  afterAll(async () => app.close());

  it('over the cap: 413 naming the size and the cap, with how to narrow it', async () => {
    const response = await app.request('GET', '/api/v1/customers', { headers: { accept: 'text/csv' } });
    expectProblem(response, 413, 'export.too_large');
    expect(response.body).toMatchObject({ rows: 7, maxRows: 5 });
    expect(response.body.detail).toMatch(/Narrow it with filters/);
  });

  it('within the cap: streamed (chunked), every matching row once, hidden columns left out', async () => {
    const response = await app.request('GET', '/api/v1/customers?region=%E5%8D%8E%E4%B8%9C', { headers: { accept: 'text/csv' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    const lines = response.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,/);
    expect(lines.slice(1).map((line) => line.split(',')[1]).sort()).toEqual(['Export Co 0', 'Export Co 1', 'Export Co 2']);
  });

  it('the pool counts only pool customers against the cap', async () => {
    const response = await app.request('GET', '/api/v1/customer-pool', { headers: { accept: 'text/csv' } });
    expect(response.status).toBe(200);
    expect(response.text.replace(/^\uFEFF/, '').trim().split('\r\n')).toHaveLength(1);
  });
});
