import { z } from 'zod';
import { authorize } from '../../commands/authorization.ts';
import { recordOperation } from '../../commands/operations.ts';
import type { RouteServices as Services } from '../route.ts';
import { readiness } from '../readiness.ts';
import { commonErrors, conflictError, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute } from '../route.ts';

const tags = ['Operations 运维'];

const FailedEvent = z.object({ id: z.string(), position: z.string(), streamId: z.string(), type: z.string() });
const ProjectionState = z
  .object({
    name: z.string(),
    state: z.enum(['following', 'failed', 'rebuilding']),
    position: z.string().describe('Global position applied (a string: positions are 64-bit)'),
    behind: z.string().describe('Events of the log not applied yet, by position'),
    failure: z.object({ error: z.string(), at: z.string(), event: FailedEvent.optional() }).optional(),
    skipped: z.array(z.object({ eventId: z.string(), position: z.number().int(), streamId: z.string(), type: z.string(), error: z.string(), skippedBy: z.string(), skippedAt: z.string() })),
  })
  .meta({ id: 'ProjectionState' });
const ProjectionParams = z.object({ name: z.string().regex(/^[a-z][a-z0-9_-]{0,40}$/, 'Expected a projection name') }).strict();

async function projectionStates(services: Services) {
  const head = await services.deps.eventStore.headPosition();
  const states = [];
  for (const status of services.runner.status()) {
    const { failure } = status;
    states.push({
      name: status.name,
      state: failure ? ('failed' as const) : status.catchingUp ? ('rebuilding' as const) : ('following' as const),
      position: String(status.position),
      behind: String(head > status.position ? head - status.position : 0n),
      ...(failure ? { failure: { error: failure.error, at: failure.at, ...(failure.event ? { event: { ...failure.event, position: String(failure.event.position) } } : {}) } } : {}),
      skipped: await services.runner.skipped(status.name),
    });
  }
  return states;
}

export const operationsRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/admin/status',
    reads: [],
    summary: 'Readiness with its reasons (the public /readyz says only which part is not ready)',
    tags,
    responses: {
      200: {
        description: 'Every check and why it is not ok',
        schema: z.object({ ready: z.boolean(), degraded: z.boolean(), head: z.string(), checks: z.record(z.string(), z.string()), details: z.record(z.string(), z.string()) }),
      },
      ...commonErrors,
    },
    async handler({ actor, services }) {
      authorize(actor, 'security', 'view');
      const { ready, degraded, checks, details, head } = await readiness(services);
      return { status: 200, body: { ready, degraded, head: String(head), checks, details } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/admin/projections',
    reads: [],
    summary: 'The read models: how far each got, and the event a stopped one cannot apply',
    tags,
    responses: { 200: { description: 'Every projection', schema: z.object({ items: z.array(ProjectionState) }) }, ...commonErrors },
    async handler({ actor, services }) {
      authorize(actor, 'security', 'view');
      return { status: 200, body: { items: await projectionStates(services) } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/admin/projections/:name/skip-event',
    summary: 'Let a stopped projection skip the event it cannot apply (named by id) and go on',
    description: 'The skip is recorded (audit trail, and with the checkpoint, so a rebuild skips it again). Its read model then lacks that event\'s effect.',
    tags,
    params: ProjectionParams,
    body: z.object({ eventId: z.string().min(1).max(100) }).strict(),
    responses: { 200: { description: 'Skipped; the projection follows the log again', schema: z.object({ items: z.array(ProjectionState) }) }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'security', 'edit');
      const skipped = await services.runner.skipEvent(params.name, body.eventId, actor.userId);
      await recordOperation(services.deps, params.name, { type: 'ProjectionEventSkipped', data: { projection: params.name, eventId: skipped.eventId, position: skipped.position, error: skipped.error } }, actor, meta);
      return { status: 200, body: { items: (await projectionStates(services)).filter((p) => p.name === params.name) } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/admin/projections/:name/rebuild',
    summary: 'Drop a read model and replay the log into it, in the background; the others keep following',
    tags,
    params: ProjectionParams,
    body: z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict(),
    responses: { 202: { description: 'Rebuilding', schema: z.object({ items: z.array(ProjectionState) }) }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'security', 'edit');
      await services.runner.rebuildProjection(params.name);
      await recordOperation(services.deps, params.name, { type: 'ProjectionRebuildRequested', data: { projection: params.name, reason: body.reason ?? 'requested' } }, actor, meta);
      return { status: 202, body: { items: (await projectionStates(services)).filter((p) => p.name === params.name) } };
    },
  }),
];
