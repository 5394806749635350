import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCustomer } from '../../src/commands/customers.ts';
import { systemActor } from '../../src/commands/employees.ts';
import { competitorIdFor } from '../../src/domain/competitor/index.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectProblem } from '../support/problem.ts';

const deal = (customerId: string, competitors: string[]) => ({ name: 'Pump line', customerId, amount: { amount: 500_000_00, currency: 'CNY' }, expectedCloseDate: '2026-12-31', competitors });

describe('competitors (竞争对手): a record type added by the recipe', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app.close());
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);

  it('add, list, search, change, archive, restore; names unique; history and asOf', async () => {
    const acme = await app.request('POST', '/api/v1/competitors', { body: { name: 'Acme Pumps', website: 'https://acme.example', strengths: '价格低', products: 'Centrifugal pumps' } });
    expect(acme.status).toBe(201);
    const dup = await app.request('POST', '/api/v1/competitors', { body: { name: ' ACME  pumps' } });
    expectProblem(dup, 409, 'competitor.duplicate');
    expect(dup.body.existingCompetitorId).toBe(acme.body.id);
    expectProblem(await app.request('POST', '/api/v1/competitors', { body: { name: 'Bad', website: 'not a url' } }), 400, 'validation');
    await app.request('POST', '/api/v1/competitors', { body: { name: 'Bolt Valves' } });
    await caughtUp();
    const list = await app.request('GET', '/api/v1/competitors');
    expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(['Acme Pumps', 'Bolt Valves']);
    expect(list.body.items[0]).not.toHaveProperty('_state');
    expect((await app.request('GET', '/api/v1/competitors?q=centrifugal')).body.items.map((c: { name: string }) => c.name)).toEqual(['Acme Pumps']);

    const before = (await app.request('GET', `/api/v1/competitors/${acme.body.id}`)).body;
    expect(before).toMatchObject({ id: acme.body.id, name: 'Acme Pumps', status: 'active', revision: 0 });
    expect((await app.request('PATCH', `/api/v1/competitors/${acme.body.id}`, { body: { strengths: null, weaknesses: '交期长' } })).status).toBe(200);
    expect((await app.request('POST', `/api/v1/competitors/${acme.body.id}/archive`, { body: {} })).status).toBe(200);
    expectProblem(await app.request('PATCH', `/api/v1/competitors/${acme.body.id}`, { body: { weaknesses: 'x' } }), 409, 'competitor.archived');
    await caughtUp();
    const archived = (await app.request('GET', `/api/v1/competitors/${acme.body.id}`)).body;
    expect(archived).toMatchObject({ status: 'archived', weaknesses: '交期长' });
    expect(archived).not.toHaveProperty('strengths');
    expect((await app.request('GET', '/api/v1/competitors?status=archived')).body.items).toHaveLength(1);
    expect((await app.request('POST', `/api/v1/competitors/${acme.body.id}/restore`, { body: {} })).status).toBe(200);
    const history = (await app.request('GET', `/api/v1/competitors/${acme.body.id}/history`)).body;
    expect(history.items.map((e: { type: string }) => e.type)).toEqual(['CompetitorAdded', 'CompetitorChanged', 'CompetitorArchived', 'CompetitorRestored']);
    const then = (await app.request('GET', `/api/v1/competitors/${acme.body.id}?asOf=${encodeURIComponent(history.items[0].at)}`)).body;
    expect(then).toMatchObject({ name: 'Acme Pumps', strengths: '价格低', status: 'active' });
  });

  it('carries custom fields, exports CSV, and is guarded by the opportunities module', async () => {
    expect((await app.request('POST', '/api/v1/settings/fields/competitors', { body: { key: 'marketShare', label: { 'zh-CN': '市场份额', en: 'Market share' }, type: 'integer' } })).status).toBe(201);
    const made = await app.request('POST', '/api/v1/competitors', { body: { name: 'Custom Co', custom: { marketShare: 12 } } });
    expect(made.status).toBe(201);
    expect((await app.request('POST', '/api/v1/competitors', { body: { name: 'Custom Two', custom: { marketShare: 'lots' } } })).status).toBe(400);
    await caughtUp();
    expect((await app.request('GET', '/api/v1/competitors?custom.marketShare=12')).body.items.map((c: { name: string }) => c.name)).toEqual(['Custom Co']);
    const csv = await app.request('GET', '/api/v1/competitors', { headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(String(csv.text)).toContain('custom.marketShare');
    const seller = await app.userWithToken('competitors.seller', ['salesperson'], await app.department('Competitors'));
    expect((await app.request('GET', '/api/v1/competitors', { token: seller.token })).status).toBe(200);
    expect((await app.request('POST', '/api/v1/competitors', { token: seller.token, body: { name: 'Seller Co' } })).status).toBe(201);
  });

  it("opportunities name competitors by id; an unknown id is refused; the list filters by competitor", async () => {
    await caughtUp();
    const [acme, bolt] = (await app.request('GET', '/api/v1/competitors?sort=name')).body.items as { id: string; name: string }[];
    const seller = await app.userWithToken('competitors.owner', ['salesperson'], await app.department('Competing'));
    const { customerId } = await registerCustomer(app.services.deps, { fields: { name: 'Competing Buyer' }, ownerId: seller.userId }, systemActor, app.services.requestMeta('test'));
    const created = await app.request('POST', '/api/v1/opportunities', { body: deal(customerId, [acme!.id]) });
    expect(created.status).toBe(201);
    const unknown = '01900000-0000-7000-8000-000000000000';
    const refused = await app.request('POST', '/api/v1/opportunities', { body: deal(customerId, [acme!.id, unknown]) });
    expectProblem(refused, 404, 'competitor.not_found');
    expect(refused.body.errors).toEqual([{ path: 'competitors[1]', message: expect.stringContaining('competitor') }]);
    expectProblem(await app.request('PATCH', `/api/v1/opportunities/${created.body.id}`, { body: { competitors: [unknown] } }), 404, 'competitor.not_found');
    expectProblem(await app.request('POST', '/api/v1/opportunities', { body: deal(customerId, ['Acme Pumps']) }), 400, 'validation');
    expect((await app.request('PATCH', `/api/v1/opportunities/${created.body.id}`, { body: { competitors: [acme!.id, bolt!.id] } })).status).toBe(200);
    await caughtUp();
    const filtered = await app.request('GET', `/api/v1/opportunities?competitors=${bolt!.id}`);
    expect(filtered.body.items.map((o: { id: string }) => o.id)).toEqual([created.body.id]);
    expect(filtered.body.items[0].competitors).toEqual([acme!.id, bolt!.id]);
  });
});

