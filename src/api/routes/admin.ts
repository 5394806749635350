import { z } from 'zod';
import { authorize } from '../../commands/authorization.ts';
import { handoverStatus, runHandover, startHandover } from '../../commands/handover.ts';
import { bulkDeps, stableMeta } from '../../app/jobs.ts';
import { AUDIT, type AuditDoc, auditedTypes } from '../../projections/audit.ts';
import { ownerInScope } from '../../access/scope.ts';
import { notFound } from '../history.ts';
import { HttpProblem } from '../problem.ts';
import { commonErrors, conflictError, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute, Id, IdParams } from '../route.ts';

const Handover = z
  .object({ id: z.string(), fromEmployeeId: z.string(), toEmployeeId: z.string(), status: z.enum(['running', 'completed']), moved: z.number().int(), startedAt: z.string(), completedAt: z.string().optional() })
  .meta({ id: 'Handover' });

const AuditQuery = z
  .object({
    type: z.enum(auditedTypes).optional(),
    actor: z.string().max(100).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().regex(/^\d{1,18}$/, 'Expected the nextCursor of the previous page').optional(),
  })
  .strict();
const AuditEntry = z.object({ id: z.string(), type: z.string(), actor: z.string(), at: z.string(), subject: z.string().nullable(), data: z.record(z.string(), z.unknown()), position: z.number().int(), correlationId: z.string() });

export const adminRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/employees/:id/handover',
    summary: "Hand over everything an employee owns to another (离职交接); runs in the background, resumes after a restart",
    tags: ['Employees 员工'],
    params: IdParams,
    body: z.object({ toEmployeeId: Id }).strict(),
    responses: { 202: { description: 'Started; follow Location', schema: Handover }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'customers', 'assign');
      if (!(await ownerInScope(services.deps, actor, params.id)) || !(await ownerInScope(services.deps, actor, body.toEmployeeId)))
        throw notFound('employee', params.id);
      const { handoverId, position } = await startHandover(services.deps, params.id, body.toEmployeeId, actor, meta);
      services.backgroundOrWorker(`handover ${handoverId}`, () => runHandover(bulkDeps(services), handoverId, actor, stableMeta(services)));
      const status = await handoverStatus(services.deps, handoverId);
      return { status: 202, body: status, headers: { Location: `/api/v1/handovers/${handoverId}`, 'X-Position': String(position) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/handovers/:id',
    reads: [],
    summary: 'How a handover is going (visible when its giver or its receiver is in your scope)',
    tags: ['Employees 员工'],
    params: IdParams,
    responses: { 200: { description: 'Status', schema: Handover }, ...commonErrors, ...notFoundError },
    async handler({ params, actor, services }) {
      authorize(actor, 'customers', 'assign');
      const status = await handoverStatus(services.deps, params.id);
      const visible = status && ((await ownerInScope(services.deps, actor, status.fromEmployeeId)) || (await ownerInScope(services.deps, actor, status.toEmployeeId)));
      if (!status || !visible) throw notFound('handover', params.id);
      return { status: 200, body: status };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/audit',
    reads: [AUDIT],
    summary: 'Security audit trail: logins, accounts, roles, handovers (admins)',
    tags: ['Audit 审计'],
    query: AuditQuery,
    responses: { 200: { description: 'Newest first', schema: z.object({ items: z.array(AuditEntry), nextCursor: z.string().nullable() }) }, ...commonErrors },
    async handler({ query, actor, services }) {
      authorize(actor, 'settings', 'view');
      const conditions: Record<string, unknown>[] = [];
      if (query.type) conditions.push({ type: query.type });
      if (query.actor) conditions.push({ actor: query.actor });
      if (query.from) conditions.push({ at: { $gte: new Date(query.from).toISOString() } });
      if (query.to) conditions.push({ at: { $lt: new Date(query.to).toISOString() } });
      if (query.cursor) conditions.push({ position: { $lt: Number(query.cursor) } });
      if (query.from && query.to && query.from > query.to) throw new HttpProblem(400, 'validation', 'Invalid request', 'from must not be after to', { errors: [{ path: 'query.from', message: 'After to' }] });
      const filter = conditions.length === 0 ? {} : conditions.length === 1 ? conditions[0]! : { $and: conditions };
      const docs = await services.readStore.collection<AuditDoc>(AUDIT).find(filter, { sort: { position: -1 }, limit: query.limit + 1 });
      const items = docs.slice(0, query.limit).map(({ _id, ...rest }) => ({ id: _id, ...rest }));
      return { status: 200, body: { items, nextCursor: docs.length > query.limit ? String(items[items.length - 1]!.position) : null } };
    },
  }),
];
