import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { CustomValues } from '../customization/values.ts';
import type { ResourceSpec } from '../customization/resources.ts';
import { DomainError } from '../shared/errors.ts';
import { moveByChange, revertible } from '../shared/revert.ts';
import { ChangeSet, diffFields, Instant, withChanges } from '../shared/normalize.ts';

/** The kinds every company has; an administrator adds others as data (`/api/v1/settings/activity-kinds`). */
export const BUILT_IN_KINDS = ['call', 'visit', 'meeting', 'email', 'note'] as const;
export const builtInKindLabels: Record<(typeof BUILT_IN_KINDS)[number], { 'zh-CN': string; en: string }> = {
  call: { 'zh-CN': '电话', en: 'Call' },
  visit: { 'zh-CN': '拜访', en: 'Visit' },
  meeting: { 'zh-CN': '会议', en: 'Meeting' },
  email: { 'zh-CN': '邮件', en: 'Email' },
  note: { 'zh-CN': '备注', en: 'Note' },
};

export const ActivityKindKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/, 'a kind is a key of lower-case letters, digits and _')
  .describe('call, visit, meeting, email, note, or a kind an administrator added');

/** Where a visit took place: the place as text and its coordinates (WGS 84). */
export const CheckIn = z.object({ place: z.string().trim().min(1).max(200), lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }).strict();
/** What comes next, and when: it becomes a task of the activity's owner. */
export const NextStep = z.object({ subject: z.string().trim().min(1).max(200), dueAt: Instant }).strict();

/** A follow-up (跟进记录): a call, a visit, a meeting… with a customer, logged by the salesperson who made it. */
export const ActivityFields = z.object({
  kind: ActivityKindKey,
  customerId: z.string().min(1).max(100),
  contactId: z.string().min(1).max(100).optional(),
  opportunityId: z.string().min(1).max(100).optional(),
  quoteId: z.string().min(1).max(100).optional(),
  orderId: z.string().min(1).max(100).optional(),
  occurredAt: Instant.describe('When it took place (ISO 8601)'),
  durationMinutes: z.number().int().min(0).max(24 * 60).optional(),
  summary: z.string().trim().min(1).max(4000).describe('What was said or done'),
  outcome: z.string().trim().min(1).max(2000).optional(),
  commitments: z.array(z.string().trim().min(1).max(500)).max(20).optional().describe('What was promised to the customer'),
  checkIn: CheckIn.optional().describe('A visit only: where it took place'),
  nextStep: NextStep.optional(),
  custom: CustomValues.optional(),
});
export type ActivityFields = z.infer<typeof ActivityFields>;

export const ActivityLogged = z.object({ activityId: z.string(), ownerId: z.string(), fields: ActivityFields });
export const ActivityChanged = z.object({ activityId: z.string(), changes: ChangeSet });
export const ActivityRemoved = z.object({ activityId: z.string() });

/** Its events' schemas, by type (checked on every append). */
export const activityEventSchemas = { ActivityLogged, ActivityChanged, ActivityRemoved };
export type ActivityEvent = EventsOf<typeof activityEventSchemas>;
export type ActivityState = { status: 'none' } | { status: 'active' | 'removed'; activityId: string; ownerId: string; fields: ActivityFields };
export type ActivityCommand =
  | { type: 'LogActivity'; activityId: string; ownerId: string; fields: ActivityFields }
  | { type: 'ChangeActivity'; activityId: string; changes: Record<string, unknown> }
  | { type: 'RemoveActivity'; activityId: string };

export const initialState: ActivityState = { status: 'none' };

/** The fields an activity cannot lose. */
const REQUIRED = ['kind', 'customerId', 'occurredAt', 'summary'] as const;

/** A check-in belongs to a visit. */
function assertCheckIn(fields: { kind?: unknown; checkIn?: unknown }): void {
  if (fields.checkIn !== undefined && fields.checkIn !== null && fields.kind !== 'visit')
    throw new DomainError('activity.check_in_visit_only', 'Only a visit has a check-in', { field: 'checkIn' });
}

