import { z } from 'zod';
import { authorize } from '../../commands/authorization.ts';
import { changeLead, changeLeadOwner, convertLead, createLead, disqualifyLead, markLead } from '../../commands/leads.ts';
import { changeOpportunity, changeOpportunityOwner, createOpportunity, moveOpportunity, opportunityStages, putOpportunityStages } from '../../commands/opportunities.ts';
import { changeProduct, createProduct } from '../../commands/products.ts';
import { LeadFields, leadDecider, type LeadState, leadStream } from '../../domain/lead/index.ts';
import { OpportunityFields, opportunityDecider, type OpportunityState, opportunityStream, StageList } from '../../domain/opportunity/index.ts';
import { ProductFields, productDecider, type ProductState, productStream } from '../../domain/product/index.ts';
import { Money } from '../../domain/shared/money.ts';
import { LEADS, OPPORTUNITIES, PRODUCTS } from '../../projections/pipeline.ts';
import { funnelReport, reportOwners, timeInStageReport, UnknownDepartmentError } from '../../projections/reports.ts';
import { patchSchema } from '../patch.ts';
import { HttpProblem } from '../problem.ts';
import { fieldColumns, moneyColumns } from '../csv.ts';
import { assertCustomerInScope, recordForWrite, recordReadRoutes } from '../records.ts';
import { commonErrors, conflictError, notFoundError, staleError } from '../responses.ts';
import { type AnyRoute, defineRoute, Id, IdParams, WriteResult, written } from '../route.ts';

const envelope = { id: z.string(), revision: z.number().int(), createdAt: z.string(), updatedAt: z.string() };
const ownedEnvelope = { ...envelope, ownerId: z.string(), departmentPath: z.string() };
const write = { ...commonErrors, ...notFoundError, ...conflictError, ...staleError };

// ---- Products (存货档案): the catalogue, not owned ----
const productTags = ['Products 存货档案'];
const ProductView = ProductFields.extend(envelope).meta({ id: 'Product' });
const productRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/products',
    summary: 'Add a product; codes are unique (409 product.duplicate_code)',
    tags: productTags,
    fields: { resource: 'products', writes: true },
    body: ProductFields.strict().meta({ id: 'ProductInput' }),
    responses: { 201: { description: 'Added', schema: WriteResult }, ...commonErrors, ...conflictError },
    async handler({ body, actor, services, meta }) {
      authorize(actor, 'products', 'create');
      const result = await createProduct(services.deps, body, actor, meta);
      return written(result, result.productId, `/api/v1/products/${result.productId}`);
    },
  }),
  ...recordReadRoutes<ProductState>({
    resource: 'products',
    singular: 'product',
    tags: productTags,
    collection: PRODUCTS,
    stream: productStream,
    decider: productDecider,
    asOfView: (state) => (state.status === 'none' ? {} : state.fields),
    listShape: { q: z.string().trim().min(1).max(200).optional(), category: z.string().max(100).optional(), active: z.enum(['true', 'false']).transform((v) => v === 'true').optional() },
    sortable: ['code', 'name', 'createdAt', 'updatedAt'],
    defaultSort: 'code',
    columns: [...fieldColumns('id', 'code', 'name', 'specification', 'unit', 'category'), ...moneyColumns('standardPrice'), ...fieldColumns('taxRate', 'active')],
    view: ProductView,
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/products/:id',
    summary: 'Change a product (deactivate with { "active": false })',
    tags: productTags,
    fields: { resource: 'products', writes: true },
    params: IdParams,
    body: patchSchema(ProductFields, 'ProductPatch'),
    conditional: true,
    responses: { 200: { description: 'Changed', schema: WriteResult }, ...write },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'products', 'edit');
      await recordForWrite(services, actor, productDecider, productStream(params.id), 'product', params.id);
      return written(await changeProduct(services.deps, params.id, body as Record<string, unknown>, actor, meta), params.id);
    },
  }),
];

