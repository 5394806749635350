import { describe, expect, it } from 'vitest';
import { type PlanEvent, planDate, planDecider, planResource } from '../../src/domain/plan/index.ts';
import { specFor } from '../support/spec.ts';

const spec = specFor(planDecider);
const planId = 'p-1';
const items = [
  { id: 'i-1', text: '拜访客户', status: 'planned' as const },
  { id: 'i-2', text: '整理报价', status: 'planned' as const },
];
const created: PlanEvent = { type: 'PlanCreated', data: { planId, ownerId: 'u-1', period: 'day', date: '2026-12-01', items } };
const comment = { commentId: 'c-1', authorId: 'u-boss', text: '先跟进苏州那家', at: '2026-12-01T01:00:00.000Z' };

describe('plan decider', () => {
  it('one plan per person, period and day; items once each', () => {
    spec.given([]).when({ type: 'CreatePlan', planId, ownerId: 'u-1', period: 'day', date: '2026-12-01', items }).then([created]);
    spec.given([created]).when({ type: 'CreatePlan', planId, ownerId: 'u-1', period: 'day', date: '2026-12-01', items }).thenThrows('plan.duplicate');
    spec.given([]).when({ type: 'CreatePlan', planId, ownerId: 'u-1', period: 'day', date: '2026-12-01', items: [items[0]!, items[0]!] }).thenThrows('plan.item_repeated');
  });

  it('items change as a whole; the same again is nothing; comments are added', () => {
    const next = [{ ...items[0]!, status: 'done' as const }, { ...items[1]!, status: 'dropped' as const, note: '客户改期' }];
    spec.given([created]).when({ type: 'ChangePlanItems', planId, items: next }).then([{ type: 'PlanItemsChanged', data: { planId, items: next } }]);
    spec.given([created]).when({ type: 'ChangePlanItems', planId, items }).thenNothing();
    spec.given([created]).when({ type: 'ChangePlanItems', planId, items: [items[1]!, items[1]!] }).thenThrows('plan.item_repeated');
    spec.given([created]).when({ type: 'CommentOnPlan', planId, comment }).then([{ type: 'PlanCommented', data: { planId, comment } }]);
    spec.given([]).when({ type: 'CommentOnPlan', planId, comment }).thenThrows('plan.not_found');
    spec.given([]).when({ type: 'ChangePlanItems', planId, items }).thenThrows('plan.not_found');
  });

  it('folds items and comments; the read model counts items by status', () => {
    const state = [created, { type: 'PlanItemsChanged', data: { planId, items: [{ ...items[0]!, status: 'done' }, items[1]!] } } as PlanEvent, { type: 'PlanCommented', data: { planId, comment } } as PlanEvent].reduce(planDecider.evolve, planDecider.initialState);
    expect(state).toMatchObject({ status: 'active', ownerId: 'u-1', comments: [comment] });
    expect(planResource.readModel.view(state as never)).toMatchObject({ counts: { planned: 1, done: 1, dropped: 0 }, period: 'day', date: '2026-12-01' });
    expect(planDecider.evolve(planDecider.initialState, { type: 'PlanCommented', data: { planId, comment } })).toEqual({ status: 'none' });
  });

  it('a week plan is kept under its Monday', () => {
    expect(planDate('week', '2026-12-03')).toBe('2026-11-30');
    expect(planDate('week', '2026-12-06')).toBe('2026-11-30');
    expect(planDate('week', '2026-11-30')).toBe('2026-11-30');
    expect(planDate('day', '2026-12-03')).toBe('2026-12-03');
  });
});