export function evolve(state: ActivityState, event: ActivityEvent): ActivityState {
  if (event.type === 'ActivityLogged') return { status: 'active', activityId: event.data.activityId, ownerId: event.data.ownerId, fields: event.data.fields };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'ActivityChanged':
      return withChanges(state, event.data.changes);
    case 'ActivityRemoved':
      return { ...state, status: 'removed' };
  }
}

export function decide(command: ActivityCommand, state: ActivityState): ActivityEvent[] {
  const { activityId } = command;
  if (command.type === 'LogActivity') {
    if (state.status !== 'none') throw new DomainError('activity.already_exists', `Activity ${activityId} already exists`, { activityId });
    assertCheckIn(command.fields);
    return [{ type: 'ActivityLogged', data: { activityId, ownerId: command.ownerId, fields: command.fields } }];
  }
  if (state.status === 'none') throw new DomainError('activity.not_found', `Activity ${activityId} does not exist`, { activityId });
  switch (command.type) {
    case 'ChangeActivity': {
      if (state.status === 'removed') throw new DomainError('activity.not_found', `Activity ${activityId} does not exist`, { activityId });
      for (const field of REQUIRED) if (command.changes[field] === null) throw new DomainError('activity.field_required', `${field} cannot be cleared`, { field });
      const changes = diffFields(state.fields, command.changes);
      // An activity stays with its customer (its timeline and counts): remove it and log it again instead.
      if ('customerId' in changes) throw new DomainError('activity.customer_fixed', 'An activity stays with its customer; remove it and log it for the other customer', { field: 'customerId' });
      assertCheckIn({ ...state.fields, ...changes });
      return Object.keys(changes).length ? [{ type: 'ActivityChanged', data: { activityId, changes } }] : [];
    }
    case 'RemoveActivity':
      return state.status === 'removed' ? [] : [{ type: 'ActivityRemoved', data: { activityId } }];
  }
}

export const activityDecider = { initialState, evolve, decide };

/**
 * The setting written once, on the first start of a version with activities: from its place in the log on, only
 * activities count as follow-ups with a customer (before it, any change did), so an upgrade sweeps nobody into the
 * pool.
 */
export const ACTIVITIES_ERA_KEY = 'activities-era';
export const activityCategory = 'activity';

const optional = (schema: z.ZodType) => schema.optional();
const id = () => optional(z.string().max(100));

/** Activities as a record type: its registry entry (listed in `resources.ts`). */
export const activityResource = {
  name: 'activities',
  singular: 'activity',
  tag: 'Activities 跟进记录',
  module: 'activities',
  category: activityCategory,
  decider: activityDecider,
  scope: { by: 'owner' },
  referenceField: 'activityId',
  personalFields: ['summary', 'outcome', 'commitments', 'checkIn'],
  customerReference: 'customerId',
  standardFields: ['kind', 'customerId', 'contactId', 'opportunityId', 'quoteId', 'orderId', 'occurredAt', 'durationMinutes', 'summary', 'outcome', 'commitments', 'checkIn', 'nextStep', 'ownerId', 'createdAt', 'updatedAt'],
  relatedPanels: [],
  list: {
    filters: {
      q: optional(z.string().trim().min(1).max(200)),
      kind: optional(ActivityKindKey),
      customerId: id(),
      contactId: id(),
      opportunityId: id(),
      quoteId: id(),
      orderId: id(),
      ownerId: id(),
    },
    sorts: ['occurredAt', 'createdAt', 'updatedAt'],
    defaultSort: '-occurredAt',
  },
  search: ['summary', 'outcome'],
  attachments: true,
  references: { customerId: 'customers', contactId: 'contacts', opportunityId: 'opportunities', quoteId: 'quotes', orderId: 'orders' },
  events: activityEventSchemas,
  ...revertible(activityDecider, 'activityId', { moves: { customerId: moveByChange('ActivityChanged', 'activityId'), contactId: moveByChange('ActivityChanged', 'activityId', 'contactId') } }),
  readModel: {
    version: 1,
    view: (state: Exclude<ActivityState, { status: 'none' }>) => ({ ...state.fields, ownerId: state.ownerId }),
    gone: (state: Exclude<ActivityState, { status: 'none' }>) => state.status === 'removed',
  },
} as const satisfies ResourceSpec;
