import { ACTIVITIES_ERA_KEY, type ActivityCommand, type ActivityFields, type ActivityState, builtInKindLabels } from '../domain/activity/index.ts';
import { kindsAsData } from './kinds.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';
import { invalidField } from './errors.ts';
import { taskForNextStep } from './tasks.ts';
import { readSetting, writeSetting } from './settings.ts';

/** Activity kinds: the built-in ones and those an administrator adds (`/api/v1/settings/activity-kinds`). */
export const activityKinds = kindsAsData({ settingKey: 'activity-kinds', list: 'kinds', builtIn: builtInKindLabels, what: 'activity kind', schemaId: 'ActivityKindSettings' });

/** How far ahead of the server's clock an activity may say it took place (clocks differ a little). */
const CLOCK_SKEW_MS = 10 * 60_000;

/** The kind must be offered (a retired one stays on the activities that have it, and may be kept by a change); the time must not be in the future. */
async function assertLoggable(deps: CommandDeps, fields: { kind?: unknown; occurredAt?: unknown }, keptKind?: string): Promise<void> {
  await activityKinds.assertOffered(deps, 'kind', fields.kind, keptKind);
  if (typeof fields.occurredAt === 'string' && new Date(fields.occurredAt).getTime() > deps.clock.now().getTime() + CLOCK_SKEW_MS)
    throw invalidField('occurredAt', 'An activity cannot have taken place in the future', fields.occurredAt);
}

export const activityRules: RecordRules<ActivityCommand, ActivityState> = { resource: 'activities' };

const activities = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(activityRules, deps, actor, meta);

/** Logs an activity as the caller's own (the salesperson who made the call is its owner). */
export async function logActivity(deps: CommandDeps, fields: ActivityFields, actor: Actor, meta: RequestMeta, id?: string) {
  await assertLoggable(deps, fields);
  const result = await activities(deps, actor, meta).create(fields, (activityId, all) => ({ type: 'LogActivity', activityId, ownerId: actor.userId, fields: all as ActivityFields }), id);
  // The next step becomes the owner's task (made once: its id is the activity's, so a retried request finds it).
  if (!fields.nextStep) return result;
  const task = await taskForNextStep(deps, { activityId: result.id, ownerId: actor.userId, customerId: fields.customerId, ...(fields.contactId ? { contactId: fields.contactId } : {}), ...(fields.opportunityId ? { opportunityId: fields.opportunityId } : {}), nextStep: fields.nextStep }, meta);
  return { ...result, taskId: task.taskId, position: task.position > result.position ? task.position : result.position };
}

export async function changeActivity(deps: CommandDeps, activityId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) {
  const handler = activities(deps, actor, meta);
  const { state } = await handler.load(activityId);
  await assertLoggable(deps, changes, state.status === 'none' ? undefined : state.fields.kind);
  return handler.change(activityId, changes, (plain) => ({ type: 'ChangeActivity', activityId, changes: plain }));
}

export const removeActivity = (deps: CommandDeps, activityId: string, actor: Actor, meta: RequestMeta) => activities(deps, actor, meta).run(activityId, { type: 'RemoveActivity', activityId });

/**
 * Written once, on the first start of a version with activities (see ACTIVITIES_ERA_KEY): from here on, only
 * activities are follow-ups. Answers whether it was written now.
 */
export async function startActivitiesEra(deps: CommandDeps, actor: Actor, meta: RequestMeta): Promise<boolean> {
  if ((await readSetting(deps, ACTIVITIES_ERA_KEY)).value !== undefined) return false;
  await writeSetting(deps, ACTIVITIES_ERA_KEY, { since: deps.clock.now().toISOString() }, actor, meta);
  return true;
}
