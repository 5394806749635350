import { z } from 'zod';
import { cancelTask, changeTask, completeTask, createTask, reassignTask, snoozeTask } from '../../commands/tasks.ts';
import { TaskFields, type TaskState } from '../../domain/task/index.ts';
import { Instant } from '../../domain/shared/normalize.ts';
import { fieldColumns } from '../csv.ts';
import { recordAction, recordRoutes } from '../records.ts';
import { type AnyRoute, Id } from '../route.ts';

const TaskInput = TaskFields.omit({ activityId: true }).extend({ assigneeId: Id.optional().describe('Default: you; someone else in your data scope takes the `assign` permission') });
const TaskView = TaskFields.extend({
  id: z.string(),
  revision: z.number().int(),
  ownerId: z.string(),
  assigneeId: z.string(),
  createdBy: z.string(),
  status: z.enum(['open', 'done', 'cancelled']),
  occurrence: z.number().int().describe('Which occurrence of a recurring task (1 for the first)'),
  remindedAt: z.string().optional().describe('When its reminder last fired'),
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: 'Task' });

/** Tasks and reminders (任务): for oneself or given by a manager; a reminder notifies the assignee at `remindAt`. */
export const taskRoutes: AnyRoute[] = recordRoutes<TaskState>({
  resource: 'tasks',
  view: TaskView,
  pageSchemaId: 'TaskPage',
  columns: fieldColumns('id', 'subject', 'dueAt', 'remindAt', 'priority', 'status', 'customerId', 'ownerId', 'createdBy', 'createdAt', 'updatedAt'),
  asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, ownerId: state.ownerId, assigneeId: state.ownerId, createdBy: state.createdBy, status: state.status, occurrence: state.occurrence }),
  create: {
    summary: 'Create a task for yourself, or (with assign) for someone in your scope',
    description: 'remindAt (at or before dueAt) sends the assignee a notification then; recurrence { every: day|week|month } makes the next occurrence when one is done.',
    body: TaskInput.strict().meta({ id: 'TaskInput', examples: [{ subject: '回访王经理', dueAt: '2026-12-03T02:00:00Z', remindAt: '2026-12-03T01:30:00Z', priority: 'high', customerId: '0193…' }] }),
    run: ({ body, actor, services, meta }) => createTask(services.deps, body as never, actor, meta),
  },
  patch: { summary: 'Change a task (moving remindAt moves its reminder)', fields: TaskFields.omit({ activityId: true }), schemaId: 'TaskPatch', run: ({ params, body, actor, services, meta }) => changeTask(services.deps, params.id, body, actor, meta) },
  actions: [
    recordAction({
      action: 'done',
      summary: 'Mark a task done (a recurring one makes its next occurrence: answered as nextTaskId)',
      body: z.object({ note: z.string().trim().min(1).max(2000).optional() }).strict(),
      bodyNamesFields: false,
      answer: { nextTaskId: z.string().optional() },
      done: 'Done',
      run: ({ params, body, actor, services, meta }) => completeTask(services.deps, params.id, body.note, actor, meta),
    }),
    recordAction({
      action: 'cancel',
      summary: 'Cancel a task (a recurring one makes no further occurrence)',
      body: z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict(),
      bodyNamesFields: false,
      done: 'Cancelled',
      run: ({ params, body, actor, services, meta }) => cancelTask(services.deps, params.id, body.reason, actor, meta),
    }),
    recordAction({
      action: 'snooze',
      summary: 'Remind me again later: the reminder moves to `until`',
      body: z.object({ until: Instant }).strict(),
      bodyNamesFields: false,
      writes: ['remindAt'],
      done: 'Snoozed',
      run: ({ params, body, actor, services, meta }) => snoozeTask(services.deps, params.id, body.until, actor, meta),
    }),
    recordAction({
      action: 'assign',
      summary: 'Give the task to someone else in your scope (its reminder goes to them)',
      body: z.object({ assigneeId: Id }).strict(),
      bodyNamesFields: false,
      permission: 'assign',
      writes: ['ownerId'],
      done: 'Reassigned',
      run: ({ params, body, actor, services, meta }) => reassignTask(services.deps, params.id, body.assigneeId, actor, meta),
    }),
  ],
});
