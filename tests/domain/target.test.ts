import { describe, expect, it } from 'vitest';
import { budgetIdFor } from '../../src/domain/budget/index.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { TargetFields, targetDecider, targetIdFor, type TargetEvent } from '../../src/domain/target/index.ts';
import { specFor } from '../support/spec.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });

describe('sales target decider', () => {
  const spec = specFor(targetDecider);
  const fields = { employeeId: 'rep', month: '2026-12', metric: 'orderAmount' as const, value: CNY(50_000_000) };
  const targetId = targetIdFor(fields);
  const set: TargetEvent = { type: 'TargetSet', data: { targetId, fields } };

  it('one per employee or department, metric and month: the id follows from them (and differs from a budget’s)', () => {
    expect(targetIdFor({ ...fields })).toBe(targetId);
    expect(targetIdFor({ ...fields, metric: 'collections' })).not.toBe(targetId);
    expect(targetIdFor({ ...fields, month: '2027-01' })).not.toBe(targetId);
    expect(targetIdFor({ departmentId: 'rep', month: '2026-12', metric: 'orderAmount' })).not.toBe(targetId);
    expect(budgetIdFor({ employeeId: 'rep', month: '2026-12', category: 'orderAmount' })).not.toBe(targetId);
    spec.given([]).when({ type: 'SetTarget', targetId, fields }).then([set]);
    expect(spec.given([set]).when({ type: 'SetTarget', targetId, fields }).thenThrows('target.already_exists').details).toEqual({ targetId });
    spec.given([]).when({ type: 'SetTarget', targetId, fields: { month: '2026-12', metric: 'newCustomers', value: 3 } }).thenThrows('target.target_required');
  });

  it('changes its value only, Money for an amount and a count for newCustomers; is removed, and may be set again', () => {
    spec.given([set]).when({ type: 'ChangeTarget', targetId, changes: { value: CNY(60_000_000) } }).then([{ type: 'TargetValueChanged', data: { targetId, value: CNY(60_000_000) } }]);
    spec.given([set]).when({ type: 'ChangeTarget', targetId, changes: { value: CNY(50_000_000), metric: 'orderAmount' } }).thenNothing();
    spec.given([set]).when({ type: 'ChangeTarget', targetId, changes: { metric: 'collections' } }).thenThrows('target.key_fixed');
    spec.given([set]).when({ type: 'ChangeTarget', targetId, changes: { value: 12 } }).thenThrows('target.invalid_value');
    const count: TargetEvent = { type: 'TargetSet', data: { targetId, fields: { employeeId: 'rep', month: '2026-12', metric: 'newCustomers', value: 10 } } };
    spec.given([count]).when({ type: 'ChangeTarget', targetId, changes: { value: 12 } }).then([{ type: 'TargetValueChanged', data: { targetId, value: 12 } }]);
    spec.given([count]).when({ type: 'ChangeTarget', targetId, changes: { value: CNY(1) } }).thenThrows('target.invalid_value');
    const removed: TargetEvent = { type: 'TargetRemoved', data: { targetId } };
    spec.given([set]).when({ type: 'RemoveTarget', targetId }).then([removed]);
    spec.given([set, removed]).when({ type: 'RemoveTarget', targetId }).thenThrows('target.not_found');
    spec.given([set, removed]).when({ type: 'SetTarget', targetId, fields }).then([set]);
    expect(fold(targetDecider, [set, removed])).toEqual({ status: 'removed', targetId, fields });
  });

  it('its fields take Money for amounts and a whole number of zero or more for newCustomers', () => {
    expect(TargetFields.safeParse(fields).success).toBe(true);
    expect(TargetFields.safeParse({ ...fields, value: 5 }).success).toBe(false);
    expect(TargetFields.safeParse({ ...fields, value: CNY(-1) }).success).toBe(false);
    expect(TargetFields.safeParse({ ...fields, metric: 'newCustomers', value: 5 }).success).toBe(true);
    expect(TargetFields.safeParse({ ...fields, metric: 'newCustomers', value: 2.5 }).success).toBe(false);
    expect(TargetFields.safeParse({ ...fields, metric: 'newCustomers', value: CNY(5) }).success).toBe(false);
    expect(TargetFields.safeParse({ ...fields, metric: 'winRate' }).success).toBe(false);
  });
});
