import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { CustomValues } from '../customization/values.ts';
import type { ResourceSpec } from '../customization/resources.ts';
import { DomainError } from '../shared/errors.ts';
import { moveByChange, revertible } from '../shared/revert.ts';
import { ChangeSet, diffFields, Instant, withChanges } from '../shared/normalize.ts';

export const Recurrence = z.object({ every: z.enum(['day', 'week', 'month']) }).strict().describe('A recurring task: when one occurrence is done, the next is made (one at a time)');
export type Recurrence = z.infer<typeof Recurrence>;

/** A task (任务): something to do by a time, with a reminder, for oneself or given by a manager. */
export const TaskFields = z.object({
  subject: z.string().trim().min(1).max(200),
  dueAt: Instant,
  remindAt: Instant.optional().describe('When to remind the assignee (a notification, live over SSE)'),
  priority: z.enum(['low', 'normal', 'high']).default('normal'),
  notes: z.string().trim().min(1).max(4000).optional(),
  customerId: z.string().min(1).max(100).optional(),
  contactId: z.string().min(1).max(100).optional(),
  opportunityId: z.string().min(1).max(100).optional(),
  recurrence: Recurrence.optional(),
  /** The activity whose next step this is. */
  activityId: z.string().min(1).max(100).optional(),
  custom: CustomValues.optional(),
});
export type TaskFields = z.infer<typeof TaskFields>;

export const TaskCreated = z.object({ taskId: z.string(), ownerId: z.string(), createdBy: z.string(), fields: TaskFields, occurrence: z.number().int().min(1).optional() });
export const TaskChanged = z.object({ taskId: z.string(), changes: ChangeSet });
export const TaskReassigned = z.object({ taskId: z.string(), fromOwnerId: z.string(), ownerId: z.string() });
export const TaskSnoozed = z.object({ taskId: z.string(), remindAt: z.string() });
export const ReminderDue = z.object({ taskId: z.string(), ownerId: z.string(), remindAt: z.string() });
export const TaskDone = z.object({ taskId: z.string(), note: z.string().optional() });
export const TaskCancelled = z.object({ taskId: z.string(), reason: z.string().optional() });

export const taskEventSchemas = { TaskCreated, TaskChanged, TaskReassigned, TaskSnoozed, ReminderDue, TaskDone, TaskCancelled };
export type TaskEvent = EventsOf<typeof taskEventSchemas>;
export type TaskStatus = 'open' | 'done' | 'cancelled';
export type TaskState =
  | { status: 'none' }
  | { status: TaskStatus; taskId: string; ownerId: string; createdBy: string; fields: TaskFields; occurrence: number; remindedAt?: string };
export type TaskCommand =
  | { type: 'CreateTask'; taskId: string; ownerId: string; createdBy: string; fields: TaskFields; occurrence?: number }
  | { type: 'ChangeTask'; taskId: string; changes: Record<string, unknown> }
  | { type: 'ReassignTask'; taskId: string; ownerId: string }
  | { type: 'SnoozeTask'; taskId: string; until: string }
  | { type: 'RemindTask'; taskId: string; remindAt: string }
  | { type: 'CompleteTask'; taskId: string; note?: string }
  | { type: 'CancelTask'; taskId: string; reason?: string };

export const initialState: TaskState = { status: 'none' };

export function evolve(state: TaskState, event: TaskEvent): TaskState {
  if (event.type === 'TaskCreated') return { status: 'open', taskId: event.data.taskId, ownerId: event.data.ownerId, createdBy: event.data.createdBy, fields: event.data.fields, occurrence: event.data.occurrence ?? 1 };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'TaskChanged':
      return withChanges(state, event.data.changes);
    case 'TaskReassigned':
      return { ...state, ownerId: event.data.ownerId };
    case 'TaskSnoozed':
      return { ...state, fields: { ...state.fields, remindAt: event.data.remindAt } };
    case 'ReminderDue':
      return { ...state, remindedAt: event.data.remindAt };
    case 'TaskDone':
      return { ...state, status: 'done' };
    case 'TaskCancelled':
      return { ...state, status: 'cancelled' };
  }
}

const REQUIRED = ['subject', 'dueAt', 'priority'] as const;

