import { request as httpRequest } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../src/api/app.ts';
import { problems } from '../../src/api/middleware.ts';
import { mount } from '../../src/api/route.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * Every route in /openapi.json, spelled another way (letter case, a trailing slash, `//`, `%2F`, `/./`) and sent
 * without a token, must be refused: 401 or 404, never 200 and never 500. The login and the public routes are
 * the only exemptions, and they too never answer 500. Requests go out byte for byte (node:http, not fetch,
 * which would normalise `/./` and `//` away).
 */
const ID = '01900000-0000-7000-8000-000000000001';

function raw(baseUrl: string, method: string, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: method === 'GET' ? {} : { 'content-type': 'application/json', 'content-length': '2' } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : '{}');
  });
}

/** The spellings of one path that a case-insensitive or normalising matcher would take for it. */
export function pathVariants(path: string): Record<string, string> {
  const segments = path.split('/');
  const last = segments.length - 1;
  const upper = path.replace(/[a-z]/g, (c) => c.toUpperCase());
  const firstUpper = segments.map((s, i) => (i === last ? s.charAt(0).toUpperCase() + s.slice(1) : s)).join('/');
  return {
    'upper case': upper,
    'one capital': firstUpper === path ? path.replace('/api/', '/Api/') : firstUpper,
    'API prefix upper': path.replace('/api/', '/API/'),
    'trailing slash': `${path}/`,
    'double slash inside': `${segments.slice(0, last).join('/')}//${segments[last]}`,
    'double slash first': `/${path}`,
    'encoded slash': `${segments.slice(0, last).join('/')}%2F${segments[last]}`,
    'encoded slash lower': `${segments.slice(0, last).join('/')}%2f${segments[last]}`,
    'dot segment': `${segments.slice(0, last).join('/')}/./${segments[last]}`,
    'dot-dot segment': `${segments.slice(0, last).join('/')}/x/../${segments[last]}`,
  };
}

describe('path variants without a token', () => {
  let app: TestApp;
  let operations: { method: string; path: string }[] = [];
  beforeAll(async () => {
    app = await startTestApp();
    const document = (await app.request('GET', '/openapi.json', { token: null })).body as { paths: Record<string, Record<string, unknown>> };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[a-zA-Z]+\}/g, (name) => (name === '{resource}' || name === '{kind}' ? 'customers' : ID)) })),
    );
  });
  afterAll(async () => app.close());

  it('GET /API/v1/employees (the reported case) is not answered with the staff directory', async () => {
    for (const path of ['/API/v1/employees', '/API/v1/customers', '/api/v1/Employees', '/api/v1/employees/'])
      expect([401, 404], path).toContain((await raw(app.baseUrl, 'GET', path)).status);
  });

  it('every route, in every spelling, answers 401 or 404 without a token (login and public routes never 500)', { timeout: 120_000 }, async () => {
    expect(operations.length).toBeGreaterThan(100);
    const failures: string[] = [];
    for (const { method, path } of operations) {
      const exempt = path === '/api/v1/auth/login' || path.startsWith('/api/v1/public/');
      for (const [variant, spelled] of Object.entries({ exact: path, ...pathVariants(path) })) {
        const { status, body } = await raw(app.baseUrl, method, spelled);
        const allowed = exempt ? status < 500 : status === 401 || status === 404;
        if (!allowed) failures.push(`${method} ${spelled} (${variant}) → ${status} ${body.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a route still answers its exact path with a token', async () => {
    const response = await app.request('GET', '/api/v1/employees');
    expect(response.status).toBe(200);
  });
});

describe('a route that needs an actor', () => {
  it('refuses to run without one even when no authentication middleware ran (401)', async () => {
    const app = await startTestApp();
    const koa = new Koa();
    const router = new Router();
    for (const route of apiRoutes) mount(router, app.services, route);
    koa.use(problems());
    koa.use(router.routes());
    const server = koa.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const path of ['/api/v1/employees', '/api/v1/customers', '/api/v1/me']) expect((await raw(base, 'GET', path)).status, path).toBe(401);
      expect((await raw(base, 'POST', '/api/v1/customers')).status).toBe(401);
    } finally {
      server.close();
      await app.close();
    }
  });
});
