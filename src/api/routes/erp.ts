import { z } from 'zod';
import { isAllowed } from '../../commands/authorization.ts';
import type { Actor } from '../../commands/context.ts';
import { recordVisible } from '../../commands/references.ts';
import { specOf, type ResourceName } from '../../domain/customization/resources.ts';
import { erpKinds } from '../../domain/erp/link.ts';
import { erpOutCategory } from '../../domain/erp/outbound.ts';
import { OUTBOUND_TOPICS } from '../../integrations/erp/outbound.ts';
import { erpContract, erpTopics, jsonSchemaOf } from '../../integrations/erp/contract.ts';
import { resolveSyncConflict } from '../../integrations/erp/conflicts.ts';
import { applyInbound } from '../../integrations/erp/inbound.ts';
import { inboundLagVia } from '../../integrations/erp/kafka-inbound.ts';
import { erpBridgeActor } from '../../integrations/erp/inbound-kinds.ts';
import { changeErpSettings, ErpSettings, erpSettings } from '../../integrations/erp/settings.ts';
import { ERP_ACKS, ERP_CONFLICTS, ERP_LINKS, type ErpAckDoc, type ErpConflictDoc } from '../../projections/erp.ts';
import { readFilter, withinScope } from '../../access/scope.ts';
import type { ErpAcknowledgement } from '../../domain/order/index.ts';
import type { Doc } from '../../infra/readstore/port.ts';

type OrderDoc = Doc & { number: string; customerId: string; status: string; confirmedOn?: string; confirmedAt?: string; erpAcknowledgement?: ErpAcknowledgement; _erpVersion?: number; _erpSentAt?: string };
import { publicView } from '../../projections/lists.ts';
import { pageQuery, toPage } from '../../projections/paging.ts';
import { assertFieldsWritable, isHidden } from '../field-security.ts';
import { notFound } from '../history.ts';
import { commonErrors, conflictError, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute, type RouteServices } from '../route.ts';
import { settingRoutes } from '../setting-routes.ts';

const tags = ['ERP 集成'];

/** The CRM record type an ERP kind feeds. */
const resourceOfKind = { customer: 'customers', product: 'products', contact: 'contacts', employee: 'employees' } as const;

const InboundBody = z
  .object({
    messages: z
      .array(z.object({ topic: z.string().min(1).max(100).describe(`One of ${erpTopics.filter((topic) => erpContract[topic].direction === 'inbound').join(', ')}`), value: z.unknown().describe("The topic's value, as its JSON Schema (GET /api/v1/integrations/erp/schema) says") }).strict())
      .min(1)
      .max(1000),
  })
  .strict();

const InboundResultView = z.object({
  status: z.enum(['applied', 'unchanged', 'conflict', 'rejected']),
  recordId: z.string().optional().describe('The CRM record the message is linked to'),
  conflictId: z.string().optional().describe('A conflict to settle: POST /api/v1/integrations/erp/conflicts/:id/resolve'),
  reason: z.string().optional(),
});

const ConflictView = z
  .object({
    id: z.string(),
    kind: z.enum(erpKinds),
    erpCode: z.string(),
    recordId: z.string(),
    erpVersion: z.number().int(),
    reason: z.enum(['edited', 'identity']).describe('edited: the CRM and the ERP both changed these fields since the last sync; identity: the CRM record holding its tax number, name or code is linked to another ERP record'),
    fields: z.array(z.object({ field: z.string(), erp: z.unknown(), crm: z.unknown(), base: z.unknown().describe('What the ERP said at the last sync') })),
    status: z.enum(['open', 'resolved', 'superseded']),
    raisedAt: z.string(),
    supersedes: z.string().optional(),
    take: z.string().optional(),
    resolvedAt: z.string().optional(),
    resolvedBy: z.string().optional(),
  })
  .meta({ id: 'ErpSyncConflict' });

