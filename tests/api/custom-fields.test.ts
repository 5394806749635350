import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { customersProjection } from '../../src/projections/customers.ts';
import { readModelDigest } from '../../src/projections/digest.ts';
import { ProjectionRunner } from '../../src/projections/runner.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const label = (en: string) => ({ 'zh-CN': en, en });

describe('custom fields', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app.close());
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
  const define = (resource: string, body: Record<string, unknown>) => app.request('POST', `/api/v1/settings/fields/${resource}`, { body: { label: label(String(body.key)), ...body } });

  it('define → use → filter → sort → export → retire, on customers and on contacts', async () => {
    expect((await define('customers', { key: 'deposit', type: 'money' })).status).toBe(201);
    expect((await define('customers', { key: 'tier', type: 'select', options: ['gold', { value: 'silver', label: { 'zh-CN': '银' } }] })).status).toBe(201);
    expect((await define('contacts', { key: 'wechat', type: 'text', unique: true })).status).toBe(201);
    const fields = await app.request('GET', '/api/v1/settings/fields/customers');
    expect(fields.body.items.map((f: { key: string }) => f.key)).toEqual(['deposit', 'tier']);

    const gold = await app.request('POST', '/api/v1/customers', { body: { name: 'Gold Trading', custom: { deposit: { amount: 5_000_000, currency: 'CNY' }, tier: 'gold' } } });
    expect(gold.status).toBe(201);
    const silver = await app.request('POST', '/api/v1/customers', { body: { name: 'Silver Trading', custom: { tier: 'silver' } } });
    await app.request('POST', '/api/v1/customers', { body: { name: 'Plain Trading' } });
    await caughtUp();
    expect((await app.request('GET', `/api/v1/customers/${gold.body.id}`)).body.custom).toEqual({ deposit: { amount: 5_000_000, currency: 'CNY' }, tier: 'gold' });

    const filtered = await app.request('GET', '/api/v1/customers?custom.tier=silver');
    expect(filtered.body.items.map((c: { id: string }) => c.id)).toEqual([silver.body.id]);
    const sorted: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { name: string }[]; nextCursor: string | null } } = await app.request('GET', `/api/v1/customers?q=trading&sort=-custom.tier&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      sorted.push(...page.body.items.map((c) => c.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(sorted).toEqual(['Silver Trading', 'Gold Trading', 'Plain Trading']);
    expectProblem(await app.request('GET', '/api/v1/customers?custom.nope=1'), 400, 'validation');
    expectProblem(await app.request('GET', '/api/v1/customers?sort=custom.deposit'), 400, 'validation');
    expectProblem(await app.request('GET', '/api/v1/customers?custom.tier=bronze'), 400, 'validation');

    const csv = await app.request('GET', '/api/v1/customers?q=gold%20trading', { headers: { accept: 'text/csv' } });
    const [header, row] = csv.text.trim().split('\r\n');
    expect(header).toContain('custom.deposit,custom.tier');
    expect(row).toContain('gold');

    const contact = await app.request('POST', '/api/v1/contacts', { body: { customerId: gold.body.id, name: 'Li', custom: { wechat: 'li_wx' } } });
    expect(contact.status).toBe(201);
    const twin = await app.request('POST', '/api/v1/contacts', { body: { customerId: gold.body.id, name: 'Li 2', custom: { wechat: 'LI_WX' } } });
    expectProblem(twin, 409, 'field.value_taken');
    await caughtUp();
    expect((await app.request('GET', '/api/v1/contacts?custom.wechat=li_wx')).body.items.map((c: { name: string }) => c.name)).toEqual(['Li']);

    // Changing a custom value: partial, null clears; history shows the change.
    const changed = await app.request('PATCH', `/api/v1/customers/${gold.body.id}`, { body: { custom: { tier: 'silver', deposit: null } } });
    expect(changed.body.revision).toBe(1);
    await caughtUp();
    expect((await app.request('GET', `/api/v1/customers/${gold.body.id}`)).body.custom).toEqual({ tier: 'silver' });
    const history = await app.request('GET', `/api/v1/customers/${gold.body.id}/history`);
    expect(history.body.items[1].data.changes).toEqual({ 'custom.tier': 'silver', 'custom.deposit': null });

    // Retired: no longer accepted, still readable in history and on old records.
    expect((await app.request('POST', '/api/v1/settings/fields/customers/tier/retire')).status).toBe(200);
    const refused = await app.request('POST', '/api/v1/customers', { body: { name: 'After Retire', custom: { tier: 'gold' } } });
    expectProblem(refused, 400, 'validation');
    expect(refused.body.errors[0].path).toBe('custom.tier');
    expect((await app.request('GET', `/api/v1/customers/${gold.body.id}/history`)).body.items[0].data.fields.custom.tier).toBe('gold');
    expectProblem(await define('customers', { key: 'tier', type: 'text' }), 409, 'field.key_taken');
    expect((await app.request('GET', '/api/v1/settings/fields/customers/tier')).body.retired).toBe(true);
  });

  it('validates every type, good and bad values, naming custom.<key>', async () => {
    const cases: [string, Record<string, unknown>, unknown[], unknown[]][] = [
      ['t1', { type: 'text' }, ['hello', '中文'], ['', 5, 'x'.repeat(501)]],
      ['t2', { type: 'longtext' }, ['long\ntext'], [5]],
      ['t3', { type: 'integer' }, [0, -7, 42], [1.5, '3', 2 ** 60]],
      ['t4', { type: 'decimal' }, [1.25, -3], ['1.2', null]],
      ['t5', { type: 'money' }, [{ amount: 100, currency: 'USD' }], [{ amount: 1.5, currency: 'USD' }, { amount: 1, currency: 'usd' }, 100]],
      ['t6', { type: 'date' }, ['2026-02-28'], ['2026-02-30', '2026-1-1']],
      ['t7', { type: 'datetime' }, ['2026-11-26T10:00:00+08:00', '2026-11-26T02:00:00Z'], ['2026-11-26', 'yesterday']],
      ['t8', { type: 'boolean' }, [true, false], ['true', 1]],
      ['t9', { type: 'select', options: ['a', 'b'] }, ['a'], ['c', ['a']]],
      ['t10', { type: 'multiselect', options: ['a', 'b'] }, [['a', 'b'], []], [['a', 'a'], ['c'], 'a']],
      ['t11', { type: 'phone' }, ['+86 21 5555 0101'], ['call me']],
      ['t12', { type: 'email' }, ['a@b.cn'], ['not-an-email']],
      ['t13', { type: 'url' }, ['https://example.cn'], ['ftp://x', 'nope']],
      ['t14', { type: 'reference', referenceTo: 'customers' }, [], ['not-a-uuid']],
    ];
    for (const [key, definition] of cases) expect((await define('contacts', { key, ...definition })).status, key).toBe(201);
    const customer = (await app.request('POST', '/api/v1/customers', { body: { name: 'Types Co' } })).body.id;
    for (const [key, , good, bad] of cases) {
      for (const value of good) {
        const response = await app.request('POST', '/api/v1/contacts', { body: { customerId: customer, name: `ok ${key}`, custom: { [key]: value } } });
        expect(response.status, `${key} = ${JSON.stringify(value)}`).toBe(201);
      }
      for (const value of bad) {
        const response = await app.request('POST', '/api/v1/contacts', { body: { customerId: customer, name: `bad ${key}`, custom: { [key]: value } } });
        expectProblem(response, 400, 'validation');
        expect(response.body.errors[0].path, `${key} = ${JSON.stringify(value)}`).toMatch(new RegExp(`^custom\\.${key}`));
      }
    }
    const reference = await app.request('POST', '/api/v1/contacts', { body: { customerId: customer, name: 'ref', custom: { t14: customer } } });
    expect(reference.status).toBe(201);
    expectProblem(await app.request('POST', '/api/v1/contacts', { body: { customerId: customer, name: 'ref', custom: { t14: '01900000-0000-7000-8000-000000000000' } } }), 404, 'field.reference_not_found');
    expectProblem(await app.request('POST', '/api/v1/contacts', { body: { customerId: customer, name: 'x', custom: { unknown: 1 } } }), 400, 'validation');
    const stored = await app.request('GET', `/api/v1/contacts/${(await app.request('POST', '/api/v1/contacts', { body: { customerId: customer, name: 'utc', custom: { t7: '2026-11-26T10:00:00+08:00' } } })).body.id}`, { headers: { 'x-min-position': String(await app.services.eventStore.headPosition()) } });
    expect(stored.body.custom.t7).toBe('2026-11-26T02:00:00.000Z');
  });

  it('refuses bad definitions', async () => {
    expectProblem(await define('customers', { key: 'NoCaps', type: 'text' }), 400, 'validation');
    expectProblem(await define('customers', { key: 'sel', type: 'select' }), 409, 'field.options_required');
    expectProblem(await define('customers', { key: 'ref', type: 'reference', referenceTo: 'customers', unique: false, options: ['x'] }), 409, 'field.options_not_allowed');
    expectProblem(await define('customers', { key: 'name', type: 'text' }), 409, 'field.key_taken');
    expectProblem(await define('customers', { key: 'badDefault', type: 'integer', default: 'ten' }), 409, 'field.invalid_default');
    expectProblem(await define('widgets', { key: 'x', type: 'text' }), 400, 'validation');
    expectProblem(await define('customers', { key: 'x', type: 'colour' }), 400, 'validation');
  });

  it('a required field added later binds new records and changes of that field, never old records', async () => {
    const old = await app.request('POST', '/api/v1/customers', { body: { name: 'Before Required Co' } });
    expect((await define('customers', { key: 'salesRegion', type: 'select', options: ['north', 'south'], required: true })).status).toBe(201);
    const missing = await app.request('POST', '/api/v1/customers', { body: { name: 'After Required Co' } });
    expectProblem(missing, 400, 'validation');
    expect(missing.body.errors[0].path).toBe('custom.salesRegion');
    expect((await app.request('POST', '/api/v1/customers', { body: { name: 'After Required Co', custom: { salesRegion: 'north' } } })).status).toBe(201);
    expect((await app.request('PATCH', `/api/v1/customers/${old.body.id}`, { body: { industry: 'Still editable' } })).status).toBe(200);
    expectProblem(await app.request('PATCH', `/api/v1/customers/${old.body.id}`, { body: { custom: { salesRegion: null } } }), 400, 'validation');
    // With a default, a required field fills itself in.
    await app.request('PATCH', '/api/v1/settings/fields/customers/salesRegion', { body: { default: 'south' } });
    const defaulted = await app.request('POST', '/api/v1/customers', { body: { name: 'Defaulted Co' } });
    await app.services.runner.waitFor(BigInt(defaulted.headers.get('x-position')!), 2000);
    expect((await app.request('GET', `/api/v1/customers/${defaulted.body.id}`)).body.custom.salesRegion).toBe('south');
    await app.request('POST', '/api/v1/settings/fields/customers/salesRegion/retire');
  });

  it('unique values behave the same on every record type: a failed write frees what it claimed, a taken value is refused', async () => {
    const customer = await app.request('POST', '/api/v1/customers', { body: { name: 'Unique Values Co' } });
    const product = await app.request('POST', '/api/v1/products', { body: { code: 'UNQ-1', name: 'Unique', unit: '件', standardPrice: { amount: 100, currency: 'CNY' }, taxRate: 13 } });
    for (const resource of ['leads', 'opportunities', 'quotes', 'orders']) expect((await define(resource, { key: 'extRef', type: 'text', unique: true })).status).toBe(201);
    const bodies: Record<string, (custom: Record<string, unknown>) => Record<string, unknown>> = {
      leads: (custom) => ({ company: 'Unique Lead Co', person: 'Wu', custom }),
      opportunities: (custom) => ({ name: 'Unique deal', customerId: customer.body.id, amount: { amount: 100, currency: 'CNY' }, expectedCloseDate: '2027-01-31', custom }),
      quotes: (custom) => ({ customerId: customer.body.id, currency: 'CNY', validUntil: '2027-01-31', lines: [{ productId: product.body.id, quantity: 1 }], custom }),
      orders: (custom) => ({ customerId: customer.body.id, currency: 'CNY', paymentTermsDays: 30, lines: [{ productId: product.body.id, quantity: 1 }], custom }),
    };
    // A create the decider refuses after the value was claimed: the claim is released, so the value is free at once.
    expectProblem(await app.request('POST', '/api/v1/opportunities', { body: { ...bodies.opportunities!({ extRef: 'REF-OPP' }), stage: 'no-such-stage' } }), 409, 'opportunity.stage_unknown');
    expect((await app.request('POST', '/api/v1/opportunities', { body: bodies.opportunities!({ extRef: 'REF-OPP' }) })).status).toBe(201);
    for (const resource of ['leads', 'quotes', 'orders']) {
      const first = await app.request('POST', `/api/v1/${resource}`, { body: bodies[resource]!({ extRef: `REF-${resource}` }) });
      expect(first.status, `${resource}: ${JSON.stringify(first.body)}`).toBe(201);
      const twin = await app.request('POST', `/api/v1/${resource}`, { body: bodies[resource]!({ extRef: `ref-${resource}` }) });
      expectProblem(twin, 409, 'field.value_taken');
      expect(twin.body.existingId, resource).toBe(first.body.id);
    }
    for (const resource of ['leads', 'opportunities', 'quotes', 'orders']) await app.request('POST', `/api/v1/settings/fields/${resource}/extRef/retire`);
  });

  it('rebuilding the projections keeps custom values', async () => {
    await caughtUp();
    const fresh = new EmbeddedReadStore();
    await new ProjectionRunner(app.services.eventStore, fresh, [customersProjection], silentLogger).rebuild();
    expect(await readModelDigest(fresh, [customersProjection])).toBe(await readModelDigest(app.services.readStore, [customersProjection]));
    expect((await fresh.collection('customers').findOne({ name: 'Silver Trading' }))?.custom).toEqual({ tier: 'silver' });
  });
});
