import { z } from 'zod';
import { activityKinds, changeActivity, logActivity, removeActivity } from '../../commands/activities.ts';
import { kindRoutes } from '../kind-routes.ts';
import { authorize } from '../../commands/authorization.ts';
import { ActivityFields, type ActivityState } from '../../domain/activity/index.ts';
import { type ResourceName, specOf } from '../../domain/customization/resources.ts';
import { fieldColumns } from '../csv.ts';
import { listOrExport } from '../list.ts';
import { listQuery } from '../list-query.ts';
import { recordInScope, recordRoutes } from '../records.ts';
import { commonErrors, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute, IdParams } from '../route.ts';

const spec = specOf('activities');
const tags = [spec.tag];

const ActivityView = ActivityFields.extend({ id: z.string(), revision: z.number().int(), ownerId: z.string(), createdAt: z.string(), updatedAt: z.string() }).meta({ id: 'Activity' });
const ActivityPage = z.object({ items: z.array(ActivityView), nextCursor: z.string().nullable() });
const columns = fieldColumns('id', 'kind', 'customerId', 'contactId', 'opportunityId', 'occurredAt', 'durationMinutes', 'summary', 'outcome', 'ownerId', 'createdAt', 'updatedAt');

/**
 * A record's activity timeline (newest first, paged): every activity logged on a customer, contact or opportunity
 * the caller may see, whoever logged it (a new owner sees the history of the customer handed to them).
 */
function timelineRoute(parent: ResourceName, field: 'customerId' | 'contactId' | 'opportunityId'): AnyRoute {
  const parentSpec = specOf(parent);
  return defineRoute({
    method: 'get',
    path: `/api/v1/${parent}/:id/activities`,
    reads: ['activities'],
    summary: `A ${parentSpec.singular}'s activity timeline, newest first (every activity logged on it, by whoever logged it)`,
    tags: [parentSpec.tag, spec.tag],
    permission: ['activities', 'view'],
    fields: { resource: 'activities', shape: 'page' },
    params: IdParams,
    query: listQuery({ kind: spec.list.filters.kind!, q: spec.list.filters.q! }, spec.list.sorts),
    responses: { 200: { description: 'A page of activities', schema: ActivityPage }, ...commonErrors, ...notFoundError },
    async handler(context) {
      authorize(context.actor, parentSpec.module, 'view');
      await recordInScope(context.services, context.actor, parent, context.params.id);
      return listOrExport(context as unknown as Parameters<typeof listOrExport>[0], { resource: 'activities', columns: [...columns], fixed: { [field]: context.params.id }, unowned: true, defaultSort: '-occurredAt' });
    },
  });
}

const kinds = kindRoutes({
  kinds: activityKinds,
  module: 'activities',
  tags,
  offeredPath: '/api/v1/activities/kinds',
  settingsPath: '/api/v1/settings/activity-kinds',
  what: { one: 'kind', many: 'activity kinds', record: 'an activity', builtIn: 'call, visit, meeting, email, note' },
});

/** Activities (跟进记录): what each salesperson did with whom, and what comes next. */
export const activityRoutes: AnyRoute[] = [
  kinds.offered,
  ...recordRoutes<ActivityState>({
    resource: 'activities',
    view: ActivityView,
    pageSchemaId: 'ActivityPage',
    columns,
    asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, ownerId: state.ownerId }),
    create: {
      summary: 'Log an activity (a call, a visit…) with a customer; you are its owner',
      description: 'kind: a built-in kind or one an administrator added (GET /api/v1/activities/kinds); checkIn only for a visit; occurredAt not in the future.',
      body: ActivityFields.strict().meta({
        id: 'ActivityInput',
        examples: [{ kind: 'call', customerId: '0193…', occurredAt: '2026-12-01T02:30:00Z', durationMinutes: 15, summary: '确认了第二季度的采购计划', outcome: '客户同意下周报价', commitments: ['周五前发送报价'], nextStep: { subject: '发送报价', dueAt: '2026-12-04T09:00:00Z' } }],
      }),
      answer: { taskId: z.string().optional().describe("The task the next step became (the activity owner's)") },
      run: ({ body, actor, services, meta }) => logActivity(services.deps, body as never, actor, meta),
    },
    patch: { summary: 'Change an activity (it stays with its customer)', fields: ActivityFields, schemaId: 'ActivityPatch', run: ({ params, body, actor, services, meta }) => changeActivity(services.deps, params.id, body, actor, meta) },
    remove: { summary: 'Remove an activity logged by mistake (its history stays)', done: 'Removed', run: ({ params, actor, services, meta }) => removeActivity(services.deps, params.id, actor, meta) },
  }),
  timelineRoute('customers', 'customerId'),
  timelineRoute('contacts', 'contactId'),
  timelineRoute('opportunities', 'opportunityId'),
  ...kinds.settings,
];
