import { describe, expect, it } from 'vitest';
import { batchDecider, type BatchEvent } from '../../src/domain/batch/index.ts';
import { customerDecider, type CustomerEvent, revertCustomer } from '../../src/domain/customer/index.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { DomainError } from '../../src/domain/shared/errors.ts';
import { moveByChange, revertible, revertFields } from '../../src/domain/shared/revert.ts';
import { imageAfter, restored } from '../../src/projections/batch-images.ts';

const given = (events: CustomerEvent[]) => fold(customerDecider, events);
const registered: CustomerEvent = { type: 'CustomerRegistered', data: { customerId: 'c1', ownerId: 'u1', erpCode: null, fields: { name: 'Acme', level: 'C', custom: { tier: 'gold' } } } };

describe('batch decider', () => {
  const started: BatchEvent = { type: 'BatchStarted', data: { batchId: 'b1', kind: 'mass-update', resource: 'customers', summary: {} } };
  const completed: BatchEvent = { type: 'BatchCompleted', data: { batchId: 'b1', records: 3, skipped: 0 } };
  const undo = { type: 'UndoBatch' as const, batchId: 'b1', undoBatchId: 'u1' };
  it('a completed batch is undone once', () => {
    const state = fold(batchDecider, [started, completed]);
    expect(batchDecider.decide(undo, state)).toEqual([{ type: 'BatchUndone', data: { batchId: 'b1', undoBatchId: 'u1' } }]);
    const undone = fold(batchDecider, [started, completed, { type: 'BatchUndone', data: { batchId: 'b1', undoBatchId: 'u1' } }]);
    expect(() => batchDecider.decide({ ...undo, undoBatchId: 'u2' }, undone)).toThrow(expect.objectContaining({ code: 'batch.already_undone' }));
  });
  it('refuses a running batch and one that does not exist', () => {
    expect(() => batchDecider.decide(undo, fold(batchDecider, [started]))).toThrow(expect.objectContaining({ code: 'batch.running' }));
    expect(() => batchDecider.decide(undo, batchDecider.initialState)).toThrow(expect.objectContaining({ code: 'batch.not_found' }));
  });
});

describe('revert: the events that take a record back', () => {
  it('clears fields that did not exist, restores changed ones and custom values one by one', () => {
    expect(revertFields({ name: 'B', notes: 'x', custom: { tier: 'silver', extra: 1 } }, { name: 'A', custom: { tier: 'gold' } })).toEqual({ name: 'A', notes: null, 'custom.tier': 'gold', 'custom.extra': null });
  });
  it('a customer changed, reassigned and archived goes back with the events a user would write, in an order the decider accepts', () => {
    const before = given([registered]);
    const now = given([
      registered,
      { type: 'CustomerChanged', data: { customerId: 'c1', changes: { level: 'A', region: '华东' } } },
      { type: 'CustomerOwnerChanged', data: { customerId: 'c1', fromOwnerId: 'u1', ownerId: 'u2' } },
      { type: 'CustomerArchived', data: { customerId: 'c1' } },
    ]);
    const events = revertCustomer(before, now);
    expect(events.map((e) => e.type)).toEqual(['CustomerRestored', 'CustomerChanged', 'CustomerOwnerChanged']);
    expect(events.reduce(customerDecider.evolve, now)).toEqual(before);
  });
  it('a merged customer is unmerged to the status it had, and merged again when the unmerge is undone', () => {
    const archived = given([registered, { type: 'CustomerArchived', data: { customerId: 'c1' } }]);
    const merged = given([registered, { type: 'CustomerArchived', data: { customerId: 'c1' } }, { type: 'CustomerMerged', data: { customerId: 'c1', survivorId: 'c9' } }]);
    const unmerge = revertCustomer(archived, merged);
    expect(unmerge).toEqual([{ type: 'CustomerUnmerged', data: { customerId: 'c1', status: 'archived' } }]);
    expect(unmerge.reduce(customerDecider.evolve, merged)).toEqual(archived);
    const remerge = revertCustomer(merged, archived);
    expect(remerge).toEqual([{ type: 'CustomerMerged', data: { customerId: 'c1', survivorId: 'c9' } }]);
    expect(remerge.reduce(customerDecider.evolve, archived)).toEqual(merged);
  });
  it('a released customer gets its owner back; one put back into the pool is released again', () => {
    const released = given([registered, { type: 'CustomerReleased', data: { customerId: 'c1', fromOwnerId: 'u1', reason: 'idle' } }]);
    expect(revertCustomer(given([registered]), released)).toEqual([{ type: 'CustomerOwnerChanged', data: { customerId: 'c1', fromOwnerId: null, ownerId: 'u1' } }]);
    expect(revertCustomer(released, given([registered]))).toEqual([{ type: 'CustomerReleased', data: { customerId: 'c1', fromOwnerId: 'u1', reason: 'undo' } }]);
  });
  it('a registration is discarded, and a discarded customer reinstated as it was', () => {
    const now = given([registered]);
    const discarded = revertCustomer(customerDecider.initialState, now);
    expect(discarded).toEqual([{ type: 'CustomerDiscarded', data: { customerId: 'c1' } }]);
    const gone = discarded.reduce(customerDecider.evolve, now);
    expect(gone).toEqual({ status: 'none' });
    expect(revertCustomer(now, gone).reduce(customerDecider.evolve, gone)).toEqual(now);
    expect(revertCustomer(now, now)).toEqual([]);
  });
  it('a reassignment revert gives a record back and moves it back, and refuses any other difference rather than half revert it', () => {
    type Lead = { status: string; leadId: string; ownerId: string; fields: Record<string, unknown> };
    const evolve = (state: Lead, event: { type: string; data: Record<string, unknown> }): Lead =>
      event.type === 'LeadOwnerChanged' ? { ...state, ownerId: String(event.data.ownerId) } : { ...state, fields: { ...state.fields, ...(event.data.changes as object) } };
    const { revert, moves } = revertible<Lead>({ evolve }, 'leadId', { owner: 'LeadOwnerChanged', moves: { customerId: moveByChange('LeadChanged', 'leadId') } });
    const moveToCustomer = moves!.customerId!;
    const lead = { status: 'new', leadId: 'l1', ownerId: 'u1', fields: { company: 'A', customerId: 'c1' } };
    expect(revert(lead, { ...lead, ownerId: 'u2' })).toEqual([{ type: 'LeadOwnerChanged', data: { leadId: 'l1', fromOwnerId: 'u2', ownerId: 'u1' } }]);
    expect(moveToCustomer(lead as never, 'c2')).toEqual([{ type: 'LeadChanged', data: { leadId: 'l1', changes: { customerId: 'c2' } } }]);
    expect(moveToCustomer(lead as never, 'c1')).toEqual([]);
    const moved = { ...lead, ownerId: 'u2', fields: { customerId: 'c2', company: 'A' } };
    expect(revert(lead, moved)).toEqual([
      { type: 'LeadChanged', data: { leadId: 'l1', changes: { customerId: 'c1' } } },
      { type: 'LeadOwnerChanged', data: { leadId: 'l1', fromOwnerId: 'u2', ownerId: 'u1' } },
    ]);
    expect(() => revert(lead, { ...lead, ownerId: 'u2', fields: { company: 'B', customerId: 'c1' } })).toThrow(DomainError);
  });
});

