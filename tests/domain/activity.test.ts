import { describe, expect, it } from 'vitest';
import { type ActivityEvent, type ActivityFields, activityDecider, activityResource } from '../../src/domain/activity/index.ts';
import { specFor } from '../support/spec.ts';

const spec = specFor(activityDecider);
const activityId = '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c21';
const ownerId = '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c01';
const call: ActivityFields = { kind: 'call', customerId: 'c-1', occurredAt: '2026-11-30T02:00:00.000Z', summary: 'Discussed Q1 volumes', nextStep: { subject: 'Send the quote', dueAt: '2026-12-02T01:00:00.000Z' } };
const logged: ActivityEvent = { type: 'ActivityLogged', data: { activityId, ownerId, fields: call } };
const removed: ActivityEvent = { type: 'ActivityRemoved', data: { activityId } };
const checkIn = { place: '客户工厂 苏州', lat: 31.3, lng: 120.6 };

describe('activity decider', () => {
  it('logs an activity once, with its owner', () => {
    spec.given([]).when({ type: 'LogActivity', activityId, ownerId, fields: call }).then([logged]);
    spec.given([logged]).when({ type: 'LogActivity', activityId, ownerId, fields: call }).thenThrows('activity.already_exists');
  });

  it('a check-in belongs to a visit, when logged and when changed', () => {
    spec.given([]).when({ type: 'LogActivity', activityId, ownerId, fields: { ...call, checkIn } }).thenThrows('activity.check_in_visit_only');
    const visit = { ...call, kind: 'visit', checkIn };
    spec.given([]).when({ type: 'LogActivity', activityId, ownerId, fields: visit }).then([{ type: 'ActivityLogged', data: { activityId, ownerId, fields: visit } }]);
    const visited: ActivityEvent = { type: 'ActivityLogged', data: { activityId, ownerId, fields: visit } };
    spec.given([visited]).when({ type: 'ChangeActivity', activityId, changes: { kind: 'call' } }).thenThrows('activity.check_in_visit_only');
    spec.given([visited]).when({ type: 'ChangeActivity', activityId, changes: { kind: 'call', checkIn: null } }).then([{ type: 'ActivityChanged', data: { activityId, changes: { kind: 'call', checkIn: null } } }]);
    spec.given([logged]).when({ type: 'ChangeActivity', activityId, changes: { checkIn } }).thenThrows('activity.check_in_visit_only');
  });

  it('changes only what differs; required fields stay; it stays with its customer', () => {
    spec.given([logged]).when({ type: 'ChangeActivity', activityId, changes: { outcome: 'Quote next week', summary: call.summary } }).then([{ type: 'ActivityChanged', data: { activityId, changes: { outcome: 'Quote next week' } } }]);
    spec.given([logged]).when({ type: 'ChangeActivity', activityId, changes: { summary: call.summary } }).thenNothing();
    for (const field of ['kind', 'customerId', 'occurredAt', 'summary']) spec.given([logged]).when({ type: 'ChangeActivity', activityId, changes: { [field]: null } }).thenThrows('activity.field_required');
    spec.given([logged]).when({ type: 'ChangeActivity', activityId, changes: { customerId: 'c-2' } }).thenThrows('activity.customer_fixed');
    spec.given([logged]).when({ type: 'ChangeActivity', activityId, changes: { customerId: 'c-1', outcome: 'x' } }).then([{ type: 'ActivityChanged', data: { activityId, changes: { outcome: 'x' } } }]);
    spec.given([]).when({ type: 'ChangeActivity', activityId, changes: { outcome: 'x' } }).thenThrows('activity.not_found');
  });

  it('removes once; a removed activity cannot be changed', () => {
    spec.given([logged]).when({ type: 'RemoveActivity', activityId }).then([removed]);
    spec.given([logged, removed]).when({ type: 'RemoveActivity', activityId }).thenNothing();
    spec.given([logged, removed]).when({ type: 'ChangeActivity', activityId, changes: { outcome: 'x' } }).thenThrows('activity.not_found');
    spec.given([]).when({ type: 'RemoveActivity', activityId }).thenThrows('activity.not_found');
  });

  it('folds changes and removal; the read model leaves a removed activity out', () => {
    const events: ActivityEvent[] = [logged, { type: 'ActivityChanged', data: { activityId, changes: { outcome: 'Agreed', nextStep: null } } }];
    const state = events.reduce(activityDecider.evolve, activityDecider.initialState);
    const { nextStep: _dropped, ...rest } = call;
    expect(state).toEqual({ status: 'active', activityId, ownerId, fields: { ...rest, outcome: 'Agreed' } });
    const gone = activityDecider.evolve(state, removed);
    expect(gone.status).toBe('removed');
    expect(activityResource.readModel.gone(gone as never)).toBe(true);
    expect(activityResource.readModel.gone(state as never)).toBe(false);
    expect(activityResource.readModel.view(state as never)).toEqual({ ...rest, outcome: 'Agreed', ownerId });
    expect(activityDecider.evolve(activityDecider.initialState, removed)).toEqual({ status: 'none' });
  });
});