/** Whether the caller may see the CRM record of a conflict: its module's view, and the record in their data scope. */
async function conflictVisible(services: RouteServices, actor: Actor, doc: ErpConflictDoc): Promise<boolean> {
  const resource = resourceOfKind[doc.kind as keyof typeof resourceOfKind] as ResourceName | 'employees';
  if (resource === 'employees') return isAllowed(actor, 'security', 'view');
  const spec = specOf(resource);
  return isAllowed(actor, spec.module, 'view') && recordVisible(services.deps, actor, spec, doc.recordId);
}

/** A conflict as the caller sees it: the fields their role hides are left out. */
const conflictView = (doc: ErpConflictDoc, actor: Actor) => {
  const resource = resourceOfKind[doc.kind as keyof typeof resourceOfKind];
  return { ...publicView(doc), fields: doc.fields.filter((entry) => resource === 'employees' || !isHidden(actor, resource, entry.field)) };
};

export const erpRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/integrations/erp/schema',
    reads: [],
    summary: "The ERP bridge's contract: each Kafka topic's JSON Schema with its version (the same files are in docs/erp-contract)",
    tags,
    permission: ['integrations', 'view'],
    query: z.object({ topic: z.enum(erpTopics).optional().describe('Only this topic') }).strict(),
    responses: {
      200: {
        description: 'The topics, inbound (erp.*, ERP → CRM) and outbound (crm.erp.*, CRM → ERP)',
        schema: z.object({ topics: z.array(z.object({ topic: z.string(), direction: z.enum(['inbound', 'outbound']), version: z.number().int(), schema: z.record(z.string(), z.unknown()) })) }),
      },
      ...commonErrors,
    },
    async handler({ query }) {
      const topics = (query.topic ? [query.topic] : erpTopics).map((topic) => ({ topic, direction: erpContract[topic].direction, version: erpContract[topic].version, schema: jsonSchemaOf(topic) }));
      return { status: 200, body: { topics } };
    },
  }),
  ...settingRoutes({
    path: '/api/v1/settings/erp',
    tags,
    schema: ErpSettings,
    read: { summary: 'The ERP bridge settings: who owns the customers the ERP creates', done: 'The settings' },
    write: { summary: 'Change the ERP bridge settings', description: 'defaultOwnerId must be an enabled employee (404-like 409 customer.owner_unknown otherwise).', done: 'Saved' },
    load: erpSettings,
    save: ({ body, actor, services, meta }) => changeErpSettings(services.deps, body, actor, meta),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/integrations/erp/inbound',
    summary: 'Feed the ERP bridge by hand (no Kafka): master data and answers in the inbound topics\' shapes, applied in order',
    description:
      'Each message is what the topic carries on Kafka. It is an upsert keyed by its erpCode and idempotent by its erpVersion: the same or an older version changes nothing (`unchanged`). ' +
      'A new ERP record is linked to the CRM record holding its tax number (or, without one, its normalised name; a product: its code) when that one is not linked yet, and otherwise created, owned by the default owner (PUT /api/v1/settings/erp), written by the system actor erp-bridge. ' +
      'A field changed in the CRM since the last sync and changed differently by the ERP is not overwritten: `conflict`, listed at GET /api/v1/integrations/erp/conflicts. A value the CRM refuses is `rejected` with the reason; the other messages go on.',
    tags,
    permission: ['integrations', 'create'],
    bodyIsData: true,
    body: InboundBody,
    responses: { 200: { description: 'One result per message, in order', schema: z.object({ results: z.array(InboundResultView) }) }, ...commonErrors },
    async handler({ body, services, meta }) {
      const { value: settings } = await erpSettings(services.deps);
      const context = { deps: services.deps, readStore: services.readStore, actor: erpBridgeActor, meta, defaultOwnerId: settings.defaultOwnerId };
      const results = [];
      for (const message of body.messages) {
        const result = await applyInbound(context, message.topic, message.value);
        services.erp.handled(message.topic, result);
        results.push(result);
      }
      // (Waiting for the log's head covers every write these messages made.)
      return { status: 200, body: { results }, headers: { 'X-Position': String(await services.deps.eventStore.headPosition()) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/integrations/erp/outbound',
    reads: [],
    summary: 'What the CRM hands the ERP, for an ERP that pulls (no Kafka): the crm.erp.* messages after a position, oldest first',
    description:
      'The same messages, in the same shapes, that production sends to the crm.erp.customer, crm.erp.order and crm.erp.payment topics: a customer version before its first order, each confirmed order, each payment. Each has a deterministic messageId (the same on every read). Pass the last `position` you took as `after` to go on; `next` is where this page ended.',
    tags,
    permission: ['integrations', 'export'],
    query: z
      .object({
        after: z.string().regex(/^\d{1,19}$/, 'Expected a log position (digits)').default('0'),
        limit: z.coerce.number().int().min(1).max(1000).default(200),
        topic: z.enum(OUTBOUND_TOPICS).optional(),
      })
      .strict(),
    responses: {
      200: {
        description: 'A page of messages',
        schema: z.object({
          messages: z.array(z.object({ position: z.string(), topic: z.string(), key: z.string(), messageId: z.string(), value: z.record(z.string(), z.unknown()) })),
          next: z.string().describe('The position to pass as `after` for the next page'),
        }),
      },
      ...commonErrors,
    },
    async handler({ query, services }) {
      const events = await services.deps.eventStore.readAll({ after: BigInt(query.after), filter: { categories: [erpOutCategory] }, maxCount: query.limit });
      const messages = events
        .map((event) => ({ position: event.position.toString(), ...(event.data as { topic: string; key: string; messageId: string; value: Record<string, unknown> }) }))
        .filter((message) => !query.topic || message.topic === query.topic);
      const last = events[events.length - 1];
      return { status: 200, body: { messages, next: last ? last.position.toString() : query.after } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/integrations/erp/reconciliation',
    reads: ['orders', ERP_ACKS],
    summary: 'Reconciliation with the ERP: confirmed orders (and cancellations of confirmed orders) the ERP has not acknowledged, orders it rejected, and acknowledgements for orders the CRM does not have, each with its age',
    description: 'Orders are those in your data scope (orders view); oldest first, at most `limit` of each kind, with the totals.',
    tags,
    permission: ['integrations', 'view'],
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }).strict(),
    responses: {
      200: {
        description: 'The report',
        schema: z.object({
          asOf: z.string(),
          unacknowledged: z.object({
            total: z.number().int(),
            items: z.array(
              z.object({
                orderId: z.string(),
                number: z.string(),
                customerId: z.string(),
                /** `cancelled`: the ERP has not answered the cancellation of an order it had. */
                status: z.string(),
                /** The order version the ERP has not answered (as sent in crm.erp.order). */
                version: z.number().int(),
                confirmedAt: z.string(),
                sentAt: z.string(),
                /** Since that version was sent. */
                ageSeconds: z.number().int(),
              }),
            ),
          }),
          rejected: z.object({ total: z.number().int(), items: z.array(z.object({ orderId: z.string(), number: z.string(), erpDocumentNumber: z.string(), reason: z.string().nullable(), at: z.string(), ageSeconds: z.number().int() })) }),
          unknownAcknowledgements: z.object({ total: z.number().int(), items: z.array(z.object({ erpDocumentNumber: z.string(), orderId: z.string(), status: z.string(), receivedAt: z.string(), ageSeconds: z.number().int() })) }),
        }),
      },
      ...commonErrors,
    },
    async handler({ query, actor, services }) {
      const now = services.clock.now();
      const age = (at: string) => Math.max(0, Math.floor((now.getTime() - Date.parse(at)) / 1000));
      const orders = services.readStore.collection<OrderDoc>('orders');
      const scope = isAllowed(actor, 'orders', 'view') ? readFilter(actor) : null;
      const list = async (filter: Record<string, unknown>) => (scope ? { total: await orders.countDocuments(withinScope(scope, filter)), docs: await orders.find(withinScope(scope, filter), { sort: { confirmedOn: 1, _id: 1 }, limit: query.limit }) } : { total: 0, docs: [] });
      // The last version sent (a confirmation, or a confirmed order's cancellation) that the ERP has not answered.
      const waiting = await list({ _erpAwaiting: true });
      const refused = await list({ 'erpAcknowledgement.status': 'rejected' });
      const acks = services.readStore.collection<ErpAckDoc>(ERP_ACKS);
      const unknown = await acks.find({ known: false }, { sort: { receivedAt: 1, _id: 1 }, limit: query.limit });
      const confirmedAt = (doc: OrderDoc) => String(doc.confirmedAt ?? `${doc.confirmedOn}T00:00:00.000Z`);
      return {
        status: 200,
        body: {
          asOf: now.toISOString(),
          unacknowledged: {
            total: waiting.total,
            items: waiting.docs.map((doc) => {
              const sentAt = doc._erpSentAt ?? confirmedAt(doc);
              return { orderId: doc._id, number: doc.number, customerId: doc.customerId, status: doc.status, version: doc._erpVersion!, confirmedAt: confirmedAt(doc), sentAt, ageSeconds: age(sentAt) };
            }),
          },
          rejected: {
            total: refused.total,
            items: refused.docs.map((doc) => ({ orderId: doc._id, number: doc.number, erpDocumentNumber: doc.erpAcknowledgement!.erpDocumentNumber, reason: doc.erpAcknowledgement!.reason ?? null, at: doc.erpAcknowledgement!.at, ageSeconds: age(doc.erpAcknowledgement!.at) })),
          },
          unknownAcknowledgements: { total: await acks.countDocuments({ known: false }), items: unknown.map((doc) => ({ erpDocumentNumber: doc._id, orderId: doc.orderId, status: doc.status, receivedAt: doc.receivedAt, ageSeconds: age(doc.receivedAt) })) },
        },
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/integrations/erp/status',
    reads: [ERP_CONFLICTS, ERP_LINKS],
    summary: "The ERP bridge's state: per topic, the messages it handled and how they ended, the last message's time and the last error; the inbound group's lag on Kafka; the links and open conflicts",
    description: 'The same from any instance: counts are summed over the instances that ran the bridge (the leading worker\'s consumers, the inbound route on any instance) since each started; the last error and `troubled` come from the instance that heard from the topic last. A topic with a last error also degrades that instance\'s /readyz (never makes it unready). The links and conflicts are the whole company\'s.',
    tags,
    permission: ['integrations', 'view'],
    responses: {
      200: {
        description: 'The status',
        schema: z.object({
          transport: z.enum(['kafka', 'http']).describe('kafka: the consumer group erp-bridge-in reads the ERP topics; http: only POST /api/v1/integrations/erp/inbound feeds it'),
          inboundLag: z.record(z.string(), z.number().int()).nullable().describe('Per ERP topic, the messages erp-bridge-in has not committed yet (null: not run here, or Kafka away)'),
          topics: z.array(z.object({ topic: z.string(), messages: z.number().int(), applied: z.number().int(), unchanged: z.number().int(), conflicts: z.number().int(), rejected: z.number().int(), lastMessageAt: z.string().nullable(), lastError: z.string().nullable(), lastErrorAt: z.string().nullable(), troubled: z.boolean().describe('Its last message was rejected or its last try failed (degrades /readyz until a message is taken)') })),
          links: z.record(z.string(), z.number().int()).describe('Linked ERP records by kind'),
          openConflicts: z.number().int(),
        }),
      },
      ...commonErrors,
    },
    async handler({ services }) {
      // The group's lag: from the consumer where it runs here, else asked of the broker (an API instance).
      const kafka = services.kafka;
      const lagOf = services.erp.lagOf ?? (kafka ? () => inboundLagVia(kafka.client) : undefined);
      const lag = (await lagOf?.().catch(() => null)) ?? null;
      const links: Record<string, number> = {};
      for (const kind of erpKinds) links[kind] = await services.readStore.collection(ERP_LINKS).countDocuments({ kind, recordId: { $ne: null } });
      const openConflicts = await services.readStore.collection(ERP_CONFLICTS).countDocuments({ status: 'open' });
      return { status: 200, body: { transport: services.kafka ? ('kafka' as const) : ('http' as const), inboundLag: lag, topics: await services.erp.combined(), links, openConflicts } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/integrations/erp/conflicts',
    reads: [ERP_CONFLICTS],
    summary: 'Sync conflicts of the ERP bridge, newest first: the fields the CRM and the ERP changed differently, or an ERP record whose tax number a CRM record linked elsewhere holds',
    description: 'Only conflicts about records you may see (their module and your data scope); fields hidden for your role are left out. A page may hold fewer than `limit` items; follow nextCursor until it is null.',
    tags,
    permission: ['integrations', 'view'],
    query: z
      .object({
        status: z.enum(['open', 'resolved', 'superseded']).default('open'),
        kind: z.enum(erpKinds).optional(),
        recordId: z.string().max(100).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(1000).optional(),
      })
      .strict(),
    responses: { 200: { description: 'A page of conflicts', schema: z.object({ items: z.array(ConflictView), nextCursor: z.string().nullable() }) }, ...commonErrors },
    async handler({ query, actor, services }) {
      const { limit, cursor, ...filters } = query;
      const request = { sortField: 'raisedAt', direction: -1 as const, limit, ...(cursor ? { cursor } : {}) };
      const paging = pageQuery(request);
      const match = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
      const docs = await services.readStore.collection<ErpConflictDoc>(ERP_CONFLICTS).find({ $and: [match, paging.filter] }, { sort: paging.sort, limit: paging.limit });
      const page = toPage(docs, request);
      const items = [];
      for (const doc of page.items) if (await conflictVisible(services, actor, doc)) items.push(conflictView(doc, actor));
      return { status: 200, body: { items, nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/integrations/erp/conflicts/:id/resolve',
    reads: [ERP_CONFLICTS],
    summary: 'Settle a sync conflict: take the ERP\'s values, or keep the CRM\'s',
    description:
      '`erp`: an edit conflict writes the ERP\'s values of the fields in conflict; an identity conflict hands the CRM record over to this ERP record (its erpCode changes, its old ERP record is unlinked). `crm`: the CRM record stays as it is. Needs integrations edit and the record in your data scope (404 otherwise); a conflict no longer open → 409 erp.conflict_closed.',
    tags,
    permission: ['integrations', 'edit'],
    params: z.object({ id: z.string().min(1).max(100) }).strict(),
    body: z.object({ take: z.enum(['erp', 'crm']) }).strict(),
    responses: {
      200: { description: 'Settled', schema: z.object({ id: z.string(), take: z.enum(['erp', 'crm']), recordId: z.string(), status: z.literal('resolved') }) },
      ...commonErrors,
      ...notFoundError,
      ...conflictError,
    },
    async handler({ params, body, actor, services, meta }) {
      const doc = await services.readStore.collection<ErpConflictDoc>(ERP_CONFLICTS).findOne({ _id: params.id });
      if (!doc || !(await conflictVisible(services, actor, doc))) throw notFound('conflict', params.id);
      // Taking the ERP's values writes them as the caller, who must be allowed to write each.
      const resource = resourceOfKind[doc.kind as keyof typeof resourceOfKind];
      if (body.take === 'erp' && resource !== 'employees') assertFieldsWritable(actor, resource, doc.fields.map((entry) => entry.field).filter((field) => field !== 'erpCode' && field !== 'retired'));
      const { value: settings } = await erpSettings(services.deps);
      const context = { deps: services.deps, readStore: services.readStore, actor, meta: { ...meta, requestId: `erp-resolve:${params.id}` }, defaultOwnerId: settings.defaultOwnerId };
      const { recordId, position } = await resolveSyncConflict(context, doc.linkId, params.id, body.take);
      return { status: 200, body: { id: params.id, take: body.take, recordId, status: 'resolved' as const }, headers: { 'X-Position': String(position) } };
    },
  }),
];
