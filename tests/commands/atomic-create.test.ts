import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerCustomer } from '../../src/commands/customers.ts';
import { hireEmployee, systemActor } from '../../src/commands/employees.ts';
import { createDepartment } from '../../src/commands/org.ts';
import { DomainError } from '../../src/domain/shared/errors.ts';
import { systemClock } from '../../src/infra/clock.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { randomIds, seededIds } from '../../src/infra/ids.ts';

const meta = () => ({ correlationId: 'test', requestId: randomUUID(), ids: randomIds(systemClock) });
const records = async (store: SqliteEventStore) => (await store.readAll()).filter((e) => /^(reservation|customer)-/.test(e.streamId));

/** A store with a salesperson to own customers. */
async function withOwner() {
  const store = new SqliteEventStore({ path: ':memory:' });
  const deps = { eventStore: store, clock: systemClock };
  const { departmentId } = await createDepartment(deps, { name: 'Sales' }, systemActor, meta());
  const { employeeId } = await hireEmployee(deps, { fields: { name: 'Seller', departmentId }, roleIds: [] }, systemActor, meta());
  return { store, deps, ownerId: employeeId };
}

/** A create claims its unique values and records its stream in one transaction where the store can. */
describe('an atomic create', () => {
  let store: SqliteEventStore;
  afterEach(async () => store.close());

  it('writes the claims and the record in one append across streams, and a retry writes nothing', async () => {
    const setup = await withOwner();
    store = setup.store;
    const { deps, ownerId } = setup;
    const atomic = vi.spyOn(store, 'appendAtomically');
    const seededAt = Date.now();
    const request = { ...meta(), ids: seededIds('retried-request', seededAt) };
    const created = await registerCustomer(deps, { fields: { name: 'One Go Trading', taxNumber: '91310000MA1FL0001X' } as never, ownerId }, systemActor, request);
    expect(atomic).toHaveBeenCalledTimes(1);
    const streams = atomic.mock.calls[0]![0].map((write) => write.streamId.split('-')[0]);
    expect(streams).toEqual(['reservation', 'reservation', 'customer']);
    const log = await records(store);
    expect(log.map((e) => e.type)).toEqual(['ReservationClaimed', 'ReservationClaimed', 'CustomerRegistered']);
    expect(created.position).toBe(log[2]!.position);
    // The same request again (a client retry, its ids seeded alike): the same record, nothing appended.
    const again = await registerCustomer(deps, { fields: { name: 'One Go Trading', taxNumber: '91310000MA1FL0001X' } as never, ownerId }, systemActor, { ...request, ids: seededIds('retried-request', seededAt) });
    expect((await records(store)).length).toBe(3);
    expect(again.changed).toBe(false);
    expect(again.customerId).toBe(created.customerId);
  });

  it('when another create took the name meanwhile, the loser is refused step by step and leaves no claim', async () => {
    const setup = await withOwner();
    store = setup.store;
    const { deps, ownerId } = setup;
    const results = await Promise.allSettled(
      ['Race Trading', 'race trading'].map((name) => registerCustomer(deps, { fields: { name } as never, ownerId }, systemActor, meta())),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(DomainError);
    expect((refused.reason as DomainError).code).toBe('customer.duplicate');
    const log = await records(store);
    expect(log.map((e) => e.type)).toEqual(['ReservationClaimed', 'CustomerRegistered']);
  });
});
