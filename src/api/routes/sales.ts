import { z } from 'zod';
import { activityStatsShape, withActivityCount } from '../../projections/activity-stats.ts';
import { authorize } from '../../commands/authorization.ts';
import { changeLead, changeLeadOwner, convertLead, createLead, disqualifyLead, markLead } from '../../commands/leads.ts';
import { changeOpportunity, changeOpportunityOwner, createOpportunity, moveOpportunity, opportunityStages, putOpportunityStages } from '../../commands/opportunities.ts';
import { changeProduct, createProduct } from '../../commands/products.ts';
import { LeadFields, type LeadState } from '../../domain/lead/index.ts';
import { OpportunityFields, type OpportunityState, StageList } from '../../domain/opportunity/index.ts';
import { ProductFields, type ProductState } from '../../domain/product/index.ts';
import { Money } from '../../domain/shared/money.ts';
import { FUNNEL, STAGE_EXITS } from '../../projections/opportunities.ts';
import { funnelReport, timeInStageReport } from '../../projections/reports.ts';
import { reportRoute, reportScope } from '../report-routes.ts';
import { fieldColumns, moneyColumns } from '../csv.ts';
import { recordAction, recordInScope, recordRoutes } from '../records.ts';
import { inventoryOf } from '../../projections/erp.ts';
import { resourceSpecs } from '../../domain/customization/resources.ts';
import { commonErrors, recordWriteErrors, staleError } from '../responses.ts';
import { assertFieldsWritable } from '../field-security.ts';
import { AssignBody, type AnyRoute, defineRoute, EmptyBody, Id, IdParams, ReasonBody } from '../route.ts';

const envelope = { id: z.string(), revision: z.number().int(), createdAt: z.string(), updatedAt: z.string() };
const ownedEnvelope = { ...envelope, ownerId: z.string(), departmentPath: z.string() };

// ---- Products (存货档案): the catalogue, not owned ----
const ProductView = ProductFields.extend({
  ...envelope,
  erpCode: z.string().nullable().optional().describe("The product's code in the ERP (存货编码); null until the ERP bridge links it"),
  inventory: z
    .array(z.object({ warehouse: z.string(), quantity: z.number(), available: z.number().optional(), asOf: z.string() }))
    .optional()
    .describe('Its stock per warehouse (现存量) as the ERP last reported it (one product only)'),
}).meta({ id: 'Product' });
const productRoutes: AnyRoute[] = recordRoutes<ProductState>({
  resource: 'products',
  asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, erpCode: state.erpCode ?? null }),
  columns: [...fieldColumns('id', 'code', 'name', 'specification', 'unit', 'category'), ...moneyColumns('standardPrice'), ...fieldColumns('taxRate', 'active')],
  view: ProductView,
  expand: async (doc, { services }) => ({ inventory: await inventoryOf(services.readStore, (doc as { erpCode?: string | null }).erpCode) }),
  create: {
    summary: 'Add a product; codes are unique (409 product.duplicate_code)',
    body: ProductFields.strict().meta({ id: 'ProductInput' }),
    run: async ({ body, actor, services, meta }) => {
      const result = await createProduct(services.deps, body as ProductFields, actor, meta);
      return { ...result, id: result.productId };
    },
  },
  patch: {
    summary: 'Change a product (deactivate with { "active": false })',
    fields: ProductFields,
    schemaId: 'ProductPatch',
    run: ({ params, body, actor, services, meta }) => changeProduct(services.deps, params.id, body, actor, meta),
  },
});

