import { describe, expect, it } from 'vitest';
import { nextFields, nextOccurrence, type TaskEvent, type TaskFields, taskDecider, taskResource } from '../../src/domain/task/index.ts';
import { specFor } from '../support/spec.ts';

const spec = specFor(taskDecider);
const taskId = '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c31';
const me = 'u-me';
const fields: TaskFields = { subject: 'Call back', dueAt: '2026-12-03T02:00:00.000Z', remindAt: '2026-12-03T01:30:00.000Z', priority: 'normal' };
const created: TaskEvent = { type: 'TaskCreated', data: { taskId, ownerId: me, createdBy: me, fields } };
const done: TaskEvent = { type: 'TaskDone', data: { taskId } };
const cancelled: TaskEvent = { type: 'TaskCancelled', data: { taskId } };

describe('task decider', () => {
  it('creates a task once, for its assignee; a later occurrence says which', () => {
    spec.given([]).when({ type: 'CreateTask', taskId, ownerId: me, createdBy: me, fields }).then([created]);
    spec.given([]).when({ type: 'CreateTask', taskId, ownerId: me, createdBy: me, fields, occurrence: 3 }).then([{ type: 'TaskCreated', data: { taskId, ownerId: me, createdBy: me, fields, occurrence: 3 } }]);
    spec.given([created]).when({ type: 'CreateTask', taskId, ownerId: me, createdBy: me, fields }).thenThrows('task.already_exists');
    for (const command of [{ type: 'ChangeTask', taskId, changes: {} }, { type: 'CompleteTask', taskId }, { type: 'RemindTask', taskId, remindAt: fields.remindAt! }] as const)
      spec.given([]).when(command).thenThrows('task.not_found');
  });

  it('changes only what differs; subject, due time and priority stay', () => {
    spec.given([created]).when({ type: 'ChangeTask', taskId, changes: { subject: 'Call back', priority: 'high' } }).then([{ type: 'TaskChanged', data: { taskId, changes: { priority: 'high' } } }]);
    spec.given([created]).when({ type: 'ChangeTask', taskId, changes: { subject: 'Call back' } }).thenNothing();
    for (const field of ['subject', 'dueAt', 'priority']) spec.given([created]).when({ type: 'ChangeTask', taskId, changes: { [field]: null } }).thenThrows('task.field_required');
    spec.given([created]).when({ type: 'ChangeTask', taskId, changes: { remindAt: null } }).then([{ type: 'TaskChanged', data: { taskId, changes: { remindAt: null } } }]);
  });

  it('is done or cancelled once; a closed task takes nothing else', () => {
    spec.given([created]).when({ type: 'CompleteTask', taskId, note: 'Talked' }).then([{ type: 'TaskDone', data: { taskId, note: 'Talked' } }]);
    spec.given([created, done]).when({ type: 'CompleteTask', taskId }).thenNothing();
    spec.given([created]).when({ type: 'CancelTask', taskId, reason: 'Not needed' }).then([{ type: 'TaskCancelled', data: { taskId, reason: 'Not needed' } }]);
    spec.given([created, cancelled]).when({ type: 'CancelTask', taskId }).thenNothing();
    spec.given([created, done]).when({ type: 'CancelTask', taskId }).thenThrows('task.closed');
    spec.given([created, cancelled]).when({ type: 'CompleteTask', taskId }).thenThrows('task.closed');
    spec.given([created, done]).when({ type: 'ChangeTask', taskId, changes: { priority: 'high' } }).thenThrows('task.closed');
    spec.given([created, done]).when({ type: 'SnoozeTask', taskId, until: '2026-12-04T00:00:00.000Z' }).thenThrows('task.closed');
    spec.given([created, done]).when({ type: 'ReassignTask', taskId, ownerId: 'u-other' }).thenThrows('task.closed');
  });

  it('snoozes and reassigns; the same again is nothing', () => {
    spec.given([created]).when({ type: 'SnoozeTask', taskId, until: '2026-12-03T03:00:00.000Z' }).then([{ type: 'TaskSnoozed', data: { taskId, remindAt: '2026-12-03T03:00:00.000Z' } }]);
    spec.given([created]).when({ type: 'SnoozeTask', taskId, until: fields.remindAt! }).thenNothing();
    spec.given([created]).when({ type: 'ReassignTask', taskId, ownerId: 'u-other' }).then([{ type: 'TaskReassigned', data: { taskId, fromOwnerId: me, ownerId: 'u-other' } }]);
    spec.given([created]).when({ type: 'ReassignTask', taskId, ownerId: me }).thenNothing();
  });

  it('a reminder falls due once, only for an open task whose reminder is still at that time', () => {
    const reminded: TaskEvent = { type: 'ReminderDue', data: { taskId, ownerId: me, remindAt: fields.remindAt! } };
    spec.given([created]).when({ type: 'RemindTask', taskId, remindAt: fields.remindAt! }).then([reminded]);
    spec.given([created, reminded]).when({ type: 'RemindTask', taskId, remindAt: fields.remindAt! }).thenNothing();
    spec.given([created, { type: 'TaskSnoozed', data: { taskId, remindAt: '2026-12-03T03:00:00.000Z' } }]).when({ type: 'RemindTask', taskId, remindAt: fields.remindAt! }).thenNothing();
    spec.given([created, done]).when({ type: 'RemindTask', taskId, remindAt: fields.remindAt! }).thenNothing();
    // Snoozed after it fired, it fires again at the new time.
    spec
      .given([created, reminded, { type: 'TaskSnoozed', data: { taskId, remindAt: '2026-12-03T03:00:00.000Z' } }])
      .when({ type: 'RemindTask', taskId, remindAt: '2026-12-03T03:00:00.000Z' })
      .then([{ type: 'ReminderDue', data: { taskId, ownerId: me, remindAt: '2026-12-03T03:00:00.000Z' } }]);
  });

  it('folds its events; the read model shows the assignee and status', () => {
    const events: TaskEvent[] = [created, { type: 'TaskReassigned', data: { taskId, fromOwnerId: me, ownerId: 'u-other' } }, { type: 'TaskChanged', data: { taskId, changes: { remindAt: null } } }, done];
    const state = events.reduce(taskDecider.evolve, taskDecider.initialState);
    const { remindAt: _gone, ...rest } = fields;
    expect(state).toEqual({ status: 'done', taskId, ownerId: 'u-other', createdBy: me, fields: rest, occurrence: 1 });
    expect(taskResource.readModel.view(state as never)).toMatchObject({ assigneeId: 'u-other', ownerId: 'u-other', status: 'done', occurrence: 1 });
    expect(taskDecider.evolve(taskDecider.initialState, done)).toEqual({ status: 'none' });
  });

  it('the next occurrence is a day, a week or a calendar month later (the month clipped to its last day)', () => {
    expect(nextOccurrence('2026-12-03T02:00:00.000Z', 'day')).toBe('2026-12-04T02:00:00.000Z');
    expect(nextOccurrence('2026-12-29T02:00:00.000Z', 'week')).toBe('2027-01-05T02:00:00.000Z');
    expect(nextOccurrence('2027-01-31T02:00:00.000Z', 'month')).toBe('2027-02-28T02:00:00.000Z');
    expect(nextOccurrence('2028-01-31T02:00:00.000Z', 'month')).toBe('2028-02-29T02:00:00.000Z');
    expect(nextOccurrence('2026-12-15T02:00:00.000Z', 'month')).toBe('2027-01-15T02:00:00.000Z');
    expect(nextFields({ ...fields, recurrence: { every: 'week' } })).toEqual({ ...fields, recurrence: { every: 'week' }, dueAt: '2026-12-10T02:00:00.000Z', remindAt: '2026-12-10T01:30:00.000Z' });
  });
});
