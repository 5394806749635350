import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { registerCustomer } from '../../src/commands/customers.ts';
import { hireEmployee, systemActor } from '../../src/commands/employees.ts';
import { createDepartment } from '../../src/commands/org.ts';
import { currentHolder } from '../../src/commands/reservations.ts';
import { DomainError } from '../../src/domain/shared/errors.ts';
import { normalizeName } from '../../src/domain/shared/normalize.ts';
import { systemClock } from '../../src/infra/clock.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { randomIds } from '../../src/infra/ids.ts';

const meta = () => ({ correlationId: 'test', requestId: randomUUID(), ids: randomIds(systemClock) });

/** Reservations record a keyed hash of the value they reserve, and still honour the claims of earlier versions. */
describe('keyed reservations', () => {
  it('name the stream and record the value by its keyed hash: the value is nowhere in the log', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const deps = { eventStore: store, clock: systemClock, reservationKey: randomBytes(32) };
    const { departmentId } = await createDepartment(deps, { name: 'Sales' }, systemActor, meta());
    const { employeeId: ownerId } = await hireEmployee(deps, { fields: { name: 'Seller', departmentId }, roleIds: [] }, systemActor, meta());
    const { customerId } = await registerCustomer(deps, { fields: { name: 'Keyed Hash Trading', taxNumber: '91310000MA1FL0009X' } as never, ownerId }, systemActor, meta());
    const claims = (await store.readAll()).filter((event) => event.type === 'ReservationClaimed');
    expect(claims.length).toBeGreaterThanOrEqual(2);
    for (const claim of claims) {
      expect(claim.data).toEqual({ scope: expect.any(String), valueHash: expect.stringMatching(/^[0-9a-f]{64}$/), holderId: expect.any(String) });
      expect(claim.streamId).toMatch(/^reservation-[a-zA-Z.]+\.k[0-9a-f]{40}$/);
    }
    expect(JSON.stringify((await store.readAll({ filter: { categories: ['reservation'] } })).map((event) => [event.streamId, event.data]))).not.toMatch(/keyed hash trading|91310000MA1FL0009X/i);
    expect(await currentHolder(deps, 'customer.name', normalizeName('Keyed Hash Trading'))).toBe(customerId);
    // Under another key the same value is another stream: the key, not the value, names it.
    expect(await currentHolder({ ...deps, reservationKey: randomBytes(32) }, 'customer.name', normalizeName('Keyed Hash Trading'))).toBeUndefined();
    await expect(registerCustomer(deps, { fields: { name: 'keyed hash trading' } as never, ownerId }, systemActor, meta())).rejects.toMatchObject({ code: 'customer.duplicate' });
    await store.close();
  });

  it('a value reserved by an earlier version (plain hash) stays reserved, and is found as held', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const before = { eventStore: store, clock: systemClock };
    const { departmentId } = await createDepartment(before, { name: 'Sales' }, systemActor, meta());
    const { employeeId: ownerId } = await hireEmployee(before, { fields: { name: 'Seller', departmentId }, roleIds: [] }, systemActor, meta());
    const { customerId } = await registerCustomer(before, { fields: { name: 'Old Reserved Trading' } as never, ownerId }, systemActor, meta());
    expect((await store.readAll({ filter: { eventTypes: ['ReservationClaimed'] } }))[0]!.data).toMatchObject({ value: normalizeName('Old Reserved Trading') });
    // The upgrade: the same log, now with the reservation key.
    const after = { ...before, reservationKey: randomBytes(32) };
    expect(await currentHolder(after, 'customer.name', normalizeName('Old Reserved Trading'))).toBe(customerId);
    const error = await registerCustomer(after, { fields: { name: 'OLD RESERVED TRADING' } as never, ownerId }, systemActor, meta()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('customer.duplicate');
    await store.close();
  });
});