describe('batch images: what a batch changed in a document, put back by its undo', () => {
  const ids = { batchId: 'b1', collection: 'customers', docId: 'c1' };
  const doc = { _id: 'c1', name: 'Acme', level: 'C', lastActivityAt: 't0', revision: 0, updatedAt: 't0', _position: 1 };
  it('keeps the changed fields before the first event and after the last, not the bookkeeping', () => {
    const once = imageAfter(null, ids, doc, { ...doc, level: 'A', region: '华东', lastActivityAt: 't1', revision: 1, _position: 2 });
    const twice = imageAfter(once, ids, { ...doc, level: 'A', region: '华东', lastActivityAt: 't1' }, { ...doc, level: 'B', region: '华东', lastActivityAt: 't2' });
    expect(twice).toMatchObject({ existedBefore: true, before: { level: 'C', lastActivityAt: 't0' }, absentBefore: ['region'], after: { level: 'B', region: '华东', lastActivityAt: 't2' } });
    expect(imageAfter(null, ids, doc, doc)).toBeNull();
  });
  it("restores what nobody changed since, keeps what someone did, drops the side effects of the undo's events unless forced", () => {
    const image = imageAfter(null, ids, doc, { ...doc, level: 'A', notes: 'n', lastActivityAt: 't1' })!;
    const pre = { ...doc, level: 'A', notes: 'edited later', lastActivityAt: 't1' };
    const post = { ...pre, level: 'C', contactBase: 't9', lastActivityAt: 't9', revision: 5 };
    expect(restored(image, pre, post)).toEqual({ ...doc, level: 'C', notes: 'edited later', lastActivityAt: 't0', revision: 5 });
    expect(restored(image, pre, post, true)).toMatchObject({ contactBase: 't9' });
  });
  it('a document the batch created is gone after its undo; one it deleted comes back whole', () => {
    // A document the batch created needs no image: the undo's events delete it (and a restore keeps it deleted).
    expect(imageAfter(null, ids, null, doc)).toBeNull();
    expect(restored({ _id: 'x', ...ids, existedBefore: false, before: {}, absentBefore: [], after: null, absentAfter: [] }, doc, null)).toBeNull();
    const deleted = imageAfter(null, ids, doc, null)!;
    expect(restored(deleted, null, null)).toEqual({ _id: 'c1', name: 'Acme', level: 'C', lastActivityAt: 't0' });
  });
});
