import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

describe('HTTP platform', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app.close());

  describe('authentication', () => {
    it('logs in and answers a token with its expiry', async () => {
      const response = await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'admin', password: ADMIN_PASSWORD } });
      expect(response.status).toBe(200);
      expect(response.body.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(new Date(response.body.expiresAt).getTime()).toBeGreaterThan(Date.now());
    });

    it('answers 401 with the same message for an unknown user and a wrong password', async () => {
      const unknown = await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'nobody', password: 'whatever-123' } });
      const wrong = await app.request('POST', '/api/v1/auth/login', { token: null, body: { username: 'admin', password: 'wrong-password' } });
      expectProblem(unknown, 401, 'invalid_credentials');
      expectProblem(wrong, 401, 'invalid_credentials');
      expect(unknown.body.detail).toBe(wrong.body.detail);
    });

    it('refuses /api/v1 calls without a token, with a bad one, or with a forged one', async () => {
      expectProblem(await app.request('GET', '/api/v1/customers', { token: null }), 401, 'unauthorized');
      expectProblem(await app.request('GET', '/api/v1/customers', { token: 'not-a-token' }), 401, 'unauthorized');
      const token = await app.login();
      const [h, p] = token.split('.');
      expectProblem(await app.request('GET', '/api/v1/customers', { token: `${h}.${p}.${'A'.repeat(43)}` }), 401, 'unauthorized');
      const response = await app.request('GET', '/api/v1/customers', { token: null });
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('tells who the token belongs to', async () => {
      const response = await app.request('GET', '/api/v1/me');
      expect(response.body).toMatchObject({ username: 'admin', dataScope: 'all', departmentId: null, departmentPath: '/' });
      expect(response.body.permissions.settings).toEqual(['view', 'create', 'edit', 'delete', 'export', 'assign', 'approve']);
    });
  });

  describe('errors are problem+json', () => {
    it('unknown route → 404', async () => {
      expectProblem(await app.request('GET', '/api/v1/nothing-here'), 404, 'not_found');
      expectProblem(await app.request('GET', '/nothing', { token: null }), 404, 'not_found');
    });

    it('wrong method → 405 with Allow', async () => {
      const response = await app.request('PUT', '/api/v1/customers', { body: {} });
      expectProblem(response, 405, 'method_not_allowed');
      expect(response.headers.get('allow')).toContain('POST');
    });

    it('malformed JSON → 400', async () => {
      expectProblem(await app.request('POST', '/api/v1/customers', { raw: '{"name": ', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json');
    });

    it('another content type → 415', async () => {
      expectProblem(await app.request('POST', '/api/v1/customers', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    });

    it('a body over 1 MiB → 413, and nothing is written', async () => {
      const before = await app.services.eventStore.headPosition();
      const response = await app.request('POST', '/api/v1/customers', { body: { name: 'Big', notes: 'x'.repeat(1024 * 1024 + 10) } });
      expectProblem(response, 413, 'payload_too_large');
      expect(await app.services.eventStore.headPosition()).toBe(before);
    });

    it('invalid fields → 400 listing every path', async () => {
      const response = await app.request('POST', '/api/v1/customers', { body: { name: 42, website: 'nope', annualRevenue: { amount: 0.5, currency: 'CNY' }, extra: true } });
      expectProblem(response, 400, 'validation');
      expect(response.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['annualRevenue.amount', 'extra', 'name', 'website']);
    });

    it('unknown list filters → 400', async () => {
      const response = await app.request('GET', '/api/v1/customers?colour=red');
      expectProblem(response, 400, 'validation');
      expect(response.body.errors[0].path).toBe('query.colour');
    });

    it('a limit outside 1..200 → 400', async () => {
      expectProblem(await app.request('GET', '/api/v1/customers?limit=500'), 400, 'validation');
      expectProblem(await app.request('GET', '/api/v1/customers?limit=0'), 400, 'validation');
    });

    it('a malformed id → 400; an unknown one → 404', async () => {
      expectProblem(await app.request('GET', '/api/v1/customers/abc'), 400, 'validation');
      expectProblem(await app.request('GET', '/api/v1/customers/01900000-0000-7000-8000-000000000000'), 404, 'customer.not_found');
    });

    it('a malformed cursor → 400', async () => {
      expectProblem(await app.request('GET', '/api/v1/customers?cursor=garbage'), 400, 'validation');
    });

    it('a malformed If-Match or X-Min-Position → 400', async () => {
      const created = await app.request('POST', '/api/v1/customers', { body: { name: 'Header Test Co' } });
      expectProblem(await app.request('PATCH', `/api/v1/customers/${created.body.id}`, { body: {}, headers: { 'if-match': 'yesterday' } }), 400, 'validation');
      expectProblem(await app.request('GET', '/api/v1/customers', { headers: { 'x-min-position': '-1' } }), 400, 'validation');
    });
  });

  describe('operations', () => {
    it('/healthz answers without a token', async () => {
      const response = await app.request('GET', '/healthz', { token: null });
      expect(response).toMatchObject({ status: 200, body: { status: 'ok' } });
    });

    it('/readyz checks the stores and the projections', async () => {
      const response = await app.request('GET', '/readyz', { token: null });
      expect(response.status).toBe(200);
      expect(response.body.checks).toEqual({ eventStore: 'ok', readStore: 'ok', projections: 'ok' });
    });

    it('/metrics serves Prometheus text', async () => {
      await app.request('GET', '/api/v1/customers');
      const response = await app.request('GET', '/metrics', { token: null });
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(response.text).toMatch(/# TYPE http_requests_total counter/);
      expect(response.text).toMatch(/http_requests_total\{method="GET",route="\/api\/v1\/customers",status="200"\} \d+/);
      expect(response.text).toMatch(/crm_projection_position\{projection="customers"\} \d+/);
      // prom-client: the request-duration histogram by method, route and status; projection lag; process metrics.
      expect(response.text).toMatch(/# TYPE http_request_duration_seconds histogram/);
      expect(response.text).toMatch(/http_request_duration_seconds_bucket\{le="0\.5",method="GET",route="\/api\/v1\/customers",status="200"\} \d+/);
      expect(response.text).toMatch(/crm_projection_lag_events\{projection="customers"\} \d+/);
      expect(response.text).toMatch(/crm_kafka_relay_lag_events 0/);
      for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds']) expect(response.text).toContain(`# TYPE ${name}`);
    });

    it('/metrics shows how far each integration consumer is behind', async () => {
      let stuck = true;
      const consumer = await app.services.eventSource.consume('metrics-lag-test', ['customer'], async () => {
        if (stuck) throw new Error('not yet');
      });
      try {
        await app.request('POST', '/api/v1/customers', { body: { name: 'Lagging consumer customer' } });
        const behind = await app.request('GET', '/metrics', { token: null });
        const lag = Number(/crm_consumer_lag_events\{group="metrics-lag-test"\} (\d+)/.exec(behind.text)?.[1]);
        expect(lag).toBeGreaterThan(0);
        stuck = false;
        await expect.poll(async () => /crm_consumer_lag_events\{group="metrics-lag-test"\} (\d+)/.exec((await app.request('GET', '/metrics', { token: null })).text)?.[1], { timeout: 10_000 }).not.toBe(String(lag));
      } finally {
        await consumer.close();
      }
      expect((await app.request('GET', '/metrics', { token: null })).text).not.toContain('metrics-lag-test');
    });

    it('/openapi.json is OpenAPI 3.1 generated from the schemas', async () => {
      const response = await app.request('GET', '/openapi.json', { token: null });
      expect(response.body.openapi).toBe('3.1.0');
      const post = response.body.paths['/api/v1/customers'].post;
      expect(post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CustomerInput' });
      const input = response.body.components.schemas.CustomerInput;
      expect(input.required).toEqual(['name']);
      expect(input.additionalProperties).toBe(false);
      expect(input.properties.annualRevenue).toEqual({ $ref: '#/components/schemas/Money' });
      expect(response.body.components.schemas.Money.properties.amount.type).toBe('integer');
      expect(response.body.paths['/api/v1/customers/{id}'].patch.parameters.map((p: { name: string }) => p.name)).toContain('If-Match');
      expect(JSON.stringify(response.body)).not.toContain('#/$defs/');
      expect(input.properties.custom).toEqual({ $ref: '#/components/schemas/CustomValues' });
      expect(response.body.components.schemas.CustomValues.description).toContain('/api/v1/settings/fields/');
      expect(response.body.paths['/api/v1/settings/fields/{resource}'].post.requestBody).toBeDefined();
      // Examples for the main request and response bodies, and the problem every error answers with.
      for (const name of ['CustomerInput', 'ContactInput', 'LoginInput', 'WriteResult', 'Problem']) expect(response.body.components.schemas[name].examples?.length, name).toBeGreaterThan(0);
      // Every /api operation documents the answers the service gives it, and the headers' formats.
      const list = response.body.paths['/api/v1/customers'].get;
      expect(Object.keys(list.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '429', '503']));
      expect(list.parameters.find((p: { name: string }) => p.name === 'X-Min-Position').schema.pattern).toBeDefined();
      expect(list.parameters.find((p: { name: string }) => p.name === 'traceparent').schema.pattern).toBe('^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$');
      expect(list.parameters.find((p: { name: string }) => p.name === 'sort').schema.anyOf[0].enum).toContain('-updatedAt');
    });

    it('/docs is an API reference (Swagger UI) served from node_modules, with no CDN, rendering /openapi.json', async () => {
      const response = await app.request('GET', '/docs', { token: null });
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const sources = [...response.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(sources.length).toBeGreaterThanOrEqual(4);
      for (const source of sources) {
        expect(source, 'no external host').toMatch(/^\/docs\/assets\//);
        const asset = await app.request('GET', source, { token: null });
        expect(asset.status, source).toBe(200);
        expect(asset.text.length, source).toBeGreaterThan(source.endsWith('init.js') ? 100 : 10_000);
      }
      const init = await app.request('GET', '/docs/assets/init.js', { token: null });
      expect(init.text).toContain("url: '/openapi.json'");
      expect(init.text).toContain('persistAuthorization: true');
      expect((await app.request('GET', '/docs/assets/..%2Fpackage.json', { token: null })).status).toBe(404);
    });

    it('echoes a correlation id, or makes one', async () => {
      const given = await app.request('GET', '/healthz', { token: null, headers: { 'x-correlation-id': 'trace-123' } });
      expect(given.headers.get('x-correlation-id')).toBe('trace-123');
      const made = await app.request('GET', '/healthz', { token: null });
      expect(made.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After beyond the configured rate', async () => {
    const app = await startTestApp({ CRM_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const token = await app.login();
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await app.request('GET', '/api/v1/me', { token })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const response = await app.request('GET', '/api/v1/me', { token });
      expectProblem(response, 429, 'too_many_requests');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});

