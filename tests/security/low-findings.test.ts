import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

/** The fuzzer's and the review's smaller findings: each was a 500 or a silent acceptance, each must be a 4xx. */
function raw(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('small findings, each a 4xx now', () => {
  let app: TestApp;
  let token: string;
  beforeAll(async () => {
    app = await startTestApp();
    token = await app.login();
  });
  afterAll(async () => app.close());

  it('?custom.constructor= and other inherited names are unknown custom fields (400), never a 500', async () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const response = await app.request('GET', `/api/v1/customers?custom.${key}=1`);
      expect(response.status, key).toBe(400);
    }
    expect((await app.request('GET', '/api/v1/customers?sort=custom.constructor')).status).toBe(400);
    // Such names cannot be custom field keys either.
    expectProblem(await app.request('POST', '/api/v1/settings/fields/customers', { body: { key: 'constructor', label: { 'zh-CN': '构造', en: 'Constructor' }, type: 'text' } }), 409, 'field.key_reserved');
  });

  it('a deeply nested body, with or without an Idempotency-Key, is 400', async () => {
    const deep = `${'{"a":'.repeat(5000)}"x"${'}'.repeat(5000)}`;
    const customer = await app.request('POST', '/api/v1/customers', { body: { name: 'Deep Co' } });
    for (const headers of [{}, { 'Idempotency-Key': 'deep-1' }] as Record<string, string>[]) {
      const response = await raw(app.baseUrl, 'POST', '/api/v1/customers', { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, `{"name":"Deeper","custom":${deep}}`);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.text).code).toBe('malformed_json');
    }
    const patch = await raw(app.baseUrl, 'PATCH', `/api/v1/customers/${customer.body.id}`, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, `{"custom":${deep}}`);
    expect(patch.status).toBe(400);
  });

  it('a lone UTF-16 surrogate in a login (or any body) is 400', async () => {
    const response = await app.request('POST', '/api/v1/auth/login', { token: null, raw: '{"username":"\\ud800admin","password":"whatever-it-is"}', headers: { 'content-type': 'application/json' } });
    expectProblem(response, 400, 'malformed_json');
    expectProblem(await app.request('POST', '/api/v1/customers', { raw: '{"name":"A \\udfff B"}', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json');
  });

  it('a ranking for the year 0 is a 2xx or 4xx, never a 500', async () => {
    for (const period of ['0000-01', '0000-00', '9999-12', '2026-13']) expect((await app.request('GET', `/api/v1/reports/ranking?period=${period}`)).status, period).toBeLessThan(500);
  });

  it('a report narrowed to a department that does not exist is a 400 naming departmentId (the ranking answered 500)', async () => {
    const unknown = '0190a7c2-0000-7000-8000-000000000000';
    for (const path of [`/api/v1/reports/ranking?period=2026-11&departmentId=${unknown}`, `/api/v1/reports/funnel?from=2026-01-01&to=2027-01-01&departmentId=${unknown}`, `/api/v1/dashboard/team?from=2026-11-01&to=2026-12-01&departmentId=${unknown}`]) {
      const response = await app.request('GET', path);
      expectProblem(response, 400, 'validation');
      expect(JSON.stringify(response.body.errors), path).toContain('departmentId');
    }
  });

  it('a method a path does not offer answers 405 with Allow, even one the server does not know (TRACE)', async () => {
    const trace = await raw(app.baseUrl, 'TRACE', '/api/v1/customers', { authorization: `Bearer ${token}` });
    expect(trace.status).toBe(405);
    expect(String(trace.headers.allow)).toMatch(/GET/);
    expect(String(trace.headers.allow)).toMatch(/POST/);
    expect(JSON.parse(trace.text).code).toBe('method_not_allowed');
    const put = await raw(app.baseUrl, 'PUT', '/api/v1/customers', { authorization: `Bearer ${token}` });
    expect(put.status).toBe(405);
    expect((await raw(app.baseUrl, 'TRACE', '/api/v1/nowhere', { authorization: `Bearer ${token}` })).status).toBe(404);
  });

  it('PATCH without a body is 400, not a silent success', async () => {
    const role = (await app.request('GET', '/api/v1/roles')).body.items[0].id;
    expectProblem(await app.request('PATCH', `/api/v1/roles/${role}`), 400, 'validation');
    const customer = await app.request('POST', '/api/v1/customers', { body: { name: 'Bodiless Co' } });
    expect(customer.status, customer.text).toBe(201);
    expectProblem(await app.request('PATCH', `/api/v1/customers/${customer.body.id}`), 400, 'validation');
    // An action without a body (archive, send…) is still fine.
    const archived = await app.request("POST", `/api/v1/customers/${customer.body.id}/archive`);
    expect(archived.status, archived.text).toBe(200);
  });
});

describe('/metrics with METRICS_TOKEN', () => {
  it('answers only the bearer of the token', async () => {
    const app = await startTestApp({ METRICS_TOKEN: 'metrics-token-of-24-chars' });
    try {
      expectProblem(await app.request('GET', '/metrics', { token: null }), 401, 'unauthorized');
      expectProblem(await app.request('GET', '/metrics', { token: 'metrics-token-of-24-charX' }), 401, 'unauthorized');
      const ok = await app.request('GET', '/metrics', { token: 'metrics-token-of-24-chars' });
      expect(ok.status).toBe(200);
      expect(ok.text).toMatch(/crm_eventstore_head_position/);
    } finally {
      await app.close();
    }
  });
});

describe('action routes honour read-only fields', () => {
  it('a role for which stage or owner is read-only cannot move them through /stage, /win, /assign', async () => {
    const app = await startTestApp();
    try {
      const department = await app.department('Actions');
      const role = await app.request('POST', '/api/v1/roles', {
        body: {
          name: 'Stage watcher',
          permissions: { customers: ['view', 'create', 'edit', 'assign'], opportunities: ['view', 'create', 'edit', 'assign'] },
          dataScope: 'department',
          fieldSecurity: { opportunities: { stage: 'readonly' }, customers: { ownerId: 'readonly' } },
        },
      });
      expect(role.status).toBe(201);
      await app.request('POST', '/api/v1/employees', { body: { name: 'Watcher', departmentId: department, username: 'stage.watcher', password: 'watcher-password-1', roleIds: [role.body.id] } });
      const token = await app.firstLogin('stage.watcher', 'watcher-password-1');
      const me = (await app.request('GET', '/api/v1/me', { token })).body.userId;
      const customer = (await app.request('POST', '/api/v1/customers', { token, body: { name: 'Action Co' } })).body.id;
      const opportunity = (await app.request('POST', '/api/v1/opportunities', { token, body: { name: 'Deal', customerId: customer, amount: { amount: 100, currency: 'CNY' }, expectedCloseDate: '2026-12-31' } })).body.id;
      const stages = (await app.request('GET', '/api/v1/settings/opportunity-stages')).body;
      const next = (stages.stages ?? stages.items)[1].key;
      for (const [path, body] of [
        [`/api/v1/opportunities/${opportunity}/stage`, { stage: next }],
        [`/api/v1/opportunities/${opportunity}/win`, {}],
        [`/api/v1/customers/${customer}/assign`, { ownerId: me }],
        [`/api/v1/customers/${customer}/release`, {}],
      ] as const) {
        const response = await app.request('POST', path, { token, body });
        expectProblem(response, 403, 'field.readonly');
      }
      // The administrator, without such rules, may.
      expect((await app.request('POST', `/api/v1/opportunities/${opportunity}/stage`, { body: { stage: next } })).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('a customer embeds a bounded list of contacts', () => {
  it('at most the 50 most recent, with contactCount; /contacts?customerId= pages every one', { timeout: 60_000 }, async () => {
    const app = await startTestApp();
    try {
      const customer = (await app.request('POST', '/api/v1/customers', { body: { name: 'Many Contacts Co' } })).body.id;
      let position = '0';
      for (let i = 0; i < 60; i++) position = (await app.request('POST', '/api/v1/contacts', { body: { customerId: customer, name: `联系人 ${String(i).padStart(2, '0')}` } })).headers.get('x-position')!;
      const one = await app.request('GET', `/api/v1/customers/${customer}`, { headers: { 'x-min-position': position } });
      expect(one.body.contacts).toHaveLength(50);
      expect(one.body.contactCount).toBe(60);
      expect(one.body.contacts.map((c: { name: string }) => c.name)).toContain('联系人 59');
      const listed = await app.request('GET', `/api/v1/customers?q=Many`);
      expect(listed.body.items[0].contacts).toHaveLength(50);
      expect(listed.body.items[0].contactCount).toBe(60);
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await app.request('GET', `/api/v1/contacts?customerId=${customer}&limit=25${cursor ? `&cursor=${cursor}` : ''}`);
        names.push(...page.body.items.map((c: { name: string }) => c.name));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(names).toHaveLength(60);
    } finally {
      await app.close();
    }
  });
});