// ---- Leads (线索) ----
const leadTags = ['Leads 线索'];
const leadOwner = (state: LeadState) => (state.status === 'none' ? null : state.ownerId);
const LeadView = LeadFields.extend({ ...ownedEnvelope, status: z.enum(['new', 'working', 'qualified', 'disqualified', 'converted']) }).meta({ id: 'Lead' });
const Conversion = z.object({ customerId: z.string(), contactId: z.string(), opportunityId: z.string().optional() }).meta({ id: 'LeadConversion' });
const leadAction = (action: 'work' | 'qualify' | 'disqualify'): AnyRoute =>
  defineRoute({
    method: 'post',
    path: `/api/v1/leads/:id/${action}`,
    summary: action === 'disqualify' ? 'Disqualify a lead, with a reason' : `Mark a lead as ${action === 'work' ? 'being worked on' : 'qualified'}`,
    tags: leadTags,
    params: IdParams,
    body: (action === 'disqualify' ? z.object({ reason: z.string().trim().min(1).max(500) }).strict() : z.object({}).strict()) as z.ZodType<Record<string, string>>,
    conditional: true,
    responses: { 200: { description: 'Done', schema: WriteResult }, ...write },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'leads', 'edit');
      await recordForWrite(services, actor, leadDecider, leadStream(params.id), 'lead', params.id, leadOwner);
      const result =
        action === 'disqualify'
          ? await disqualifyLead(services.deps, params.id, body.reason!, actor, meta)
          : await markLead(services.deps, params.id, action === 'work' ? 'working' : 'qualified', actor, meta);
      return written(result, params.id);
    },
  });
const leadRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/leads',
    summary: 'Add a lead',
    tags: leadTags,
    fields: { resource: 'leads', writes: true },
    body: LeadFields.extend({ ownerId: Id.optional() }).strict().meta({ id: 'LeadInput' }),
    responses: { 201: { description: 'Added', schema: WriteResult }, ...commonErrors, ...conflictError },
    async handler({ body, actor, services, meta }) {
      authorize(actor, 'leads', 'create');
      const { ownerId, ...fields } = body;
      if (ownerId && ownerId !== actor.userId) authorize(actor, 'leads', 'assign');
      const result = await createLead(services.deps, { fields, ...(ownerId ? { ownerId } : {}) }, actor, meta);
      return written(result, result.leadId, `/api/v1/leads/${result.leadId}`);
    },
  }),
  ...recordReadRoutes<LeadState>({
    resource: 'leads',
    singular: 'lead',
    tags: leadTags,
    collection: LEADS,
    stream: leadStream,
    decider: leadDecider,
    ownerOf: leadOwner,
    asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, status: state.status, ownerId: state.ownerId }),
    listShape: { q: z.string().trim().min(1).max(200).optional(), status: z.enum(['new', 'working', 'qualified', 'disqualified', 'converted']).optional(), ownerId: z.string().max(100).optional(), source: z.string().max(100).optional() },
    sortable: ['company', 'createdAt', 'updatedAt'],
    defaultSort: '-updatedAt',
    columns: fieldColumns('id', 'company', 'person', 'phone', 'email', 'source', 'status', 'ownerId', 'createdAt'),
    view: LeadView,
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/leads/:id',
    summary: 'Change a lead',
    tags: leadTags,
    fields: { resource: 'leads', writes: true },
    params: IdParams,
    body: patchSchema(LeadFields, 'LeadPatch'),
    conditional: true,
    responses: { 200: { description: 'Changed', schema: WriteResult }, ...write },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'leads', 'edit');
      await recordForWrite(services, actor, leadDecider, leadStream(params.id), 'lead', params.id, leadOwner);
      return written(await changeLead(services.deps, params.id, body as Record<string, unknown>, actor, meta), params.id);
    },
  }),
  leadAction('work'),
  leadAction('qualify'),
  leadAction('disqualify'),
  defineRoute({
    method: 'post',
    path: '/api/v1/leads/:id/assign',
    summary: 'Change the owner of a lead',
    tags: leadTags,
    params: IdParams,
    body: z.object({ ownerId: Id }).strict(),
    conditional: true,
    responses: { 200: { description: 'Owner changed', schema: WriteResult }, ...write },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'leads', 'assign');
      await recordForWrite(services, actor, leadDecider, leadStream(params.id), 'lead', params.id, leadOwner);
      return written(await changeLeadOwner(services.deps, params.id, body.ownerId, actor, meta), params.id);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/leads/:id/convert',
    summary: 'Convert a lead: customer (created or linked), contact, optionally an opportunity',
    description: 'Safe to retry: an interrupted or repeated conversion never creates a second customer. Converting again → 409 lead.already_converted (a retry with the same Idempotency-Key replays the first answer).',
    tags: leadTags,
    params: IdParams,
    body: z
      .object({ customerId: Id.optional(), createOpportunity: z.object({ name: z.string().trim().min(1).max(200), amount: Money, expectedCloseDate: z.iso.date() }).strict().optional() })
      .strict()
      .meta({ id: 'LeadConversionInput' }),
    responses: { 200: { description: 'Converted', schema: Conversion }, ...write },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'leads', 'edit');
      authorize(actor, 'customers', 'create');
      if (body.createOpportunity) authorize(actor, 'opportunities', 'create');
      await recordForWrite(services, actor, leadDecider, leadStream(params.id), 'lead', params.id, leadOwner);
      if (body.customerId) await assertCustomerInScope(services, actor, body.customerId, 'lead.customer_unknown');
      const { position, revision: _revision, ...conversion } = await convertLead(services.deps, params.id, body, actor, meta);
      return { status: 200, body: conversion, headers: { 'X-Position': String(position) } };
    },
  }),
];

