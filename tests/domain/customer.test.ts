import { describe, expect, it } from 'vitest';
import { type CustomerCommand, type CustomerEvent, customerDecider, customerStream } from '../../src/domain/customer/index.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { DomainError, isNotFound } from '../../src/domain/shared/errors.ts';
import { specFor } from '../support/spec.ts';

const { given } = specFor(customerDecider);
const id = 'c-1';
const fields = { name: 'Acme', industry: 'Machinery', phone: '021-1234' };
const registered: CustomerEvent = { type: 'CustomerRegistered', data: { customerId: id, ownerId: 'u-1', erpCode: null, fields } };
const archived: CustomerEvent = { type: 'CustomerArchived', data: { customerId: id } };

describe('customer decider', () => {
  it('merges a customer into another, which then takes no writes but the evaluations that skip it', () => {
    given([registered])
      .when({ type: 'MergeCustomerInto', customerId: id, survivorId: 'c-2' })
      .then([{ type: 'CustomerMerged', data: { customerId: id, survivorId: 'c-2' } }]);
    given([registered]).when({ type: 'MergeCustomerInto', customerId: id, survivorId: id }).thenThrows('customer.merge_self');
    const merged: CustomerEvent = { type: 'CustomerMerged', data: { customerId: id, survivorId: 'c-2' } };
    given([registered, merged]).when({ type: 'ChangeCustomer', customerId: id, changes: { industry: 'X' } }).thenThrows('customer.merged');
    given([registered, merged]).when({ type: 'MergeCustomerInto', customerId: id, survivorId: 'c-3' }).thenThrows('customer.merged');
    given([registered, merged]).when({ type: 'SetMemberLevel', customerId: id, level: 'gold', amount: { amount: 1, currency: 'CNY' }, basis: 'orders', windowMonths: 12 }).thenNothing();
    expect(fold(customerDecider, [registered, archived, merged])).toMatchObject({ status: 'merged', mergedInto: 'c-2', statusBeforeMerge: 'archived' });
    expect(fold(customerDecider, [registered, archived, merged, { type: 'CustomerUnmerged', data: { customerId: id, status: 'archived' } }])).toEqual(fold(customerDecider, [registered, archived]));
  });

  it('registers a new customer', () =>
    given([])
      .when({ type: 'RegisterCustomer', customerId: id, ownerId: 'u-1', fields })
      .then([registered]));

  it('refuses to register the same id twice', () =>
    given([registered])
      .when({ type: 'RegisterCustomer', customerId: id, ownerId: 'u-1', fields: { name: 'X' } })
      .thenThrows('customer.already_exists'));

  it('changes only the fields that differ, null clears', () =>
    given([registered])
      .when({ type: 'ChangeCustomer', customerId: id, changes: { name: 'Acme', industry: 'Trading', phone: null, region: 'East' } })
      .then([{ type: 'CustomerChanged', data: { customerId: id, changes: { industry: 'Trading', phone: null, region: 'East' } } }]));

  it('produces nothing when every field already has its value', () =>
    given([registered]).when({ type: 'ChangeCustomer', customerId: id, changes: { name: 'Acme', notes: null } }).thenNothing());

  it('compares money by value', () =>
    given([
      registered,
      { type: 'CustomerChanged', data: { customerId: id, changes: { annualRevenue: { amount: 100, currency: 'CNY' } } } },
    ])
      .when({ type: 'ChangeCustomer', customerId: id, changes: { annualRevenue: { amount: 100, currency: 'CNY' } } })
      .thenNothing());

  it('refuses to clear the name', () =>
    given([registered]).when({ type: 'ChangeCustomer', customerId: id, changes: { name: null } }).thenThrows('customer.name_required'));

  it('refuses to change an unknown customer', () =>
    given([]).when({ type: 'ChangeCustomer', customerId: id, changes: { industry: 'X' } }).thenThrows('customer.not_found'));

  it('refuses to change an archived customer', () =>
    given([registered, archived]).when({ type: 'ChangeCustomer', customerId: id, changes: { industry: 'X' } }).thenThrows('customer.archived'));

  it('changes the owner', () =>
    given([registered])
      .when({ type: 'ChangeCustomerOwner', customerId: id, ownerId: 'u-2' })
      .then([{ type: 'CustomerOwnerChanged', data: { customerId: id, fromOwnerId: 'u-1', ownerId: 'u-2' } }]));

  it('does nothing when the owner is already the owner', () =>
    given([registered]).when({ type: 'ChangeCustomerOwner', customerId: id, ownerId: 'u-1' }).thenNothing());

  it('refuses to change the owner of an unknown customer', () =>
    given([]).when({ type: 'ChangeCustomerOwner', customerId: id, ownerId: 'u-2' }).thenThrows('customer.not_found'));

  it('archives with a reason', () =>
    given([registered])
      .when({ type: 'ArchiveCustomer', customerId: id, reason: 'closed down' })
      .then([{ type: 'CustomerArchived', data: { customerId: id, reason: 'closed down' } }]));

  it('refuses to archive twice', () =>
    given([registered, archived]).when({ type: 'ArchiveCustomer', customerId: id }).thenThrows('customer.already_archived'));

  it('restores an archived customer', () =>
    given([registered, archived]).when({ type: 'RestoreCustomer', customerId: id }).then([{ type: 'CustomerRestored', data: { customerId: id } }]));

  it('refuses to restore an active customer', () =>
    given([registered]).when({ type: 'RestoreCustomer', customerId: id }).thenThrows('customer.not_archived'));

  const released: CustomerEvent = { type: 'CustomerReleased', data: { customerId: id, fromOwnerId: 'u-1', reason: 'released' } };

  it('releases a customer into the pool', () =>
    given([registered]).when({ type: 'ReleaseCustomer', customerId: id, reason: 'released' }).then([released]));

  it('refuses to release a pooled or archived customer', () => {
    given([registered, released]).when({ type: 'ReleaseCustomer', customerId: id, reason: 'x' }).thenThrows('customer.already_in_pool');
    given([registered, archived]).when({ type: 'ReleaseCustomer', customerId: id, reason: 'x' }).thenThrows('customer.archived');
  });

  it('lets the first claimer take a pooled customer', () =>
    given([registered, released])
      .when({ type: 'ClaimCustomer', customerId: id, ownerId: 'u-2' })
      .then([{ type: 'CustomerClaimed', data: { customerId: id, ownerId: 'u-2' } }]));

  it('refuses a second claim', () =>
    given([registered, released, { type: 'CustomerClaimed', data: { customerId: id, ownerId: 'u-2' } }])
      .when({ type: 'ClaimCustomer', customerId: id, ownerId: 'u-3' })
      .thenThrows('customer.already_claimed'));

  it('refuses to archive or restore an unknown customer', () => {
    given([]).when({ type: 'ArchiveCustomer', customerId: id }).thenThrows('customer.not_found');
    given([]).when({ type: 'RestoreCustomer', customerId: id }).thenThrows('customer.not_found');
  });
});

