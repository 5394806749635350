import { describe, expect, it } from 'vitest';
import { allProjections } from '../../src/projections/all.ts';
import { applyBatch } from '../../src/projections/runner.ts';
import type { Projection } from '../../src/projections/projection.ts';
import type { RecordedEvent } from '../../src/infra/eventstore/port.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { WriteBackStore } from '../../src/infra/readstore/write-back.ts';

/**
 * `Projection.ignores`: the runner hands a projection no event it ignores, and a projection does nothing with an
 * event it ignores even when handed it (both ask the same rule), so the hint changes what is called, never what is
 * written.
 */
let position = 0n;
const event = (streamId: string, type: string, data: Record<string, unknown>, metadata: Record<string, unknown> = {}): RecordedEvent => {
  position += 1n;
  return { id: `event-${position}`, streamId, revision: 0n, position, type, data, metadata: { at: '2026-12-01T08:00:00.000Z', actor: 'employee-1', correlationId: 'c-1', schemaVersion: 1, ...metadata } };
};

describe('projections that ignore events of their categories', () => {
  it('are not handed the events they ignore, and are handed the rest', async () => {
    const handed: string[] = [];
    const noting: Projection = {
      name: 'noting',
      version: 1,
      categories: ['customer'],
      collections: [],
      async setup() {},
      ignores: (e) => e.type !== 'CustomerRegistered',
      async apply(e) {
        handed.push(e.type);
      },
    };
    const store = new EmbeddedReadStore();
    const batch = [event('customer-1', 'CustomerRegistered', { customerId: '1' }), event('customer-1', 'CustomerChanged', { customerId: '1' }), event('customer-2', 'CustomerRegistered', { customerId: '2' })];
    await applyBatch(batch, [noting], new WriteBackStore(store), store, () => true);
    expect(handed).toEqual(['CustomerRegistered', 'CustomerRegistered']);
  });

  it('write nothing for an event they ignore, when it is handed to them all the same', async () => {
    const ignoring = allProjections.filter((projection) => projection.ignores);
    // The team's records, the batches, the campaign members and each declared record with parties (the tickets).
    expect(ignoring.map((projection) => projection.name)).toEqual(expect.arrayContaining(['team', 'batches', 'campaign-members', 'tickets']));
    const ignored = [
      event('customer-c1', 'CustomerChanged', { customerId: 'c1', changes: { name: 'Wuxi Tools' } }),
      event('customer-c1', 'CustomerArchived', { customerId: 'c1' }),
      event('contact-k1', 'ContactAdded', { contactId: 'k1', customerId: 'c1', fields: { name: 'Li Lei' } }),
      event('opportunity-o1', 'OpportunityStageChanged', { opportunityId: 'o1', stage: 'proposal' }),
    ];
    for (const projection of ignoring) {
      const store = new EmbeddedReadStore();
      await projection.setup(store);
      let handed = 0;
      for (const e of ignored) {
        if (!projection.categories.includes(e.streamId.split('-')[0]!) || !projection.ignores!(e)) continue;
        handed += 1;
        await projection.apply(e, store);
      }
      expect(handed, projection.name).toBeGreaterThan(0);
      for (const name of projection.collections) expect(await store.collection(name).countDocuments({}), `${projection.name}: ${name}`).toBe(0);
    }
  });

  it('still apply the events of those categories they follow', async () => {
    const team = allProjections.find((projection) => projection.name === 'team')!;
    const batches = allProjections.find((projection) => projection.name === 'batches')!;
    expect(team.ignores!(event('customer-c2', 'CustomerRegistered', { customerId: 'c2', ownerId: 'employee-1' }))).toBe(false);
    expect(team.ignores!(event('opportunity-o2', 'OpportunityStageChanged', { opportunityId: 'o2', stage: 'won' }))).toBe(false);
    expect(batches.ignores!(event('customer-c3', 'CustomerChanged', { customerId: 'c3', changes: {} }, { batchId: 'batch-1' }))).toBe(false);
    expect(batches.ignores!(event('customer-c3', 'CustomerChanged', { customerId: 'c3', changes: {} }))).toBe(true);
  });
});