export function decide(command: TaskCommand, state: TaskState): TaskEvent[] {
  const { taskId } = command;
  if (command.type === 'CreateTask') {
    if (state.status !== 'none') throw new DomainError('task.already_exists', `Task ${taskId} already exists`, { taskId });
    return [{ type: 'TaskCreated', data: { taskId, ownerId: command.ownerId, createdBy: command.createdBy, fields: command.fields, ...(command.occurrence && command.occurrence > 1 ? { occurrence: command.occurrence } : {}) } }];
  }
  if (state.status === 'none') throw new DomainError('task.not_found', `Task ${taskId} does not exist`, { taskId });
  // A reminder falls due only for an open task whose reminder is still at that time (a moved one is not stale-fired).
  if (command.type === 'RemindTask')
    return state.status === 'open' && state.fields.remindAt === command.remindAt && state.remindedAt !== command.remindAt ? [{ type: 'ReminderDue', data: { taskId, ownerId: state.ownerId, remindAt: command.remindAt } }] : [];
  if (state.status !== 'open') {
    if ((command.type === 'CompleteTask' && state.status === 'done') || (command.type === 'CancelTask' && state.status === 'cancelled')) return [];
    throw new DomainError('task.closed', `Task ${taskId} is ${state.status}`, { taskId, taskStatus: state.status });
  }
  switch (command.type) {
    case 'ChangeTask': {
      for (const field of REQUIRED) if (command.changes[field] === null) throw new DomainError('task.field_required', `${field} cannot be cleared`, { field });
      const changes = diffFields(state.fields, command.changes);
      return Object.keys(changes).length ? [{ type: 'TaskChanged', data: { taskId, changes } }] : [];
    }
    case 'ReassignTask':
      return command.ownerId === state.ownerId ? [] : [{ type: 'TaskReassigned', data: { taskId, fromOwnerId: state.ownerId, ownerId: command.ownerId } }];
    case 'SnoozeTask':
      return state.fields.remindAt === command.until ? [] : [{ type: 'TaskSnoozed', data: { taskId, remindAt: command.until } }];
    case 'CompleteTask':
      return [{ type: 'TaskDone', data: { taskId, ...(command.note ? { note: command.note } : {}) } }];
    case 'CancelTask':
      return [{ type: 'TaskCancelled', data: { taskId, ...(command.reason ? { reason: command.reason } : {}) } }];
  }
}

export const taskDecider = { initialState, evolve, decide };
export const taskCategory = 'task';

/** The next occurrence of a recurring task's times: a day, a week or a calendar month later (UTC). */
export function nextOccurrence(iso: string, every: Recurrence['every']): string {
  const date = new Date(iso);
  if (every === 'day') date.setUTCDate(date.getUTCDate() + 1);
  else if (every === 'week') date.setUTCDate(date.getUTCDate() + 7);
  else {
    // The same day of the next month, or its last day when it has fewer (31 Jan → 28/29 Feb).
    const day = date.getUTCDate();
    date.setUTCDate(1);
    date.setUTCMonth(date.getUTCMonth() + 1);
    const last = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
    date.setUTCDate(Math.min(day, last));
  }
  return date.toISOString();
}

/** The fields of the occurrence after `fields` (due and reminder moved by one period). */
export function nextFields(fields: TaskFields): TaskFields {
  const every = fields.recurrence!.every;
  return { ...fields, dueAt: nextOccurrence(fields.dueAt, every), ...(fields.remindAt ? { remindAt: nextOccurrence(fields.remindAt, every) } : {}) };
}

const optional = (schema: z.ZodType) => schema.optional();
const id = () => optional(z.string().max(100));

/** Tasks as a record type: its registry entry (listed in `resources.ts`). The owner is the assignee. */
export const taskResource = {
  name: 'tasks',
  singular: 'task',
  tag: 'Tasks 任务',
  module: 'tasks',
  category: taskCategory,
  decider: taskDecider,
  scope: { by: 'owner' },
  referenceField: 'taskId',
  personalFields: ['notes'],
  customerReference: 'customerId',
  standardFields: ['subject', 'dueAt', 'remindAt', 'priority', 'notes', 'customerId', 'contactId', 'opportunityId', 'recurrence', 'activityId', 'ownerId', 'status', 'createdAt', 'updatedAt'],
  relatedPanels: [],
  list: {
    filters: {
      q: optional(z.string().trim().min(1).max(200)),
      status: optional(z.enum(['open', 'done', 'cancelled'])),
      priority: optional(z.enum(['low', 'normal', 'high'])),
      ownerId: id(),
      customerId: id(),
      contactId: id(),
      opportunityId: id(),
    },
    sorts: ['dueAt', 'createdAt', 'updatedAt'],
    defaultSort: 'dueAt',
  },
  search: ['subject', 'notes'],
  attachments: false,
  references: { customerId: 'customers', contactId: 'contacts', opportunityId: 'opportunities' },
  events: taskEventSchemas,
  ...revertible(taskDecider, 'taskId', { moves: { customerId: moveByChange('TaskChanged', 'taskId'), contactId: moveByChange('TaskChanged', 'taskId', 'contactId') } }),
  readModel: {
    version: 1,
    view: (state: Exclude<TaskState, { status: 'none' }>) => ({ ...state.fields, ownerId: state.ownerId, assigneeId: state.ownerId, createdBy: state.createdBy, status: state.status, occurrence: state.occurrence, ...(state.remindedAt ? { remindedAt: state.remindedAt } : {}) }),
  },
} as const satisfies ResourceSpec;