describe('customer decider: folds and refusals pinned', () => {
  const state = (events: CustomerEvent[]) => fold(customerDecider, events);
  it('folds every event into the state; events before registration change nothing', () => {
    const owner: CustomerEvent = { type: 'CustomerOwnerChanged', data: { customerId: id, fromOwnerId: 'u-1', ownerId: 'u-2' } };
    const released: CustomerEvent = { type: 'CustomerReleased', data: { customerId: id, fromOwnerId: 'u-2', reason: 'idle' } };
    const claimed: CustomerEvent = { type: 'CustomerClaimed', data: { customerId: id, ownerId: 'u-3' } };
    const restored: CustomerEvent = { type: 'CustomerRestored', data: { customerId: id } };
    expect(state([registered, owner])).toMatchObject({ status: 'active', ownerId: 'u-2', fields });
    expect(state([registered, owner, released])).toMatchObject({ ownerId: null });
    expect(state([registered, owner, released, claimed])).toMatchObject({ ownerId: 'u-3' });
    expect(state([registered, archived])).toMatchObject({ status: 'archived', ownerId: 'u-1' });
    expect(state([registered, archived, restored])).toMatchObject({ status: 'active', ownerId: 'u-1', fields });
    expect(state([owner, archived, restored])).toEqual({ status: 'none' });
    expect(customerStream(id)).toBe('customer-c-1');
  });

  it('refusals carry the customer id', () => {
    for (const [events, command, code] of [
      [[], { type: 'ChangeCustomer', customerId: id, changes: { industry: 'x' } }, 'customer.not_found'],
      [[registered], { type: 'RegisterCustomer', customerId: id, ownerId: 'u', fields }, 'customer.already_exists'],
      [[registered, archived], { type: 'ChangeCustomer', customerId: id, changes: { industry: 'x' } }, 'customer.archived'],
      [[registered, archived], { type: 'ReleaseCustomer', customerId: id, reason: 'x' }, 'customer.archived'],
      [[registered, archived], { type: 'ClaimCustomer', customerId: id, ownerId: 'u-2' }, 'customer.archived'],
      [[registered], { type: 'ClaimCustomer', customerId: id, ownerId: 'u-2' }, 'customer.already_claimed'],
      [[registered, archived], { type: 'ArchiveCustomer', customerId: id }, 'customer.already_archived'],
      [[registered], { type: 'RestoreCustomer', customerId: id }, 'customer.not_archived'],
      [[registered, { type: 'CustomerReleased', data: { customerId: id, fromOwnerId: 'u-1', reason: 'x' } }], { type: 'ReleaseCustomer', customerId: id, reason: 'x' }, 'customer.already_in_pool'],
    ] as [CustomerEvent[], CustomerCommand, string][]) {
      const error = given(events).when(command).thenThrows(code);
      expect(error.details, code).toEqual({ customerId: id });
      expect(error.message, code).not.toBe('');
    }
    expect(given([registered, archived]).when({ type: 'ChangeCustomer', customerId: id, changes: {} }).thenThrows('customer.archived').message).toContain('changed');
    expect(given([registered, archived]).when({ type: 'ClaimCustomer', customerId: id, ownerId: 'u' }).thenThrows('customer.archived').message).toContain('claimed');
  });
});