// ---- Leads (线索) ----
const leadTags = [resourceSpecs.leads.tag];
const LeadView = LeadFields.extend({ ...ownedEnvelope, status: z.enum(['new', 'working', 'qualified', 'disqualified', 'converted']) }).meta({ id: 'Lead' });
const Conversion = z.object({ customerId: z.string(), contactId: z.string(), opportunityId: z.string().optional() }).meta({ id: 'LeadConversion' });
const leadRoutes: AnyRoute[] = [
  ...recordRoutes<LeadState>({
    resource: 'leads',
    asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, status: state.status, ownerId: state.ownerId }),
    columns: fieldColumns('id', 'company', 'person', 'phone', 'email', 'source', 'status', 'ownerId', 'createdAt'),
    view: LeadView,
    create: {
      summary: 'Add a lead',
      body: LeadFields.extend({ ownerId: Id.optional() }).strict().meta({ id: 'LeadInput' }),
      run: async ({ body, actor, services, meta }) => {
        const { ownerId, ...fields } = body as LeadFields & { ownerId?: string };
        const result = await createLead(services.deps, { fields, ...(ownerId ? { ownerId } : {}) }, actor, meta);
        return { ...result, id: result.leadId };
      },
    },
    patch: { summary: 'Change a lead', fields: LeadFields, schemaId: 'LeadPatch', run: ({ params, body, actor, services, meta }) => changeLead(services.deps, params.id, body, actor, meta) },
    actions: [
      recordAction({ action: 'work', summary: 'Mark a lead as being worked on', body: EmptyBody, run: ({ params, actor, services, meta }) => markLead(services.deps, params.id, 'working', actor, meta) }),
      recordAction({ action: 'qualify', summary: 'Mark a lead as qualified', body: EmptyBody, run: ({ params, actor, services, meta }) => markLead(services.deps, params.id, 'qualified', actor, meta) }),
      recordAction({ action: 'disqualify', summary: 'Disqualify a lead, with a reason', body: ReasonBody, run: ({ params, body, actor, services, meta }) => disqualifyLead(services.deps, params.id, body.reason, actor, meta) }),
      recordAction({
        action: 'assign',
        writes: ['ownerId'],
        summary: 'Change the owner of a lead',
        body: AssignBody,
        permission: 'assign',
        done: 'Owner changed',
        run: ({ params, body, actor, services, meta }) => changeLeadOwner(services.deps, params.id, body.ownerId, actor, meta),
      }),
    ],
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
    responses: { 200: { description: 'Converted', schema: Conversion }, ...recordWriteErrors },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'leads', 'edit');
      assertFieldsWritable(actor, 'leads', ['status']);
      authorize(actor, 'customers', 'create');
      if (body.createOpportunity) authorize(actor, 'opportunities', 'create');
      await recordInScope(services, actor, 'leads', params.id);
      const { position, revision: _revision, ...conversion } = await convertLead(services.deps, params.id, body, actor, meta);
      return { status: 200, body: conversion, headers: { 'X-Position': String(position) } };
    },
  }),
];