describe('opportunities written when competitors were free text', () => {
  it('their names become competitor records on the next start, once; the old deals name them by id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-competitors-'));
    try {
      let app = await startTestApp({ CRM_DATA_DIR: dir });
      const { userId: ownerId } = await app.userWithToken('legacy.owner', ['salesperson'], await app.department('Legacy'));
      const { customerId } = await registerCustomer(app.services.deps, { fields: { name: 'Old Buyer' }, ownerId }, systemActor, app.services.requestMeta('test'));
      const opportunityId = '01900000-0000-7000-8000-0000000000aa';
      // As the earlier version wrote it: competitors as free text, one of them twice in two spellings.
      const at = new Date().toISOString();
      await app.services.eventStore.append(
        `opportunity-${opportunityId}`,
        [
          { id: '01900000-0000-7000-8000-0000000000b1', type: 'OpportunityCreated', data: { opportunityId, ownerId, stage: 'lead', fields: { name: 'Old deal', customerId, amount: { amount: 100, currency: 'CNY' }, expectedCloseDate: '2026-12-31', competitors: ['Acme Pumps', '德国精密泵业'] } }, metadata: { actor: 'test', at, correlationId: 'legacy', schemaVersion: 1 } },
          { id: '01900000-0000-7000-8000-0000000000b2', type: 'OpportunityChanged', data: { opportunityId, changes: { competitors: ['ACME pumps', 'Bolt Valves'] } }, metadata: { actor: 'test', at, correlationId: 'legacy', schemaVersion: 1 } },
        ],
        'no_stream',
      );
      await app.close();

      app = await startTestApp({ CRM_DATA_DIR: dir });
      const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
      await caughtUp();
      const names = async () => ((await app.request('GET', '/api/v1/competitors?sort=name')).body.items as { id: string; name: string }[]).map((c) => [c.name, c.id]);
      expect(await names()).toEqual([
        ['Acme Pumps', competitorIdFor('Acme Pumps')],
        ['Bolt Valves', competitorIdFor('Bolt Valves')],
        ['德国精密泵业', competitorIdFor('德国精密泵业')],
      ]);
      const old = (await app.request('GET', `/api/v1/opportunities/${opportunityId}`)).body;
      expect(old.competitors).toEqual([competitorIdFor('Acme Pumps'), competitorIdFor('Bolt Valves')]);
      const history = (await app.request('GET', `/api/v1/opportunities/${opportunityId}/history`)).body;
      expect(history.items[0].data.fields.competitors).toEqual([competitorIdFor('Acme Pumps'), competitorIdFor('德国精密泵业')]);
      const competitorEvents = async () => (await app.services.eventStore.readAll({ filter: { categories: ['competitor'] } })).length;
      expect(await competitorEvents()).toBe(3);
      await app.close();

      app = await startTestApp({ CRM_DATA_DIR: dir });
      await caughtUp();
      expect(await names()).toHaveLength(3);
      expect(await competitorEvents()).toBe(3);
      await app.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