describe('domain errors', () => {
  it('codes ending in .not_found or _not_found are "not found"; others are refusals', () => {
    expect(isNotFound(new DomainError('customer.not_found', 'x'))).toBe(true);
    expect(isNotFound(new DomainError('field.reference_not_found', 'x'))).toBe(true);
    expect(isNotFound(new DomainError('customer.not_found_yet', 'x'))).toBe(false);
    expect(isNotFound(new DomainError('customer.duplicate', 'x'))).toBe(false);
    expect(isNotFound(new DomainError('notfound', 'x'))).toBe(false);
    const error = new DomainError('x.y', 'message');
    expect([error.name, error.message, error.details]).toEqual(['DomainError', 'message', {}]);
  });
});

describe('customer member level (会员等级)', () => {
  const set = (level: string | null): CustomerCommand => ({ type: 'SetMemberLevel', customerId: id, level, amount: { amount: 500_000_00, currency: 'CNY' }, basis: 'orders', windowMonths: 12 });
  const changed = (from: string | null, to: string | null): CustomerEvent => ({ type: 'CustomerMemberLevelChanged', data: { customerId: id, memberLevel: { from, to, amount: { amount: 500_000_00, currency: 'CNY' }, basis: 'orders', windowMonths: 12 } } });

  it('a first level is a change from none', () => given([registered]).when(set('gold')).then([changed(null, 'gold')]));
  it('a new level records where it came from', () => given([registered, changed(null, 'silver')]).when(set('gold')).then([changed('silver', 'gold')]));
  it('the same level again is nothing', () => given([registered, changed(null, 'gold')]).when(set('gold')).thenNothing());
  it('falling below every level is a change to none', () => given([registered, changed(null, 'gold')]).when(set(null)).then([changed('gold', null)]));
  it('an archived customer keeps its level', () => given([registered, archived]).when(set('gold')).thenNothing());
  it('an unknown customer is not found', () => given([]).when(set('gold')).thenThrows('customer.not_found'));
  it('counts its level changes (they name the care tasks)', () => {
    const state = fold(customerDecider, [registered, changed(null, 'silver'), changed('silver', 'gold')]);
    expect(state).toMatchObject({ memberLevel: 'gold', memberLevelChanges: 2 });
  });
});
