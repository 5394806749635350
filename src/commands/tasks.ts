import { nextFields, type TaskCommand, type TaskFields, type TaskState, taskCategory } from '../domain/task/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { derivedEventId } from '../infra/ids.ts';
import { ownerInScope } from '../access/scope.ts';
import { authorize } from './authorization.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { notify } from './notifications.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';
import { invalidField } from './errors.ts';
import type { TimerSpec } from './timers.ts';
import { systemActor } from './employees.ts';

export const taskRules: RecordRules<TaskCommand, TaskState> = { resource: 'tasks' };
const tasks = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(taskRules, deps, actor, meta);

/** Someone else's task takes `assign`, and the assignee must be in the caller's data scope (404 as if unknown otherwise). */
async function assertAssignable(deps: CommandDeps, actor: Actor, assigneeId: string): Promise<void> {
  if (assigneeId === actor.userId) return;
  authorize(actor, 'tasks', 'assign');
  if (!(await ownerInScope(deps, actor, assigneeId))) throw new DomainError('employee.not_found', `Employee ${assigneeId} does not exist or is outside your data scope`, { errors: [{ path: 'assigneeId', message: 'No employee with this id in your data scope' }] });
}

const assertReminderBeforeDue = (fields: { dueAt?: unknown; remindAt?: unknown }) => {
  if (typeof fields.remindAt === 'string' && typeof fields.dueAt === 'string' && fields.remindAt > fields.dueAt) throw invalidField('remindAt', 'The reminder comes at or before the due time', fields.remindAt);
};

/** Creates a task for oneself, or (with `assign`) for someone in one's scope. */
export async function createTask(deps: CommandDeps, input: TaskFields & { assigneeId?: string }, actor: Actor, meta: RequestMeta, id?: string) {
  const { assigneeId = actor.userId, ...fields } = input;
  await assertAssignable(deps, actor, assigneeId);
  assertReminderBeforeDue(fields);
  return tasks(deps, actor, meta).create(fields, (taskId, all) => ({ type: 'CreateTask', taskId, ownerId: assigneeId, createdBy: actor.userId, fields: all as TaskFields }), id);
}

export async function changeTask(deps: CommandDeps, taskId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) {
  const handler = tasks(deps, actor, meta);
  const { state } = await handler.load(taskId);
  if (state.status !== 'none') assertReminderBeforeDue({ ...state.fields, ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== null)) });
  return handler.change(taskId, changes, (plain) => ({ type: 'ChangeTask', taskId, changes: plain }));
}

export async function reassignTask(deps: CommandDeps, taskId: string, assigneeId: string, actor: Actor, meta: RequestMeta) {
  await assertAssignable(deps, actor, assigneeId);
  return tasks(deps, actor, meta).run(taskId, { type: 'ReassignTask', taskId, ownerId: assigneeId });
}

export const snoozeTask = (deps: CommandDeps, taskId: string, until: string, actor: Actor, meta: RequestMeta) => {
  if (new Date(until).getTime() <= deps.clock.now().getTime()) throw invalidField('until', 'Snooze until a time still to come', until);
  return tasks(deps, actor, meta).run(taskId, { type: 'SnoozeTask', taskId, until });
};

export const cancelTask = (deps: CommandDeps, taskId: string, reason: string | undefined, actor: Actor, meta: RequestMeta) => tasks(deps, actor, meta).run(taskId, { type: 'CancelTask', taskId, ...(reason ? { reason } : {}) });

/**
 * Marks a task done; a recurring one's next occurrence is made at once (one open at a time), with an id derived
 * from this one's, so a retry makes it once.
 */
export async function completeTask(deps: CommandDeps, taskId: string, note: string | undefined, actor: Actor, meta: RequestMeta) {
  const handler = tasks(deps, actor, meta);
  const result = await handler.run(taskId, { type: 'CompleteTask', taskId, ...(note ? { note } : {}) });
  const state = result.state;
  if (state.status === 'done' && state.fields.recurrence) {
    const nextId = derivedEventId(`${taskId}:next`, `${taskCategory}-${taskId}`, 0);
    await createTaskOnce(deps, actor, { ...meta, requestId: `${meta.requestId}:next` }, { type: 'CreateTask', taskId: nextId, ownerId: state.ownerId, createdBy: state.createdBy, fields: nextFields(state.fields), occurrence: state.occurrence + 1 });
    return { ...result, nextTaskId: nextId };
  }
  return result;
}

