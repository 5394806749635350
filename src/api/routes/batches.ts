import { z } from 'zod';
import { ownersCovered, ownerInScope } from '../../access/scope.ts';
import { bulkDeps, stableMeta } from '../../app/jobs.ts';
import { authorize } from '../../commands/authorization.ts';
import type { Actor } from '../../commands/context.ts';
import { loadBatch } from '../../commands/batches.ts';
import { type MassChange, runMassChange, startMassChange } from '../../commands/mass-change.ts';
import { runUndo, startUndo } from '../../commands/undo.ts';
import { BATCH_KINDS, BatchConflict, type BatchKind, batchKindLabels } from '../../domain/batch/index.ts';
import { CustomerFields } from '../../domain/customer/index.ts';
import { resourceSpecs } from '../../domain/customization/resources.ts';
import type { Action, Module } from '../../domain/role/index.ts';
import { BATCHES, type BatchDoc } from '../../projections/batches.ts';
import { CUSTOMERS } from '../../projections/customers.ts';
import { listInBatches, publicView } from '../../projections/lists.ts';
import { ORG } from '../../projections/org.ts';
import { pageQuery, toPage } from '../../projections/paging.ts';
import { assertFieldsWritable, assertWritable, isHidden } from '../field-security.ts';
import { notFound } from '../history.ts';
import { listSelection } from '../list.ts';
import { listFilter } from '../list-query.ts';
import { patchSchema } from '../patch.ts';
import { HttpProblem } from '../problem.ts';
import { commonErrors, conflictError, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute, Id, IdParams, type RouteServices } from '../route.ts';

const tags = ['Batches 批量操作'];

const BatchView = z
  .object({
    id: z.string(),
    kind: z.enum(BATCH_KINDS),
    label: z.object({ 'zh-CN': z.string(), en: z.string() }),
    resource: z.string(),
    summary: z.record(z.string(), z.unknown()).describe('What it was asked to do (its filter and values, the undone batch…)'),
    actorId: z.string().describe('Who started it'),
    startedAt: z.string(),
    completedAt: z.string().optional(),
    status: z.enum(['running', 'completed']),
    records: z.number().int().describe('Records it wrote to'),
    events: z.number().int().describe('Events it wrote'),
    skipped: z.number().int().describe('Records it left alone (see conflicts)'),
    conflicts: z.array(BatchConflict),
    undoes: z.string().optional().describe('An undo: the batch it reverts'),
    force: z.boolean().optional(),
    undoneBy: z.string().optional().describe('The undo that reverted it'),
    undoneAt: z.string().optional(),
  })
  .meta({ id: 'Batch' });
const BatchStartedView = z.object({ batchId: z.string(), status: z.literal('running'), matched: z.number().int().optional() }).meta({ id: 'BatchStarted' });

/** A batch as the caller sees it: the values a mass update set in fields hidden for the caller are left out. */
function batchView(doc: BatchDoc, actor: Actor) {
  const set = doc.summary.set as Record<string, unknown> | undefined;
  const visible = (values: Record<string, unknown>, prefix = ''): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(values)
        .filter(([key]) => !isHidden(actor, doc.resource, `${prefix}${key}`))
        .map(([key, value]) => [key, key === 'custom' && !prefix && value && typeof value === 'object' ? visible(value as Record<string, unknown>, 'custom.') : value]),
    );
  const summary = set ? { ...doc.summary, set: visible(set) } : doc.summary;
  return { ...publicView(doc), summary, label: batchKindLabels[doc.kind as BatchKind] };
}

/** What undoing a batch of each kind takes: what running it took. */
const undoPermission: Record<Exclude<BatchKind, 'undo'>, readonly [Module, Action]> = {
  import: ['imports', 'create'],
  merge: ['customers', 'edit'],
  handover: ['customers', 'assign'],
  'pool-return': ['customers', 'assign'],
  'mass-update': ['customers', 'edit'],
  'mass-assign': ['customers', 'assign'],
};

/** A batch the caller may see: one started by someone in their data scope (404 otherwise, as for a record). */
async function visibleBatch(services: RouteServices, actor: Actor, batchId: string): Promise<BatchDoc> {
  const doc = await services.readStore.collection<BatchDoc>(BATCHES).findOne({ _id: batchId });
  if (!doc || !(await ownerInScope(services.deps, actor, doc.actorId))) throw notFound('batch', batchId);
  return doc;
}

const BulkBody = z
  .object({
    filter: listFilter(resourceSpecs.customers.list.filters).default({}).describe('The customer list\'s filters (as GET /api/v1/customers takes them): the customers in your data scope they match'),
    set: patchSchema(CustomerFields, 'CustomerBulkSet').optional().describe('Fields to set on each (null clears one)'),
    assign: z.object({ ownerId: Id }).strict().optional().describe('The owner to give each to'),
  })
  .strict()
  .refine((body) => (body.set === undefined) !== (body.assign === undefined), { message: 'Give exactly one of set and assign' });

/** How many records one mass change may take. */
export const BULK_MAX_RECORDS = 100_000;