// ---- Opportunities (商机) and stages ----
const opportunityTags = ['Opportunities 商机'];
const opportunityOwner = (state: OpportunityState) => (state.status === 'none' ? null : state.ownerId);
const OpportunityView = OpportunityFields.extend({
  ...ownedEnvelope,
  stage: z.string(),
  status: z.enum(['open', 'won', 'lost']),
  stageHistory: z.array(z.object({ stage: z.string(), enteredAt: z.string(), leftAt: z.string().optional() })),
}).meta({ id: 'Opportunity' });
const opportunityAction = (action: 'stage' | 'win' | 'lose' | 'reopen'): AnyRoute =>
  defineRoute({
    method: 'post',
    path: `/api/v1/opportunities/:id/${action}`,
    summary: { stage: 'Move to an open stage', win: 'Mark won', lose: 'Mark lost, with a reason and the competitor who won', reopen: 'Reopen a won or lost opportunity' }[action],
    tags: opportunityTags,
    params: IdParams,
    body: {
      stage: z.object({ stage: z.string().min(1).max(40) }).strict(),
      win: z.object({}).strict(),
      lose: z.object({ reason: z.string().trim().min(1).max(500), competitor: z.string().trim().min(1).max(100).optional() }).strict(),
      reopen: z.object({}).strict(),
    }[action] as z.ZodType<Record<string, string>>,
    conditional: true,
    responses: { 200: { description: 'Done', schema: WriteResult }, ...write },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'opportunities', 'edit');
      await recordForWrite(services, actor, opportunityDecider, opportunityStream(params.id), 'opportunity', params.id, opportunityOwner);
      const command =
        action === 'stage'
          ? { type: 'MoveStage' as const, stage: body.stage! }
          : action === 'win'
            ? { type: 'WinOpportunity' as const }
            : action === 'lose'
              ? { type: 'LoseOpportunity' as const, reason: body.reason!, ...(body.competitor ? { competitor: body.competitor } : {}) }
              : { type: 'ReopenOpportunity' as const };
      return written(await moveOpportunity(services.deps, params.id, command, actor, meta), params.id);
    },
  });
const opportunityRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/settings/opportunity-stages',
    summary: 'The opportunity stage list',
    tags: opportunityTags,
    responses: { 200: { description: 'Stages', schema: z.object({ items: StageList }) }, ...commonErrors },
    async handler({ services }) {
      const { stages, revision } = await opportunityStages(services.deps);
      return { status: 200, body: { items: [...stages].sort((a, b) => a.order - b.order) }, headers: { ETag: `"${revision}"` } };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/settings/opportunity-stages',
    summary: 'Replace the stage list: exactly one won and one lost stage, at least one open',
    tags: opportunityTags,
    body: z.object({ items: StageList }).strict(),
    conditional: true,
    responses: { 200: { description: 'Saved', schema: z.object({ items: StageList }) }, ...commonErrors, ...staleError },
    async handler({ body, actor, services, meta }) {
      authorize(actor, 'settings', 'edit');
      const result = await putOpportunityStages(services.deps, body.items, actor, meta);
      return { status: 200, body, headers: { ETag: `"${result.revision}"`, ...(result.changed ? { 'X-Position': String(result.position) } : {}) } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/opportunities',
    summary: 'Open an opportunity for a customer',
    tags: opportunityTags,
    fields: { resource: 'opportunities', writes: true },
    body: OpportunityFields.extend({ ownerId: Id.optional(), stage: z.string().max(40).optional() }).strict().meta({ id: 'OpportunityInput' }),
    responses: { 201: { description: 'Opened', schema: WriteResult }, ...commonErrors, ...conflictError },
    async handler({ body, actor, services, meta }) {
      authorize(actor, 'opportunities', 'create');
      const { ownerId, stage, ...fields } = body;
      if (ownerId && ownerId !== actor.userId) authorize(actor, 'opportunities', 'assign');
      await assertCustomerInScope(services, actor, fields.customerId, 'opportunity.customer_unknown');
      const result = await createOpportunity(services.deps, { fields, ...(ownerId ? { ownerId } : {}), ...(stage ? { stage } : {}) }, actor, meta);
      return written(result, result.opportunityId, `/api/v1/opportunities/${result.opportunityId}`);
    },
  }),
  ...recordReadRoutes<OpportunityState>({
    resource: 'opportunities',
    singular: 'opportunity',
    tags: opportunityTags,
    collection: OPPORTUNITIES,
    stream: opportunityStream,
    decider: opportunityDecider,
    ownerOf: opportunityOwner,
    asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, stage: state.stage, status: state.status, ownerId: state.ownerId }),
    listShape: {
      q: z.string().trim().min(1).max(200).optional(),
      stage: z.string().max(40).optional(),
      status: z.enum(['open', 'won', 'lost']).optional(),
      ownerId: z.string().max(100).optional(),
      customerId: z.string().max(100).optional(),
    },
    sortable: ['name', 'expectedCloseDate', 'createdAt', 'updatedAt'],
    defaultSort: '-updatedAt',
    columns: [...fieldColumns('id', 'name', 'customerId'), ...moneyColumns('amount'), ...fieldColumns('stage', 'status', 'expectedCloseDate', 'ownerId', 'createdAt')],
    view: OpportunityView,
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/opportunities/:id',
    summary: 'Change an open opportunity',
    tags: opportunityTags,
    fields: { resource: 'opportunities', writes: true },
    params: IdParams,
    body: patchSchema(OpportunityFields, 'OpportunityPatch'),
    conditional: true,
    responses: { 200: { description: 'Changed', schema: WriteResult }, ...write },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'opportunities', 'edit');
      await recordForWrite(services, actor, opportunityDecider, opportunityStream(params.id), 'opportunity', params.id, opportunityOwner);
      return written(await changeOpportunity(services.deps, params.id, body as Record<string, unknown>, actor, meta), params.id);
    },
  }),
  opportunityAction('stage'),
  opportunityAction('win'),
  opportunityAction('lose'),
  opportunityAction('reopen'),
  defineRoute({
    method: 'post',
    path: '/api/v1/opportunities/:id/assign',
    summary: 'Change the owner of an opportunity',
    tags: opportunityTags,
    params: IdParams,
    body: z.object({ ownerId: Id }).strict(),
    conditional: true,
    responses: { 200: { description: 'Owner changed', schema: WriteResult }, ...write },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'opportunities', 'assign');
      await recordForWrite(services, actor, opportunityDecider, opportunityStream(params.id), 'opportunity', params.id, opportunityOwner);
      return written(await changeOpportunityOwner(services.deps, params.id, body.ownerId, actor, meta), params.id);
    },
  }),
];

// ---- Reports ----
const ReportQuery = z
  .object({
    from: z.iso.date().describe('First day (UTC), inclusive'),
    to: z.iso.date().describe('Last day (UTC), exclusive'),
    ownerId: Id.optional(),
    departmentId: Id.optional(),
    currency: z.string().regex(/^[A-Z]{3}$/).default('CNY'),
  })
  .strict()
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] });

async function owners(services: Parameters<AnyRoute['handler']>[0]['services'], actor: Parameters<AnyRoute['handler']>[0]['actor'], query: { ownerId?: string | undefined; departmentId?: string | undefined }) {
  try {
    return await reportOwners(services.readStore, actor, query);
  } catch (error) {
    if (error instanceof UnknownDepartmentError) throw new HttpProblem(400, 'validation', 'Invalid request', error.message, { errors: [{ path: 'query.departmentId', message: error.message }] });
    throw error;
  }
}

const reportRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/reports/funnel',
    summary: 'Sales funnel of opportunities created in [from, to): per stage count, amount, weighted amount; win rate and average cycle days',
    tags: ['Reports 报表'],
    query: ReportQuery,
    responses: { 200: { description: 'Funnel' }, ...commonErrors },
    async handler({ query, actor, services }) {
      authorize(actor, 'reports', 'view');
      const { stages } = await opportunityStages(services.deps);
      return { status: 200, body: await funnelReport(services.readStore, stages, await owners(services, actor, query), query) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/reports/time-in-stage',
    summary: 'Average days spent in each open stage, over stages left in [from, to)',
    tags: ['Reports 报表'],
    query: ReportQuery,
    responses: { 200: { description: 'Time in stage' }, ...commonErrors },
    async handler({ query, actor, services }) {
      authorize(actor, 'reports', 'view');
      const { stages } = await opportunityStages(services.deps);
      return { status: 200, body: await timeInStageReport(services.readStore, stages, await owners(services, actor, query), query) };
    },
  }),
];

export const salesRoutes: AnyRoute[] = [...productRoutes, ...leadRoutes, ...opportunityRoutes, ...reportRoutes];