/** The task an activity's next step becomes: the activity owner's, with an id derived from the activity's (made once). */
export async function taskForNextStep(deps: CommandDeps, activity: { activityId: string; ownerId: string; customerId: string; contactId?: string; opportunityId?: string; nextStep: { subject: string; dueAt: string } }, meta: RequestMeta): Promise<{ taskId: string; position: bigint }> {
  const taskId = derivedEventId(`${activity.activityId}:next-step`, `activity-${activity.activityId}`, 0);
  const fields: TaskFields = {
    subject: activity.nextStep.subject,
    dueAt: activity.nextStep.dueAt,
    priority: 'normal',
    customerId: activity.customerId,
    ...(activity.contactId ? { contactId: activity.contactId } : {}),
    ...(activity.opportunityId ? { opportunityId: activity.opportunityId } : {}),
    activityId: activity.activityId,
  };
  const position = await createTaskOnce(deps, { ...systemActor, userId: activity.ownerId }, { ...meta, requestId: `${meta.requestId}:next-step` }, { type: 'CreateTask', taskId, ownerId: activity.ownerId, createdBy: activity.ownerId, fields });
  return { taskId, position };
}

/** Creates a task whose id is derived (a next occurrence, a next step): made once, however often asked; 0n when it was there. */
export async function createTaskOnce(deps: CommandDeps, actor: Actor, meta: RequestMeta, command: Extract<TaskCommand, { type: 'CreateTask' }>): Promise<bigint> {
  try {
    return (await tasks(deps, actor, meta).run(command.taskId, command)).position;
  } catch (error) {
    if (!(error instanceof DomainError && error.code === 'task.already_exists')) throw error;
    return 0n;
  }
}

/**
 * The reminder of each open task, at its `remindAt`: created, changed, snoozed or reassigned, it is scheduled (or
 * moved) to the task's reminder time; done, cancelled or reminded, it is cancelled. Firing re-checks the task
 * (RemindTask: only an open task whose reminder is still at that time), then notifies its assignee.
 */
export const taskReminders: TimerSpec = {
  name: 'task-reminder',
  categories: [taskCategory],
  plan(event: RecordedEvent) {
    const data = event.data as { taskId: string; fields?: { remindAt?: string }; changes?: Record<string, unknown>; remindAt?: string };
    switch (event.type) {
      case 'TaskCreated':
        return data.fields?.remindAt ? { schedule: [{ key: data.taskId, dueAt: data.fields.remindAt }] } : undefined;
      case 'TaskChanged':
        if (!data.changes || !('remindAt' in data.changes)) return undefined;
        return typeof data.changes.remindAt === 'string' ? { schedule: [{ key: data.taskId, dueAt: data.changes.remindAt }] } : { cancel: [data.taskId] };
      case 'TaskSnoozed':
        return { schedule: [{ key: data.taskId, dueAt: data.remindAt! }] };
      case 'ReminderDue':
      case 'TaskDone':
      case 'TaskCancelled':
        return { cancel: [data.taskId] };
      default:
        return undefined;
    }
  },
  async fire(deps, item, meta) {
    const handler = tasks(deps, systemActor, meta);
    const result = await handler.run(item.key, { type: 'RemindTask', taskId: item.key, remindAt: item.dueAt });
    const state = result.state;
    // Reminded now (or by an earlier attempt of this very firing): the assignee hears of it once.
    if (state.status !== 'open' || state.remindedAt !== item.dueAt) return;
    await notify(
      deps,
      {
        recipientId: state.ownerId,
        kind: 'task.reminder',
        title: { 'zh-CN': `任务提醒：${state.fields.subject}`, en: `Reminder: ${state.fields.subject}` },
        body: { 'zh-CN': `截止时间 ${state.fields.dueAt}`, en: `Due ${state.fields.dueAt}` },
        subject: { resource: 'tasks', id: state.taskId },
      },
      systemActor,
      meta,
    );
  },
};