export const batchRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/batches',
    reads: [BATCHES],
    summary: 'Bulk operations (imports, merges, handovers, pool returns, mass updates, undos): who ran what, when, on how many records; those started by the people in your data scope, newest first',
    tags,
    query: z
      .object({
        kind: z.enum(BATCH_KINDS).optional(),
        actorId: Id.optional(),
        status: z.enum(['running', 'completed']).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(1000).optional(),
      })
      .strict(),
    responses: { 200: { description: 'A page of batches', schema: z.object({ items: z.array(BatchView), nextCursor: z.string().nullable() }) }, ...commonErrors },
    async handler({ query, actor, services }) {
      const { limit, cursor, ...filters } = query;
      const request = { sortField: 'startedAt', direction: -1 as const, limit, ...(cursor ? { cursor } : {}) };
      const paging = pageQuery(request);
      const covered = await ownersCovered(actor, async (filter) => (await services.readStore.collection(ORG.employees).find(filter, { projection: { _id: 1 } })).map((e) => e._id));
      const match = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
      const scope = covered ? { actorId: { $in: covered } } : {};
      const docs = await services.readStore.collection<BatchDoc>(BATCHES).find({ $and: [match, scope, paging.filter] }, { sort: paging.sort, limit: paging.limit });
      const page = toPage(docs, request);
      return { status: 200, body: { items: page.items.map((doc) => batchView(doc, actor)), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/batches/:id',
    reads: [BATCHES],
    summary: 'One batch: how it is going or how it ended, with the records it left alone and why',
    tags,
    params: IdParams,
    responses: { 200: { description: 'The batch', schema: BatchView }, ...commonErrors, ...notFoundError },
    async handler({ params, actor, services }) {
      return { status: 200, body: batchView(await visibleBatch(services, actor, params.id), actor) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/batches/:id/undo',
    reads: [BATCHES],
    summary: 'Undo a batch: compensating events put back the exact earlier values and links of every record it wrote to; a record changed by someone else since is reported and left alone, unless force',
    description:
      'Runs in the background as a batch of its own (follow Location), which can be undone in turn. Takes the permission the batch itself took (a mass assign: customers assign; an import: imports create). A batch is undone once: a second undo → 409 batch.already_undone; one still running → 409 batch.running.',
    tags,
    params: IdParams,
    body: z.object({ force: z.boolean().default(false).describe('Also revert records changed by someone else after the batch (their later changes to the same records are overwritten)') }).strict(),
    responses: { 202: { description: 'Undo started; follow Location', schema: BatchStartedView }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      const doc = await visibleBatch(services, actor, params.id);
      const kind = doc.kind === 'undo' ? ((doc.summary.kind as BatchKind | undefined) ?? 'undo') : (doc.kind as BatchKind);
      // (A merge of contacts took contacts edit; one of customers, customers edit.)
      if (kind === 'merge' && doc.resource === 'contacts') authorize(actor, 'contacts', 'edit');
      else if (kind !== 'undo') authorize(actor, ...undoPermission[kind]);
      // The batch as its stream tells it (the read model may lag behind a second undo).
      if ((await loadBatch(services.deps, params.id)).state.status === 'none') throw notFound('batch', params.id);
      const { undoBatchId, position } = await startUndo(services.deps, params.id, body.force, actor, meta);
      services.backgroundOrWorker(`undo ${undoBatchId}`, () => runUndo(bulkDeps(services), undoBatchId, actor, stableMeta(services)(`undo:${undoBatchId}`)));
      return { status: 202, body: { batchId: undoBatchId, status: 'running' }, headers: { Location: `/api/v1/batches/${undoBatchId}`, 'X-Position': String(position) } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/customers/bulk',
    reads: [CUSTOMERS],
    summary: 'Mass update or mass assign (批量修改 / 批量分配): the customers a list filter matches in your data scope, as one batch that can be undone',
    description:
      '`set` changes fields on each (customers edit; fields read-only for your role → 403), `assign` gives each to an owner (customers assign). Runs in the background (follow Location); a customer the change is refused for (a duplicate name, in the pool) is skipped and listed in the batch\'s conflicts with the error code.',
    tags: ['Customers 客户', ...tags],
    body: BulkBody,
    responses: { 202: { description: 'Started; follow Location', schema: BatchStartedView }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ body, actor, services, meta }) {
      const change: MassChange = body.assign ? { assign: body.assign } : { set: body.set as Record<string, unknown> };
      if ('assign' in change) {
        authorize(actor, 'customers', 'assign');
        assertFieldsWritable(actor, 'customers', ['ownerId']);
      } else {
        authorize(actor, 'customers', 'edit');
        assertWritable(actor, 'customers', change.set);
        if (Object.keys(change.set).length === 0) throw new HttpProblem(400, 'validation', 'Invalid request', 'set names no field', { errors: [{ path: 'set', message: 'Name at least one field' }] });
      }
      const { collection, request, scope } = await listSelection({ query: body.filter as Record<string, unknown>, actor, services }, { resource: 'customers' });
      const ids: string[] = [];
      for await (const part of listInBatches<{ _id: string }>(services.readStore, collection, scope, request, 1_000)) {
        for (const doc of part) ids.push(doc._id);
        if (ids.length > BULK_MAX_RECORDS)
          throw new HttpProblem(413, 'bulk.too_large', 'Too many records', `The filter matches more than ${BULK_MAX_RECORDS} customers; narrow it and run the change in parts`, { maxRecords: BULK_MAX_RECORDS });
      }
      const { batchId, position } = await startMassChange(services.deps, ids, change, { filter: body.filter }, actor, meta);
      services.backgroundOrWorker(`mass change ${batchId}`, () => runMassChange(services.deps, batchId, actor, stableMeta(services)(`batch:${batchId}`)));
      return { status: 202, body: { batchId, status: 'running', matched: ids.length }, headers: { Location: `/api/v1/batches/${batchId}`, 'X-Position': String(position) } };
    },
  }),
];
