import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { returnIdleCustomersToPool } from '../../src/commands/pool.ts';
import { systemActor } from '../../src/commands/employees.ts';
import { CONTACTS, CUSTOMERS } from '../../src/projections/customers.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { completedBatch } from '../support/batches.ts';
import { digests } from '../support/digests.ts';
import { expectProblem } from '../support/problem.ts';

const caughtUp = async (app: TestApp) => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);

describe('batches: mass update, mass assign and undo', () => {
  let app: TestApp;
  const clock = new ManualClock(new Date('2026-11-02T08:00:00.000Z'));
  let seller: { userId: string; token: string };
  let colleague: { userId: string; token: string };
  let outsider: { userId: string; token: string };
  const ids: string[] = [];
  const contactIds: string[] = [];

  const completed = (batchId: string, token?: string) => completedBatch(app, batchId, token);
  const snapshot = async () => ({ ...(await digests(app.services.readStore, CUSTOMERS, ids)), ...(await digests(app.services.readStore, CONTACTS, contactIds)) });

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    const department = await app.department('Batch sales');
    seller = await app.userWithToken('batch.seller', ['salesperson'], department);
    colleague = await app.userWithToken('batch.colleague', ['salesperson'], department);
    outsider = await app.userWithToken('batch.outsider', ['salesperson'], await app.department('Batch elsewhere'));
    for (let i = 0; i < 6; i++) {
      clock.advance(60_000);
      const created = await app.request('POST', '/api/v1/customers', { body: { name: `批量客户 ${i}`, industry: i < 4 ? 'Machinery' : 'Textiles', region: '华东', level: 'C' }, token: seller.token });
      ids.push(created.body.id);
    }
    for (const customerId of ids.slice(0, 2)) contactIds.push((await app.request('POST', '/api/v1/contacts', { body: { customerId, name: `联系人 ${customerId.slice(-4)}` }, token: seller.token })).body.id);
    await caughtUp(app);
  });
  afterAll(async () => app.close());

  it('a mass update changes the customers its filter matches, as one batch; its undo restores every document exactly; the undo can be undone', async () => {
    const before = await snapshot();
    clock.advance(3_600_000);
    const started = await app.request('POST', '/api/v1/customers/bulk', { body: { filter: { industry: 'Machinery' }, set: { level: 'A', region: '华南', notes: '批量' } }, token: seller.token });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', matched: 4 });
    expect(started.headers.get('location')).toBe(`/api/v1/batches/${started.body.batchId}`);
    const batch = await completed(started.body.batchId, seller.token);
    expect(batch).toMatchObject({ kind: 'mass-update', resource: 'customers', actorId: seller.userId, records: 4, events: 4, skipped: 0, conflicts: [], label: { en: 'Mass update' } });
    const changed = await app.request('GET', `/api/v1/customers/${ids[0]}`, { token: seller.token });
    expect(changed.body).toMatchObject({ level: 'A', region: '华南', notes: '批量' });
    expect((await app.request('GET', `/api/v1/customers/${ids[5]}`, { token: seller.token })).body.level).toBe('C');
    const afterBatch = await snapshot();
    expect(afterBatch).not.toEqual(before);

    clock.advance(3_600_000);
    const undo = await app.request('POST', `/api/v1/batches/${started.body.batchId}/undo`, { body: {}, token: seller.token });
    expect(undo.status).toBe(202);
    const undone = await completed(undo.body.batchId, seller.token);
    expect(undone).toMatchObject({ kind: 'undo', undoes: started.body.batchId, records: 4, skipped: 0 });
    expect(await snapshot()).toEqual(before);
    expect((await app.request('GET', `/api/v1/batches/${started.body.batchId}`, { token: seller.token })).body.undoneBy).toBe(undo.body.batchId);
    // The history shows the batch and its undo on the record.
    const history = await app.request('GET', `/api/v1/customers/${ids[0]}/history`, { token: seller.token });
    const items = history.body.items as { type: string; batchId?: string; undoes?: string }[];
    expect(items.slice(-2)).toMatchObject([
      { type: 'CustomerChanged', batchId: started.body.batchId },
      { type: 'CustomerChanged', batchId: undo.body.batchId, undoes: started.body.batchId },
    ]);

    // Undone once only; the undo itself can be undone, which brings the batch's values back.
    expectProblem(await app.request('POST', `/api/v1/batches/${started.body.batchId}/undo`, { body: {}, token: seller.token }), 409, 'batch.already_undone');
    clock.advance(3_600_000);
    const redo = await app.request('POST', `/api/v1/batches/${undo.body.batchId}/undo`, { body: {}, token: seller.token });
    expect(redo.status).toBe(202);
    await completed(redo.body.batchId, seller.token);
    expect(await snapshot()).toEqual(afterBatch);
  });

  it('a mass assign and its undo: owners, pool clocks and contacts come back exactly; a later edit is a conflict kept unless forced', async () => {
    const before = await snapshot();
    clock.advance(3_600_000);
    const started = await app.request('POST', '/api/v1/customers/bulk', { body: { filter: { industry: 'Textiles' }, assign: { ownerId: colleague.userId } }, token: seller.token });
    expect(started.status).toBe(202);
    await completed(started.body.batchId, seller.token);
    expect((await app.request('GET', `/api/v1/customers/${ids[4]}`, { token: colleague.token })).body.ownerId).toBe(colleague.userId);
    // The new owner edits one of them afterwards.
    clock.advance(60_000);
    const edited = await app.request('PATCH', `/api/v1/customers/${ids[5]}`, { body: { shortName: '改过' }, token: colleague.token });
    expect(edited.status).toBe(200);
    await caughtUp(app);
    const editedDigest = (await snapshot())[ids[5]!];

    clock.advance(3_600_000);
    const undo = await app.request('POST', `/api/v1/batches/${started.body.batchId}/undo`, { body: {}, token: seller.token });
    const undone = await completed(undo.body.batchId, seller.token);
    expect(undone).toMatchObject({ records: 1, skipped: 1, conflicts: [{ resource: 'customers', recordId: ids[5], reason: 'changed_after_batch', changedBy: colleague.userId }] });
    const now = await snapshot();
    expect(now[ids[4]!]).toBe(before[ids[4]!]);
    expect(now[ids[5]!]).toBe(editedDigest);

    // The undo of the undo gives the reverted one back to the colleague.
    clock.advance(3_600_000);
    const again = await app.request('POST', `/api/v1/batches/${undo.body.batchId}/undo`, { body: {}, token: seller.token });
    await completed(again.body.batchId, seller.token);
    expect((await app.request('GET', `/api/v1/customers/${ids[4]}`, { token: colleague.token })).body.ownerId).toBe(colleague.userId);

    // Forced, an undo also reverts a record changed after the batch: its later edit is overwritten.
    const assign = await app.request('POST', '/api/v1/customers/bulk', { body: { filter: { industry: 'Machinery' }, assign: { ownerId: colleague.userId } }, token: seller.token });
    await completed(assign.body.batchId, seller.token);
    const assigned = await snapshot();
    await app.request('PATCH', `/api/v1/customers/${ids[0]}`, { body: { shortName: '又改过' }, token: colleague.token });
    const forced = await app.request('POST', `/api/v1/batches/${assign.body.batchId}/undo`, { body: { force: true }, token: seller.token });
    expect(await completed(forced.body.batchId, seller.token)).toMatchObject({ records: 4, skipped: 0, force: true });
    const reverted = await app.request('GET', `/api/v1/customers/${ids[0]}`, { token: seller.token });
    expect(reverted.body.ownerId).toBe(seller.userId);
    expect(reverted.body.shortName).toBeUndefined();
    expect((await snapshot())[ids[1]!]).not.toBe(assigned[ids[1]!]);
  });

  it('mass changes stay in scope: a filter matches only the caller\'s customers, another\'s batch is 404, an undo needs the permission the batch took', async () => {
    const started = await app.request('POST', '/api/v1/customers/bulk', { body: { filter: {}, set: { source: 'outsider' } }, token: outsider.token });
    expect(started.body.matched).toBe(0);
    const mine = await app.request('POST', '/api/v1/customers/bulk', { body: { filter: { region: '华东' }, set: { category: 'X' } }, token: seller.token });
    await completed(mine.body.batchId, seller.token);
    expectProblem(await app.request('GET', `/api/v1/batches/${mine.body.batchId}`, { token: outsider.token }), 404, 'batch.not_found');
    expectProblem(await app.request('POST', `/api/v1/batches/${mine.body.batchId}/undo`, { body: {}, token: outsider.token }), 404, 'batch.not_found');
    const listed = await app.request('GET', '/api/v1/batches', { token: outsider.token });
    expect(listed.body.items.map((b: { id: string }) => b.id)).not.toContain(mine.body.batchId);
    expect((await app.request('GET', '/api/v1/batches?kind=mass-update', { token: seller.token })).body.items.map((b: { id: string }) => b.id)).toContain(mine.body.batchId);
    // Bad bodies are 400 and name what is wrong.
    expectProblem(await app.request('POST', '/api/v1/customers/bulk', { body: { filter: { colour: 'red' }, set: { level: 'A' } }, token: seller.token }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/customers/bulk', { body: { set: { level: 'A' }, assign: { ownerId: seller.userId } }, token: seller.token }), 400, 'validation');
    expectProblem(await app.request('POST', '/api/v1/customers/bulk', { body: { set: { bogus: 1 } }, token: seller.token }), 400, 'validation');
    // An owner who does not exist is refused before anything changes, as for one customer.
    expectProblem(await app.request('POST', '/api/v1/customers/bulk', { body: { assign: { ownerId: '01900000-0000-7000-8000-000000000000' } }, token: seller.token }), 409, 'customer.owner_unknown');
  });

  it('a handover is a batch: its undo gives every customer, lead, opportunity and contact back, documents exactly as they were', async () => {
    const department = await app.department('Batch handover');
    const leaver = await app.userWithToken('batch.leaver', ['salesperson'], department);
    const receiver = await app.userWithToken('batch.receiver', ['salesperson'], department);
    const customers: string[] = [];
    for (let i = 0; i < 3; i++) customers.push((await app.request('POST', '/api/v1/customers', { body: { name: `交接客户 ${i}` }, token: leaver.token })).body.id);
    const contact = (await app.request('POST', '/api/v1/contacts', { body: { customerId: customers[0], name: '交接联系人' }, token: leaver.token })).body.id;
    const lead = (await app.request('POST', '/api/v1/leads', { body: { company: '交接线索公司', person: '王五' }, token: leaver.token })).body.id;
    const deal = (await app.request('POST', '/api/v1/opportunities', { body: { name: '交接商机', customerId: customers[1], amount: { amount: 500_000, currency: 'CNY' }, expectedCloseDate: '2027-03-31' }, token: leaver.token })).body.id;
    expect([lead, deal, contact].every(Boolean)).toBe(true);
    await caughtUp(app);
    const look = async () => ({
      ...(await digests(app.services.readStore, CUSTOMERS, customers)),
      ...(await digests(app.services.readStore, CONTACTS, [contact])),
      ...(await digests(app.services.readStore, 'leads', [lead])),
      ...(await digests(app.services.readStore, 'opportunities', [deal])),
    });
    const before = await look();
    clock.advance(86_400_000);
    const handover = await app.request('POST', `/api/v1/employees/${leaver.userId}/handover`, { body: { toEmployeeId: receiver.userId } });
    expect(handover.status).toBe(202);
    const batch = await completed(handover.body.id);
    expect(batch).toMatchObject({ kind: 'handover', records: 5, summary: { fromEmployeeId: leaver.userId, toEmployeeId: receiver.userId } });
    expect((await app.request('GET', `/api/v1/leads/${lead}`)).body.ownerId).toBe(receiver.userId);

    clock.advance(86_400_000);
    const undo = await app.request('POST', `/api/v1/batches/${handover.body.id}/undo`, { body: {} });
    expect(await completed(undo.body.batchId)).toMatchObject({ records: 5, skipped: 0 });
    expect(await look()).toEqual(before);
    expect((await app.request('GET', `/api/v1/customers?q=${encodeURIComponent('交接客户')}&ownerId=${leaver.userId}`)).body.items).toHaveLength(3);
  });

  it('a pool return run is a batch an administrator can undo: the customers go back to their owners as they were', async () => {
    const department = await app.department('Batch pool');
    const idle = await app.userWithToken('batch.idle', ['salesperson'], department);
    const customers: string[] = [];
    for (let i = 0; i < 2; i++) customers.push((await app.request('POST', '/api/v1/customers', { body: { name: `公海客户 ${i}` }, token: idle.token })).body.id);
    expect((await app.request('PUT', '/api/v1/settings/customer-pool', { body: { autoReturnDays: 30 } })).status).toBe(200);
    await caughtUp(app);
    const before = await digests(app.services.readStore, CUSTOMERS, customers);
    clock.advance(40 * 86_400_000);
    const released = await returnIdleCustomersToPool(app.services.deps, app.services.readStore, systemActor, () => app.services.requestMeta('pool-rule'));
    expect(released).toBeGreaterThanOrEqual(2);
    await caughtUp(app);
    expect((await app.request('GET', `/api/v1/customers/${customers[0]}`)).body.inPool).toBe(true);
    const runs = await app.request('GET', '/api/v1/batches?kind=pool-return');
    const run = runs.body.items[0];
    expect(run).toMatchObject({ kind: 'pool-return', status: 'completed', actorId: systemActor.userId });
    // Someone who cannot see the system's batches cannot undo it.
    const colleague = await app.userWithToken('batch.idle.colleague', ['salesperson'], department);
    expectProblem(await app.request('POST', `/api/v1/batches/${run.id}/undo`, { body: {}, token: colleague.token }), 404, 'batch.not_found');
    const undo = await app.request('POST', `/api/v1/batches/${run.id}/undo`, { body: {} });
    await completed(undo.body.batchId);
    expect(await digests(app.services.readStore, CUSTOMERS, customers)).toEqual(before);
    await app.request('PUT', '/api/v1/settings/customer-pool', { body: { autoReturnDays: null } });
  });
});
