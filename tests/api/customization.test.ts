import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

describe('layouts, list views, related panels, preferences', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    await app.request('POST', '/api/v1/settings/fields/customers', { body: { key: 'creditScore', label: { 'zh-CN': '信用评分', en: 'Credit score' }, type: 'integer' } });
    await app.request('POST', '/api/v1/settings/fields/customers', { body: { key: 'oldField', label: { 'zh-CN': '旧', en: 'Old' }, type: 'text' } });
    await app.request('POST', '/api/v1/settings/fields/customers/oldField/retire');
  });
  afterAll(async () => app.close());
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);

  it('saves layouts with standard and custom fields; refuses unknown, retired and repeated fields', async () => {
    const layout = { sections: [{ title: '基本信息', fields: ['name', 'phone', 'custom.creditScore'] }, { title: '其他', fields: ['notes'] }] };
    const put = await app.request('PUT', '/api/v1/settings/layouts/customers/edit', { body: layout });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"0"');
    expect((await app.request('GET', '/api/v1/settings/layouts/customers/edit')).body).toEqual(layout);
    expect((await app.request('GET', '/api/v1/settings/layouts/customers/view')).body.sections[0].fields).toContain('name');
    const bad = await app.request('PUT', '/api/v1/settings/layouts/customers/edit', { body: { sections: [{ title: 'X', fields: ['name', 'colour', 'custom.nope', 'custom.oldField', 'name'] }] } });
    expectProblem(bad, 400, 'validation');
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['sections.0.fields.1', 'sections.0.fields.2', 'sections.0.fields.3', 'sections.0.fields.4']);
    expectProblem(await app.request('PUT', '/api/v1/settings/layouts/customers/edit', { body: layout, headers: { 'if-match': '"5"' } }), 412, 'precondition_failed');
    expectProblem(await app.request('PUT', '/api/v1/settings/layouts/customers/print', { body: layout }), 400, 'validation');
    expectProblem(await app.request('PUT', '/api/v1/settings/layouts/contacts/edit', { body: { sections: [{ title: 'X', fields: ['custom.creditScore'] }] } }), 400, 'validation');
  });

  it('company list view and personal saved views: a list request can name a view', async () => {
    for (const [name, industry, creditScore] of [['View A', 'Steel', 5], ['View B', 'Steel', 9], ['View C', 'Food', 7]] as const)
      await app.request('POST', '/api/v1/customers', { body: { name, industry, custom: { creditScore } } });
    await caughtUp();
    expect((await app.request('PUT', '/api/v1/settings/views/customers', { body: { columns: ['name', 'industry', 'custom.creditScore'], sort: 'name' } })).status).toBe(200);
    const company = await app.request('GET', '/api/v1/customers?q=view');
    expect(company.body.columns).toEqual(['name', 'industry', 'custom.creditScore']);
    expect(company.body.items.map((c: { name: string }) => c.name)).toEqual(['View A', 'View B', 'View C']);
    const view = await app.request('POST', '/api/v1/me/views/customers', { body: { name: 'Steel by credit', filter: { industry: 'Steel' }, sort: '-custom.creditScore', columns: ['name', 'custom.creditScore'] } });
    expect(view.status).toBe(201);
    const mine = await app.request('GET', `/api/v1/customers?view=${view.body.id}`);
    expect(mine.body.items.map((c: { name: string }) => c.name)).toEqual(['View B', 'View A']);
    expect(mine.body.columns).toEqual(['name', 'custom.creditScore']);
    // Explicit parameters win over the view's.
    expect((await app.request('GET', `/api/v1/customers?view=${view.body.id}&industry=Food`)).body.items.map((c: { name: string }) => c.name)).toEqual(['View C']);
    const csv = await app.request('GET', `/api/v1/customers?view=${view.body.id}`, { headers: { accept: 'text/csv' } });
    expect(csv.text.split('\r\n')[0]).toBe('id,name,custom.creditScore');
    // Views are personal.
    const other = await app.userWithToken('view.other', ['manager'], await app.department('Views'));
    expectProblem(await app.request('GET', `/api/v1/customers?view=${view.body.id}`, { token: other.token }), 400, 'validation');
    expect((await app.request('GET', '/api/v1/me/views/customers', { token: other.token })).body.items).toEqual([]);
    expect((await app.request('GET', '/api/v1/me/views/customers')).body.items).toHaveLength(1);
    // Bad views are refused; a view can be replaced and deleted.
    expectProblem(await app.request('POST', '/api/v1/me/views/customers', { body: { name: 'Bad', filter: { colour: 'red' } } }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/me/views/customers', { body: { name: 'Bad', sort: 'phone' } }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/me/views/customers', { body: { name: 'Steel by credit' } }), 409, 'view.name_taken');
    expect((await app.request('PUT', `/api/v1/me/views/customers/${view.body.id}`, { body: { name: 'Renamed', filter: {} } })).body.name).toBe('Renamed');
    expect((await app.request('DELETE', `/api/v1/me/views/customers/${view.body.id}`)).status).toBe(204);
    expectProblem(await app.request('DELETE', `/api/v1/me/views/customers/${view.body.id}`), 404, 'view.not_found');
    expectProblem(await app.request('PUT', '/api/v1/settings/views/customers', { body: { columns: ['nope'] } }), 400, 'validation');
    await app.request('PUT', '/api/v1/settings/views/customers', { body: { columns: ['name'], sort: '-updatedAt' } });
  });

  it('related panels: configured per resource, answered scoped with the first N items', async () => {
    const customer = await app.request('POST', '/api/v1/customers', { body: { name: 'Related Co' } });
    for (let i = 0; i < 4; i++) await app.request('POST', '/api/v1/contacts', { body: { customerId: customer.body.id, name: `Person ${i}` } });
    await caughtUp();
    const defaults = await app.request('GET', `/api/v1/customers/${customer.body.id}/related`);
    expect(defaults.body.panels).toEqual([
      { key: 'contacts', total: 4, items: expect.any(Array) },
      { key: 'opportunities', total: 0, items: [] },
      { key: 'tickets', total: 0, items: [] },
    ]);
    await app.request('PUT', '/api/v1/settings/related/customers', { body: { panels: [{ key: 'contacts', limit: 2 }] } });
    const configured = await app.request('GET', `/api/v1/customers/${customer.body.id}/related`);
    expect(configured.body.panels[0].items.map((c: { name: string }) => c.name)).toEqual(['Person 0', 'Person 1']);
    await app.request('PUT', '/api/v1/settings/related/customers', { body: { panels: [] } });
    expect((await app.request('GET', `/api/v1/customers/${customer.body.id}/related`)).body.panels).toEqual([]);
    expectProblem(await app.request('PUT', '/api/v1/settings/related/customers', { body: { panels: [{ key: 'invoices' }] } }), 400, 'validation');
    const outsider = await app.userWithToken('related.outsider', ['salesperson'], await app.department('Related'));
    expectProblem(await app.request('GET', `/api/v1/customers/${customer.body.id}/related`, { token: outsider.token }), 404, 'customer.not_found');
    await app.request('PUT', '/api/v1/settings/related/customers', { body: { panels: [{ key: 'contacts', limit: 5 }] } });
  });

  it('preferences: defaults, then your own; validated', async () => {
    const user = await app.userWithToken('prefs.user', ['salesperson'], await app.department('Prefs'));
    expect((await app.request('GET', '/api/v1/me/preferences', { token: user.token })).body).toEqual({ language: 'zh-CN', timezone: 'Asia/Shanghai', pageSize: 50, theme: 'default' });
    const prefs = { language: 'en', timezone: 'Europe/Berlin', pageSize: 100, theme: 'dark' };
    expect((await app.request('PUT', '/api/v1/me/preferences', { token: user.token, body: prefs })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/me/preferences', { token: user.token })).body).toEqual(prefs);
    expect((await app.request('GET', '/api/v1/me/preferences')).body.language).toBe('zh-CN');
    const bad = await app.request('PUT', '/api/v1/me/preferences', { token: user.token, body: { language: 'fr', timezone: 'Mars/Olympus', pageSize: 5000, theme: 'Dark Mode!' } });
    expectProblem(bad, 400, 'validation');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['language', 'pageSize', 'theme', 'timezone']);
  });
});
