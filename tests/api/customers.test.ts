import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

describe('customers over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app.close());

  /** Creates a customer and waits until the read side shows it. */
  async function create(body: Record<string, unknown>) {
    const response = await app.request('POST', '/api/v1/customers', { body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    await app.services.runner.waitFor(BigInt(response.headers.get('x-position')!), 2000);
    return response;
  }
  const get = (id: string, headers: Record<string, string> = {}) => app.request('GET', `/api/v1/customers/${id}`, { headers });

  it('registers a customer: 201, Location, ETag, X-Position; reads it back', async () => {
    const response = await app.request('POST', '/api/v1/customers', {
      body: { name: '上海精工机械有限公司', shortName: '精工', industry: '机械制造', region: '华东', phone: '+86 21 5555 0101', taxNumber: '91310000MA1FL0001A', annualRevenue: { amount: 1_250_000_00, currency: 'CNY' }, level: 'A', website: 'https://jinggong.example.cn' },
    });
    expect(response.status).toBe(201);
    const { id, revision } = response.body;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(revision).toBe(0);
    expect(response.headers.get('location')).toBe(`/api/v1/customers/${id}`);
    expect(response.headers.get('etag')).toBe('"0"');
    const position = response.headers.get('x-position')!;
    expect(Number(position)).toBeGreaterThan(0);
    const read = await get(id, { 'x-min-position': position });
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"0"');
    expect(read.body).toMatchObject({ id, revision: 0, name: '上海精工机械有限公司', status: 'active', annualRevenue: { amount: 125000000, currency: 'CNY' }, contacts: [] });
    expect(read.body.createdAt).toMatch(/Z$/);
    expect(read.body).not.toHaveProperty('_search');
    expect(read.body).not.toHaveProperty('_position');
  });

  it('refuses a second customer with the same normalised name, naming the first', async () => {
    const first = await create({ name: 'Acme Trading Co., Ltd.' });
    const second = await app.request('POST', '/api/v1/customers', { body: { name: 'ACME trading co ltd' } });
    expectProblem(second, 409, 'customer.duplicate');
    expect(second.body).toMatchObject({ field: 'name', existingCustomerId: first.body.id });
  });

  it('refuses a second customer with the same tax number', async () => {
    const first = await create({ name: 'Tax One', taxNumber: '91440300MA5G00001X' });
    const second = await app.request('POST', '/api/v1/customers', { body: { name: 'Tax Two', taxNumber: '91440300-ma5g00001x' } });
    expectProblem(second, 409, 'customer.duplicate');
    expect(second.body).toMatchObject({ field: 'taxNumber', existingCustomerId: first.body.id });
    // The refused registration left its name free.
    expect((await app.request('POST', '/api/v1/customers', { body: { name: 'Tax Two' } })).status).toBe(201);
  });

  it('lets only one of many concurrent registrations of one name win', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => app.request('POST', '/api/v1/customers', { body: { name: 'Race Condition Ltd' } })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'customer.duplicate' || r.body.code === 'concurrency.conflict')).toBe(true);
  });

  it('changes fields with PATCH; a no-op keeps the revision; null clears', async () => {
    const { body } = await create({ name: 'Patch Me', industry: 'Old', phone: '123456' });
    const changed = await app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { industry: 'New', phone: null } });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ id: body.id, revision: 1 });
    expect(changed.headers.get('etag')).toBe('"1"');
    const same = await app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { industry: 'New' } });
    expect(same.body.revision).toBe(1);
    const read = await get(body.id, { 'x-min-position': changed.headers.get('x-position')! });
    expect(read.body.industry).toBe('New');
    expect(read.body).not.toHaveProperty('phone');
    expectProblem(await app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { name: null } }), 400, 'validation');
  });

  it('renaming moves the name reservation: the new name is taken, the old one freed', async () => {
    const { body } = await create({ name: 'Old Name Co' });
    await create({ name: 'Taken Name Co' });
    expectProblem(await app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { name: 'taken name co' } }), 409, 'customer.duplicate');
    expect((await app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { name: 'New Name Co' } })).status).toBe(200);
    expect((await app.request('POST', '/api/v1/customers', { body: { name: 'Old Name Co' } })).status).toBe(201);
    expectProblem(await app.request('POST', '/api/v1/customers', { body: { name: 'New Name Co' } }), 409, 'customer.duplicate');
  });

  it('If-Match: a stale revision → 412, the current one succeeds', async () => {
    const { body } = await create({ name: 'Conditional Co' });
    const ok = await app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { industry: 'A' }, headers: { 'if-match': '"0"' } });
    expect(ok.status).toBe(200);
    const stale = await app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { industry: 'B' }, headers: { 'if-match': '"0"' } });
    expectProblem(stale, 412, 'precondition_failed');
    expect(stale.body.currentRevision).toBe(1);
  });

  it('of many concurrent conditional changes at one revision exactly one wins', async () => {
    const { body } = await create({ name: 'Contended Co' });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { notes: `writer ${i}` }, headers: { 'if-match': '"0"' } })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(9);
  });

  it('changes the owner; an unknown owner → 409', async () => {
    const { body } = await create({ name: 'Owned Co' });
    const east = await app.department('Owner East');
    const other = await app.userWithToken('owner-two', ['salesperson'], east);
    expectProblem(await app.request('POST', `/api/v1/customers/${body.id}/assign`, { body: { ownerId: '01900000-0000-7000-8000-000000000000' } }), 409, 'customer.owner_unknown');
    const assigned = await app.request('POST', `/api/v1/customers/${body.id}/assign`, { body: { ownerId: other.userId } });
    expect(assigned.status).toBe(200);
    const read = await get(body.id, { 'x-min-position': assigned.headers.get('x-position')! });
    expect(read.body).toMatchObject({ ownerId: other.userId, departmentPath: `/${east}/` });
  });

  it('archives and restores; refuses to archive twice or change an archived customer', async () => {
    const { body } = await create({ name: 'Archive Co' });
    const archived = await app.request('POST', `/api/v1/customers/${body.id}/archive`, { body: { reason: 'went out of business' } });
    expect(archived.status).toBe(200);
    expectProblem(await app.request('POST', `/api/v1/customers/${body.id}/archive`), 409, 'customer.already_archived');
    expectProblem(await app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { industry: 'X' } }), 409, 'customer.archived');
    const read = await get(body.id, { 'x-min-position': archived.headers.get('x-position')! });
    expect(read.body.status).toBe('archived');
    const restored = await app.request('POST', `/api/v1/customers/${body.id}/restore`);
    expect(restored.body.revision).toBe(2);
    expectProblem(await app.request('POST', `/api/v1/customers/${body.id}/restore`), 409, 'customer.not_archived');
    expectProblem(await app.request('POST', '/api/v1/customers/01900000-0000-7000-8000-000000000000/archive'), 404, 'customer.not_found');
  });

  it('keeps the history, oldest first, paged; and answers ?asOf= from the events', async () => {
    const clock = app.services.clock;
    const { body } = await create({ name: 'History Co', industry: 'First' });
    const afterCreate = clock.now().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { industry: 'Second' } });
    await app.request('POST', `/api/v1/customers/${body.id}/archive`);
    const history = await app.request('GET', `/api/v1/customers/${body.id}/history`);
    expect(history.body.items.map((i: { type: string }) => i.type)).toEqual(['CustomerRegistered', 'CustomerChanged', 'CustomerArchived']);
    expect(history.body.items[1]).toMatchObject({ revision: 1, data: { changes: { industry: 'Second' } }, actor: expect.any(String), at: expect.stringMatching(/Z$/) });
    expect(history.body.nextFrom).toBeNull();
    const paged = await app.request('GET', `/api/v1/customers/${body.id}/history?from=1&limit=1`);
    expect(paged.body).toMatchObject({ items: [{ revision: 1 }], nextFrom: 2 });
    const then = await app.request('GET', `/api/v1/customers/${body.id}?asOf=${encodeURIComponent(afterCreate)}`);
    expect(then.body).toMatchObject({ id: body.id, revision: 0, industry: 'First', status: 'active' });
    expectProblem(await app.request('GET', `/api/v1/customers/${body.id}?asOf=2000-01-01T00:00:00Z`), 404, 'customer.not_found');
    expectProblem(await app.request('GET', `/api/v1/customers/${body.id}?asOf=yesterday`), 400, 'validation');
  });

  describe('list', () => {
    let ids: string[] = [];
    beforeAll(async () => {
      ids = [];
      for (const [i, name] of ['Lambda Alpha', 'Lambda Beta', 'Lambda Gamma', 'Lambda Delta', 'Lambda Epsilon', 'Lambda Zeta', 'Lambda Eta'].entries())
        ids.push((await create({ name, industry: i % 2 ? 'Odd' : 'Even', region: 'Lambdaland', phone: `0755-88${i}000` })).body.id);
    });

    it('searches by name and phone, case-insensitively', async () => {
      const byName = await app.request('GET', '/api/v1/customers?q=lambda%20ze');
      expect(byName.body.items.map((c: { name: string }) => c.name)).toEqual(['Lambda Zeta']);
      const byPhone = await app.request('GET', '/api/v1/customers?q=0755-883');
      expect(byPhone.body.items.map((c: { name: string }) => c.name)).toEqual(['Lambda Delta']);
      const regexChars = await app.request('GET', `/api/v1/customers?q=${encodeURIComponent('.*(')}`);
      expect(regexChars.status).toBe(200);
      expect(regexChars.body.items).toEqual([]);
    });

    it('filters by industry, region and status', async () => {
      const odd = await app.request('GET', '/api/v1/customers?region=Lambdaland&industry=Odd&status=active');
      expect(odd.body.items).toHaveLength(3);
    });

    it('sorts and pages with a cursor, without repeats or gaps', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const response: { body: { items: { id: string; name: string }[]; nextCursor: string | null } } = await app.request(
          'GET',
          `/api/v1/customers?region=Lambdaland&sort=name&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        seen.push(...response.body.items.map((c) => c.name));
        cursor = response.body.nextCursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([...seen].sort());
      expect(new Set(seen).size).toBe(7);
      const descending = await app.request('GET', '/api/v1/customers?region=Lambdaland&sort=-createdAt&limit=2');
      expect(descending.body.items.map((c: { id: string }) => c.id)).toEqual([ids[6], ids[5]]);
      expectProblem(await app.request('GET', `/api/v1/customers?sort=-name&cursor=${descending.body.nextCursor}`), 400, 'validation');
    });

    it('exports CSV with a BOM, escaping and formula protection', async () => {
      await create({ name: '=HYPERLINK("x") Lambda', region: 'Lambdaland', notes: 'a, "quoted"\nline' });
      const response = await app.request('GET', '/api/v1/customers?region=Lambdaland&sort=name', { headers: { accept: 'text/csv' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const raw = await fetch(`${app.baseUrl}/api/v1/customers?region=Lambdaland`, { headers: { accept: 'text/csv', authorization: `Bearer ${await app.login()}` } });
      expect([...new Uint8Array(await raw.arrayBuffer()).slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const lines = response.text.trim().split('\r\n');
      expect(lines[0]!.split(',')[1]).toBe('name');
      expect(lines).toHaveLength(9);
      expect(response.text).toContain(`"'=HYPERLINK(""x"") Lambda"`);
    });
  });

  describe('idempotency keys', () => {
    it('replays the first response for a retry and appends nothing', async () => {
      const headers = { 'idempotency-key': 'create-idem-1' };
      const first = await app.request('POST', '/api/v1/customers', { body: { name: 'Idem Co' }, headers });
      const head = await app.services.eventStore.headPosition();
      const retry = await app.request('POST', '/api/v1/customers', { body: { name: 'Idem Co' }, headers });
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers.get('location')).toBe(first.headers.get('location'));
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(await app.services.eventStore.headPosition()).toBe(head);
    });

    it('replays a refusal too', async () => {
      await create({ name: 'Refused Idem Co' });
      const headers = { 'idempotency-key': 'refused-1' };
      const first = await app.request('POST', '/api/v1/customers', { body: { name: 'Refused Idem Co' }, headers });
      expectProblem(first, 409, 'customer.duplicate');
      const retry = await app.request('POST', '/api/v1/customers', { body: { name: 'Refused Idem Co' }, headers });
      expect(retry.body.code).toBe('customer.duplicate');
    });

    it('the same key with another body → 422', async () => {
      const headers = { 'idempotency-key': 'create-idem-2' };
      await app.request('POST', '/api/v1/customers', { body: { name: 'Idem Two' }, headers });
      expectProblem(await app.request('POST', '/api/v1/customers', { body: { name: 'Idem Three' }, headers }), 422, 'idempotency.key_reused');
    });

    it('keys belong to their user', async () => {
      const other = await app.userWithToken('idem-other', ['admin']);
      const headers = { 'idempotency-key': 'shared-key' };
      const mine = await app.request('POST', '/api/v1/customers', { body: { name: 'Mine Co' }, headers });
      const theirs = await app.request('POST', '/api/v1/customers', { body: { name: 'Theirs Co' }, headers, token: other.token });
      expect(mine.status).toBe(201);
      expect(theirs.status).toBe(201);
    });

    it('refuses a malformed key', async () => {
      expectProblem(await app.request('POST', '/api/v1/customers', { body: { name: 'Bad Key Co' }, headers: { 'idempotency-key': 'x'.repeat(300) } }), 400, 'validation');
    });
  });

  describe('permissions and data scopes', () => {
    it('a salesperson sees only their own customers; others are 404', async () => {
      const sales = await app.userWithToken('sales-scope', ['salesperson'], await app.department('North'));
      const adminOwned = await create({ name: 'Admin Owned Co' });
      const own = await app.request('POST', '/api/v1/customers', { body: { name: 'Sales Owned Co' }, token: sales.token });
      expect(own.status).toBe(201);
      await app.services.runner.waitFor(BigInt(own.headers.get('x-position')!), 2000);
      const list = await app.request('GET', '/api/v1/customers?limit=200', { token: sales.token });
      expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(['Sales Owned Co']);
      expectProblem(await app.request('GET', `/api/v1/customers/${adminOwned.body.id}`, { token: sales.token }), 404, 'customer.not_found');
      expectProblem(await app.request('GET', `/api/v1/customers/${adminOwned.body.id}/history`, { token: sales.token }), 404, 'customer.not_found');
      expectProblem(await app.request('PATCH', `/api/v1/customers/${adminOwned.body.id}`, { body: { industry: 'X' }, token: sales.token }), 404, 'customer.not_found');
    });

    it('a salesperson may not archive, export or change settings → 403', async () => {
      const sales = await app.userWithToken('sales-forbidden', ['salesperson'], await app.department('Forbidden'));
      const own = await app.request('POST', '/api/v1/customers', { body: { name: 'Forbidden Co' }, token: sales.token });
      expectProblem(await app.request('POST', `/api/v1/customers/${own.body.id}/archive`, { token: sales.token }), 403, 'forbidden');
      expectProblem(await app.request('GET', '/api/v1/customers', { token: sales.token, headers: { accept: 'text/csv' } }), 403, 'forbidden');
      expectProblem(await app.request('POST', '/api/v1/departments', { body: { name: 'Mine' }, token: sales.token }), 403, 'forbidden');
    });

    it('a manager sees the department subtree', async () => {
      const sales = await app.department('Sales');
      const east = await app.department('East', sales);
      const manager = await app.userWithToken('manager-east', ['manager'], east);
      const inside = await app.userWithToken('sales-east-sh', ['salesperson'], await app.department('Shanghai', east));
      const outside = await app.userWithToken('sales-west', ['salesperson'], await app.department('West', sales));
      const a = await app.request('POST', '/api/v1/customers', { body: { name: 'East Subtree Co' }, token: inside.token });
      const b = await app.request('POST', '/api/v1/customers', { body: { name: 'West Co' }, token: outside.token });
      await app.services.runner.waitFor(BigInt(b.headers.get('x-position')!), 2000);
      expect((await app.request('GET', `/api/v1/customers/${a.body.id}`, { token: manager.token })).status).toBe(200);
      expect((await app.request('GET', `/api/v1/customers/${b.body.id}`, { token: manager.token })).status).toBe(404);
    });
  });

  it('X-Min-Position beyond the log → 503 with Retry-After after the bounded wait', async () => {
    const response = await app.request('GET', '/api/v1/customers', { headers: { 'x-min-position': '999999999' } });
    expectProblem(response, 503, 'not_ready');
    expect(response.headers.get('retry-after')).toBe('1');
  });
});

describe('idempotency across a restart', () => {
  it('recognises a retry after the server restarted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-idem-'));
    const headers = { 'idempotency-key': 'survives-restart' };
    const first = await startTestApp({ CRM_DATA_DIR: dir });
    const created = await first.request('POST', '/api/v1/customers', { body: { name: 'Restart Co' }, headers });
    await first.close();
    const second = await startTestApp({ CRM_DATA_DIR: dir });
    try {
      const retry = await second.request('POST', '/api/v1/customers', { body: { name: 'Restart Co' }, headers });
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(created.body);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expectProblem(await second.request('POST', '/api/v1/customers', { body: { name: 'Other' }, headers }), 422, 'idempotency.key_reused');
    } finally {
      await second.close();
    }
  });
});