// ---- Opportunities (商机) and stages ----
const opportunityTags = [resourceSpecs.opportunities.tag];
const OpportunityView = OpportunityFields.extend({
  ...ownedEnvelope,
  stage: z.string(),
  status: z.enum(['open', 'won', 'lost']),
  stageHistory: z.array(z.object({ stage: z.string(), enteredAt: z.string(), leftAt: z.string().optional() })),
  ...activityStatsShape,
}).meta({ id: 'Opportunity' });
const opportunityRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/settings/opportunity-stages',
    reads: [],
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
  ...recordRoutes<OpportunityState>({
    resource: 'opportunities',
    asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, stage: state.stage, status: state.status, ownerId: state.ownerId }),
    columns: [...fieldColumns('id', 'name', 'customerId'), ...moneyColumns('amount'), ...fieldColumns('stage', 'status', 'expectedCloseDate', 'ownerId', 'createdAt')],
    view: OpportunityView,
    present: (doc, services) => withActivityCount(doc, services.deps.clock.now()),
    create: {
      summary: 'Open an opportunity for a customer',
      done: 'Opened',
      body: OpportunityFields.extend({ ownerId: Id.optional(), stage: z.string().max(40).optional() }).strict().meta({ id: 'OpportunityInput' }),
      run: async ({ body, actor, services, meta }) => {
        const { ownerId, stage, ...fields } = body as OpportunityFields & { ownerId?: string; stage?: string };
        const result = await createOpportunity(services.deps, { fields, ...(ownerId ? { ownerId } : {}), ...(stage ? { stage } : {}) }, actor, meta);
        return { ...result, id: result.opportunityId };
      },
    },
    patch: { summary: 'Change an open opportunity', fields: OpportunityFields, schemaId: 'OpportunityPatch', run: ({ params, body, actor, services, meta }) => changeOpportunity(services.deps, params.id, body, actor, meta) },
    actions: [
      recordAction({
        action: 'stage',
        writes: ['stage'],
        summary: 'Move to an open stage',
        body: z.object({ stage: z.string().min(1).max(40) }).strict(),
        run: ({ params, body, actor, services, meta }) => moveOpportunity(services.deps, params.id, { type: 'MoveStage', stage: body.stage }, actor, meta),
      }),
      recordAction({ action: 'win', writes: ['status', 'stage'], summary: 'Mark won', body: EmptyBody, run: ({ params, actor, services, meta }) => moveOpportunity(services.deps, params.id, { type: 'WinOpportunity' }, actor, meta) }),
      recordAction({
        action: 'lose',
        writes: ['status', 'stage'],
        summary: 'Mark lost, with a reason and the competitor who won',
        body: ReasonBody.extend({ competitor: z.string().trim().min(1).max(100).optional() }),
        run: ({ params, body: { reason, competitor }, actor, services, meta }) => moveOpportunity(services.deps, params.id, { type: 'LoseOpportunity', reason, ...(competitor ? { competitor } : {}) }, actor, meta),
      }),
      recordAction({ action: 'reopen', writes: ['status', 'stage'], summary: 'Reopen a won or lost opportunity', body: EmptyBody, run: ({ params, actor, services, meta }) => moveOpportunity(services.deps, params.id, { type: 'ReopenOpportunity' }, actor, meta) }),
      recordAction({
        action: 'assign',
        writes: ['ownerId'],
        summary: 'Change the owner of an opportunity',
        body: AssignBody,
        permission: 'assign',
        done: 'Owner changed',
        run: ({ params, body, actor, services, meta }) => changeOpportunityOwner(services.deps, params.id, body.ownerId, actor, meta),
      }),
    ],
  }),
];

// ---- Reports ----
const ReportQuery = z
  .object({
    from: z.iso.date().describe("First day (in the company's time zone), inclusive"),
    to: z.iso.date().describe("Last day (in the company's time zone), exclusive"),
    ownerId: Id.optional(),
    departmentId: Id.optional(),
    currency: z.string().regex(/^[A-Z]{3}$/).default('CNY'),
  })
  .strict()
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] });

const reportRoutes: AnyRoute[] = [
  reportRoute({
    name: 'funnel',
    summary: 'Sales funnel of opportunities created in [from, to): per stage count, amount, weighted amount; win rate and average cycle days',
    answer: 'Funnel',
    reads: [FUNNEL],
    query: ReportQuery,
    compute: async (query, actor, services) => funnelReport(services.readStore, (await opportunityStages(services.deps)).stages, await reportScope(services, actor, query), query),
  }),
  reportRoute({
    name: 'time-in-stage',
    summary: 'Average days spent in each open stage, over stages left in [from, to)',
    answer: 'Time in stage',
    reads: [STAGE_EXITS],
    query: ReportQuery,
    compute: async (query, actor, services) => timeInStageReport(services.readStore, (await opportunityStages(services.deps)).stages, await reportScope(services, actor, query), query),
  }),
];

export const salesRoutes: AnyRoute[] = [...productRoutes, ...leadRoutes, ...opportunityRoutes, ...reportRoutes];
