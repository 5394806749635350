import { afterEach, describe, expect, it } from 'vitest';
import { jsonLogger } from '../../src/infra/logger.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

describe('operations', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('writes structured JSON logs carrying the correlation id of each request', async () => {
    const lines: string[] = [];
    app = await startTestApp({}, { logger: jsonLogger('info', (line) => lines.push(line)) });
    await app.request('GET', '/api/v1/customers', { headers: { 'x-correlation-id': 'corr-42' } });
    const created = await app.request('GET', `/api/v1/customers/${'0'.repeat(8)}?secret=query-value`, { headers: { 'x-correlation-id': 'corr-43' } });
    expect(created.status).toBeGreaterThanOrEqual(400);
    await app.request('POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'a-wrong-password-in-a-body' }, headers: { 'x-correlation-id': 'corr-44' } });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const entry = entries.find((e) => e.msg === 'request' && e.correlationId === 'corr-42');
    // pino's line: one per request, with the route template, the status, the duration and who asked.
    expect(entry).toMatchObject({ level: 'info', method: 'GET', route: '/api/v1/customers', path: '/api/v1/customers', status: 200, actorId: expect.any(String), durationMs: expect.any(Number), traceId: expect.stringMatching(/^[0-9a-f]{32}$/), pid: process.pid });
    expect(entry!.time).toMatch(/Z$/);
    expect(entries.find((e) => e.msg === 'request' && e.correlationId === 'corr-43')).toMatchObject({ route: '/api/v1/customers/:id', status: created.status });
    expect(entries.find((e) => e.msg === 'request' && e.correlationId === 'corr-44')).toMatchObject({ route: '/api/v1/auth/login', status: 401 });
    // Never a body, a query string or a secret.
    expect(lines.join('')).not.toContain('admin-password-1');
    expect(lines.join('')).not.toContain('a-wrong-password-in-a-body');
    expect(lines.join('')).not.toContain('query-value');
  });

  it('answers an unexpected failure with a 500 problem that hides internals, and logs it', async () => {
    const lines: string[] = [];
    app = await startTestApp({}, { logger: jsonLogger('info', (line) => lines.push(line)) });
    const token = await app.login();
    app.services.readStore.collection = () => {
      throw new Error('boom in /secret/internal/path.ts:12');
    };
    const response = await app.request('GET', '/api/v1/customers', { token, headers: { 'x-correlation-id': 'corr-500' } });
    expectProblem(response, 500, 'internal');
    expect(response.text).not.toContain('secret');
    expect(response.body.correlationId).toBe('corr-500');
    expect(lines.some((line) => line.includes('"unhandled error"') && line.includes('corr-500') && line.includes('boom'))).toBe(true);
  });

  it('/readyz names a failed projection (degraded, not down) without its error; admins read why in /api/v1/admin/status', async () => {
    app = await startTestApp();
    const token = await app.login();
    const collection = app.services.readStore.collection.bind(app.services.readStore);
    app.services.readStore.collection = (name: string) => {
      if (name === 'customers') throw new Error('disk on fire');
      return collection(name);
    };
    await app.request('POST', '/api/v1/customers', { token, body: { name: 'Breaks The Projection' } });
    // Asked at once: a projection that stops while /readyz waits for it is named failed, not behind.
    // On a loaded machine the other projections may still be catching up (503, "behind"): ask again until they are.
    let response = await app.request('GET', '/readyz', { token: null });
    for (let i = 0; i < 10 && response.status === 503 && response.body.checks?.projections === 'behind'; i++) response = await app.request('GET', '/readyz', { token: null });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({ status: 'degraded', checks: { 'projection:customers': 'failed' } });
    expect(response.text).not.toContain('disk on fire');
    const status = await app.request('GET', '/api/v1/admin/status', { token });
    expect(status.body.details['projection:customers']).toContain('disk on fire');
  });

  it('/readyz answers 503 naming the part when a store is away, and never its error text', async () => {
    app = await startTestApp();
    app.services.readStore.ping = async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:27017');
    };
    const response = await app.request('GET', '/readyz', { token: null });
    expectProblem(response, 503, 'not_ready');
    expect(response.body.checks.readStore).toBe('unavailable');
    expect(response.text).not.toContain('10.0.0.7');
    expect(response.headers.get('retry-after')).toBe('1');
  });
});
