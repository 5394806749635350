import { z } from 'zod';
import { isAllowed } from '../../commands/authorization.ts';
import { recordVisible } from '../../commands/references.ts';
import {
  addTicketNote,
  assignTicket,
  changeTicket,
  ACTIVE_TICKET_STATUSES,
  answerSurvey,
  closeTicket,
  mailSurvey,
  openSurvey,
  SURVEY_VALID_DAYS,
  logTicketWork,
  openTicket,
  putSlaPolicies,
  reopenTicket,
  resolveTicket,
  slaContext,
  slaPolicies,
  startTicket,
  ticketTypes,
  waitOnCustomer,
} from '../../commands/tickets.ts';
import { kindRoutes } from '../kind-routes.ts';
import { businessCalendar, putBusinessCalendar } from '../../commands/business-time.ts';
import type { Actor } from '../../commands/context.ts';
import type { Doc, ReadStore } from '../../infra/readstore/port.ts';
import { readScopeOf, type ResourceName, specOf } from '../../domain/customization/resources.ts';
import { BusinessCalendar } from '../../domain/service/calendar.ts';
import { clockSegments, readClock, SLA_CLOCKS, SlaPolicies, SlaState, slaState, targetFor } from '../../domain/service/sla.ts';
import { type OpenTicket, TicketFields, TicketPriority, TicketStatus, type TicketState, WorkKind } from '../../domain/ticket/index.ts';
import { ticketView } from '../../domain/ticket/resource.ts';
import { readFilter, withinScope } from '../../access/scope.ts';
import { publicView } from '../../projections/lists.ts';
import { fieldColumns } from '../csv.ts';
import { recordAction, recordInScope, recordRoutes } from '../records.ts';
import { type PanelLoader, relatedRoute } from '../related.ts';
import { commonErrors, conflictError, goneError, notFoundError } from '../responses.ts';
import { linkDeps } from './public-links.ts';
import { DomainError } from '../../domain/shared/errors.ts';
import { type AnyRoute, defineRoute, EmptyBody, Id, IdParams } from '../route.ts';
import { settingRoutes } from '../setting-routes.ts';
import { reportRoute, reportScope } from '../report-routes.ts';
import { SERVICE_BY_CUSTOMER, SERVICE_BY_ENGINEER, SERVICE_BY_TYPE, serviceReport } from '../../projections/service.ts';

const tags = ['Tickets 服务工单'];

const Note = z.object({ noteId: z.string(), by: z.string(), text: z.string(), visibility: z.enum(['internal', 'customer']), at: z.string() });
const SlaView = z
  .object({
    state: SlaState,
    firstResponseDueAt: z.string().nullable().describe('When the first response is due (null once given, or while paused)'),
    resolutionDueAt: z.string().nullable().describe('When the resolution is due (null once resolved, or while paused)'),
    firstResponseRemainingMinutes: z.number().int().optional().describe('While paused: business minutes left'),
    resolutionRemainingMinutes: z.number().int().optional().describe('While paused: business minutes left'),
    firstResponseHours: z.number(),
    resolutionHours: z.number(),
    breached: z.array(z.enum(['first_response', 'resolution'])),
    policyVersion: z.number().int(),
    calendarVersion: z.number().int(),
    timeZone: z.string(),
  })
  .nullable()
  .meta({ id: 'TicketSla' });
const TicketView = TicketFields.extend({
  id: z.string(),
  revision: z.number().int(),
  number: z.string().describe('SR-<year>-<6 digits>'),
  status: TicketStatus,
  assigneeId: z.string().nullable(),
  queueId: z.string().nullable().describe('The service queue (a department) whose members see it'),
  createdBy: z.string(),
  openedAt: z.string(),
  respondedAt: z.string().nullable(),
  resolution: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  reopenCount: z.number().int(),
  workMinutes: z.number().int(),
  notes: z.array(Note),
  sla: SlaView,
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: 'Ticket' });

const TicketInput = TicketFields.extend({
  assigneeId: Id.optional().describe('An engineer (takes the assign permission unless it is you)'),
  departmentId: Id.optional().describe('Or a service queue: a department whose members see it'),
})
  .strict()
  .meta({ id: 'TicketInput', examples: [{ type: 'complaint', channel: 'phone', priority: 'high', customerId: '0193…', subject: '设备异响', description: '客户反映上周交付的水泵运行时有异响', departmentId: '0193…' }] });

const Assignment = z.union([z.object({ assigneeId: Id }).strict(), z.object({ departmentId: Id }).strict()]).meta({ id: 'TicketAssignment' });
const ClockView = z.object({
  clock: z.enum(['first_response', 'resolution']),
  state: z.enum(['running', 'paused', 'stopped']),
  targetMinutes: z.number().int(),
  elapsedMinutes: z.number().int(),
  remainingMinutes: z.number().int(),
  dueAt: z.string().nullable(),
  warnAt: z.string().nullable(),
  outcome: z.enum(['met', 'breached', 'pending']),
});
const SlaExplanation = z
  .object({
    ticketId: z.string(),
    state: SlaState,
    at: z.string().describe('When this reading was taken'),
    policy: z.object({ version: z.number().int(), priority: TicketPriority, customerLevel: z.string().nullable(), firstResponseHours: z.number(), resolutionHours: z.number(), warnAt: z.number() }),
    calendar: z.object({ version: z.number().int(), timeZone: z.string() }),
    clocks: z.array(ClockView),
    segments: z.array(z.object({ from: z.string(), to: z.string(), kind: z.enum(['running', 'paused', 'outside_hours', 'stopped']) })).describe('The resolution clock from opening until now'),
    recorded: SlaView.describe('The SLA as the ticket last recorded it (targets set, warnings and breaches on time)'),
  })
  .meta({ id: 'TicketSlaExplanation' });

const publicTags = ['Public links 对外链接'];
const TokenParams = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{40,600}$/, 'Expected a link token') });
const SURVEY_QUESTION = { 'zh-CN': '您对本次服务满意吗？请打分（1 分很不满意，5 分非常满意）', en: 'How satisfied are you with our service? (1 very dissatisfied – 5 very satisfied)' };
const PublicSurvey = z
  .object({
    ticketNumber: z.string(),
    subject: z.string(),
    question: z.object({ 'zh-CN': z.string(), en: z.string() }),
    scale: z.object({ min: z.literal(1), max: z.literal(5) }),
    answered: z.boolean(),
    expiresAt: z.string(),
  })
  .meta({ id: 'PublicSurvey' });

const ServiceReportQuery = z
  .object({
    from: z.iso.date().describe("First day (in the company's time zone), inclusive"),
    to: z.iso.date().describe("Last day (in the company's time zone), exclusive"),
    groupBy: z.enum(['engineer', 'customer', 'type']).default('engineer'),
    departmentId: Id.optional().describe('Only the engineers of this department and below (within your scope)'),
  })
  .strict()
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] });

const minutes = (ms: number) => Math.floor(ms / 60_000);
const inScope = (resource: ResourceName) => (services: Parameters<PanelLoader>[0], actor: Parameters<PanelLoader>[1], id: string) => recordVisible(services.deps, actor, specOf(resource), id);

/** The tickets panel of a customer, contact or order: the newest first, in the caller's scope. */
export const ticketsPanel =
  (field: 'customerId' | 'contactId' | 'orderId'): PanelLoader =>
  async (services, actor, id, limit) => {
    if (!isAllowed(actor, 'tickets', 'view')) return null;
    const collection = services.readStore.collection('tickets');
    const filter = withinScope(readFilter(actor, readScopeOf(specOf('tickets'))), { [field]: id });
    const items = await collection.find(filter, { sort: { number: -1, _id: 1 }, limit });
    return { items: items.map((doc) => publicView(doc)), total: await collection.countDocuments(filter) };
  };

/** A customer's open complaints the actor may see, newest first (its record shows them). */
export async function openComplaints(store: ReadStore, actor: Actor, customerId: string) {
  const filter = withinScope(readFilter(actor, readScopeOf(specOf('tickets'))), { customerId, type: 'complaint', status: { $in: [...ACTIVE_TICKET_STATUSES] } });
  const docs = await store.collection<Doc & { number: string; subject: string; priority: string; status: string }>('tickets').find(filter, { sort: { number: -1, _id: 1 }, limit: 50 });
  return docs.map((doc) => ({ id: doc._id, number: doc.number, subject: doc.subject, priority: doc.priority, status: doc.status }));
}

const types = kindRoutes({
  kinds: ticketTypes,
  module: 'tickets',
  tags,
  offeredPath: '/api/v1/tickets/types',
  settingsPath: '/api/v1/settings/ticket-types',
  what: { one: 'type', many: 'ticket types', record: 'a ticket', builtIn: 'consultation, complaint, repair, return, other' },
});

/** Service tickets (服务工单): SLA clocks on a business calendar, queues, notes and replies, work logged. */
export const ticketRoutes: AnyRoute[] = [
  types.offered,
  ...recordRoutes<TicketState>({
    resource: 'tickets',
    view: TicketView,
    pageSchemaId: 'TicketPage',
    columns: fieldColumns('id', 'number', 'type', 'channel', 'priority', 'status', 'customerId', 'subject', 'assigneeId', 'queueId', 'reopenCount', 'workMinutes', 'createdAt', 'updatedAt'),
    asOfView: (state) => (state.status === 'none' ? {} : ticketView(state)),
    create: {
      summary: 'Open a ticket for a customer (numbered SR-<year>-<6 digits>); optionally straight to an engineer or a queue',
      description: 'type: a built-in type or one an administrator added (GET /api/v1/tickets/types). The SLA targets follow the priority and the customer level (PUT /api/v1/settings/sla).',
      body: TicketInput,
      answer: { number: z.string() },
      run: ({ body, actor, services, meta }) => openTicket(services.deps, body as never, actor, meta),
    },
    patch: {
      summary: 'Change a ticket (its customer stays; a new priority moves its SLA targets)',
      fields: TicketFields,
      schemaId: 'TicketPatch',
      run: ({ params, body, actor, services, meta }) => changeTicket(services.deps, params.id, body, actor, meta),
    },
    actions: [
      recordAction({
        action: 'assign',
        summary: 'Assign (or reassign) the ticket to an engineer or a service queue (a department)',
        body: Assignment,
        bodyNamesFields: false,
        permission: 'assign',
        writes: ['assigneeId', 'queueId', 'status'],
        done: 'Assigned',
        run: ({ params, body, actor, services, meta }) => assignTicket(services.deps, params.id, body, actor, meta),
      }),
      recordAction({ action: 'start', summary: 'Start work (or resume after waiting for the customer); an unassigned ticket becomes yours', body: EmptyBody, done: 'Started', run: ({ params, actor, services, meta }) => startTicket(services.deps, params.id, actor, meta) }),
      recordAction({
        action: 'wait',
        summary: 'Wait for the customer: the SLA clocks pause until work starts again',
        body: z.object({ note: z.string().trim().min(1).max(2000).optional() }).strict(),
        bodyNamesFields: false,
        done: 'Waiting',
        run: ({ params, body, actor, services, meta }) => waitOnCustomer(services.deps, params.id, body.note, actor, meta),
      }),
      recordAction({
        action: 'resolve',
        summary: 'Resolve the ticket (stops the SLA clocks)',
        body: z.object({ resolution: z.string().trim().min(1).max(4000) }).strict(),
        writes: ['status'],
        done: 'Resolved',
        run: ({ params, body, actor, services, meta }) => resolveTicket(services.deps, params.id, body.resolution, actor, meta),
      }),
      recordAction({
        action: 'close',
        summary: 'Close a resolved ticket: answers the satisfaction survey link (surveyUrl), also mailed to the contact when the ticket names one with an address',
        description: `The survey is answered once, without an account, through the link (1–5 and a comment) within ${SURVEY_VALID_DAYS} days. A ticket closed already answers its survey link again.`,
        body: EmptyBody,
        answer: { surveyUrl: z.string(), surveyExpiresAt: z.string(), surveyMailed: z.boolean().describe('Whether the link was mailed to the contact') },
        done: 'Closed',
        async run({ params, actor, services, meta }) {
          const closed = await closeTicket(linkDeps(services), params.id, actor, meta);
          let surveyMailed = false;
          if (closed.changed) {
            try {
              surveyMailed = await mailSurvey(services.deps, services.mailer, closed.state, closed.surveyUrl);
            } catch (error) {
              services.logger.warn('the survey link could not be mailed; it is in the answer', { ticketId: params.id, error: (error as Error).message });
            }
          }
          return { ...closed, surveyMailed };
        },
      }),
      recordAction({
        action: 'reopen',
        summary: 'Reopen a resolved or closed ticket (counted; the resolution clock goes on from where it stopped)',
        body: z.object({ reason: z.string().trim().min(1).max(2000) }).strict(),
        bodyNamesFields: false,
        writes: ['status', 'reopenCount'],
        done: 'Reopened',
        run: ({ params, body, actor, services, meta }) => reopenTicket(services.deps, params.id, body.reason, actor, meta),
      }),
      recordAction({
        action: 'notes',
        summary: 'Add an internal note or a reply the customer sees (a reply is a first response)',
        body: z.object({ text: z.string().trim().min(1).max(8000), visibility: z.enum(['internal', 'customer']).default('internal') }).strict(),
        bodyNamesFields: false,
        writes: ['notes'],
        answer: { noteId: z.string() },
        done: 'Added',
        run: ({ params, body, actor, services, meta }) => addTicketNote(services.deps, params.id, body, actor, meta),
      }),
      recordAction({
        action: 'work',
        summary: 'Log work on the ticket (服务工作量): minutes and kind (remote, on_site, travel), on a day (default today)',
        body: z.object({ minutes: z.number().int().min(1).max(1440), kind: WorkKind, on: z.iso.date().optional(), note: z.string().trim().min(1).max(2000).optional() }).strict(),
        bodyNamesFields: false,
        writes: ['workMinutes'],
        answer: { entryId: z.string() },
        done: 'Logged',
        run: ({ params, body, actor, services, meta }) => logTicketWork(services.deps, params.id, body, actor, meta),
      }),
    ],
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/tickets/:id/sla',
    reads: [],
    summary: "A ticket's SLA explained: its clocks now, the segments they ran, paused or stood outside business hours, with the policy and calendar versions used",
    tags,
    permission: ['tickets', 'view'],
    params: IdParams,
    responses: { 200: { description: 'The explanation', schema: SlaExplanation }, ...commonErrors, ...notFoundError },
    async handler({ params, actor, services }) {
      const loaded = await recordInScope<TicketState>(services, actor, 'tickets', params.id);
      const ticket = loaded.state as OpenTicket;
      const sla = await slaContext(services.deps);
      const target = targetFor(sla.policies, ticket.fields.priority, ticket.customerLevel);
      const time = { calendar: sla.calendar, timeZone: sla.timeZone };
      const now = services.clock.now().getTime();
      const readings = SLA_CLOCKS.map((clock) => readClock(ticket.marks, clock, clock === 'first_response' ? target.firstResponseHours : target.resolutionHours, sla.policies.warnAt, time, now));
      const body = {
        ticketId: params.id,
        state: slaState(readings, sla.policies.warnAt),
        at: new Date(now).toISOString(),
        policy: { version: sla.policyVersion, priority: ticket.fields.priority, customerLevel: ticket.customerLevel, firstResponseHours: target.firstResponseHours, resolutionHours: target.resolutionHours, warnAt: sla.policies.warnAt },
        calendar: { version: sla.calendarVersion, timeZone: sla.timeZone },
        clocks: readings.map((reading) => ({
          clock: reading.clock,
          state: reading.stopped ? ('stopped' as const) : reading.paused ? ('paused' as const) : ('running' as const),
          targetMinutes: minutes(reading.targetMs),
          elapsedMinutes: minutes(reading.elapsedMs),
          remainingMinutes: Math.ceil(reading.remainingMs / 60_000),
          dueAt: reading.dueAt,
          warnAt: reading.warnAt,
          outcome: reading.stopped ? (reading.elapsedMs > reading.targetMs ? ('breached' as const) : ('met' as const)) : reading.elapsedMs >= reading.targetMs ? ('breached' as const) : ('pending' as const),
        })),
        segments: clockSegments(ticket.marks, time, now),
        recorded: ticketView(ticket).sla,
      };
      return { status: 200, body };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/public/surveys/:token',
    auth: false,
    reads: [],
    summary: 'A satisfaction survey, as the customer sees it (no account; the link is the key)',
    description: 'Shows only the ticket number and subject. An altered or unknown link answers 404 public_link.not_found; a survey replaced by a newer one 410 survey.superseded; an expired one 410 survey.expired.',
    tags: publicTags,
    params: TokenParams,
    responses: { 200: { description: 'The survey', schema: PublicSurvey }, ...commonErrors, ...notFoundError, ...goneError },
    async handler({ params, services }) {
      const { ticket } = await openSurvey(linkDeps(services), params.token);
      const survey = ticket.survey!;
      if (!survey.answeredAt && services.clock.now().toISOString() >= survey.expiresAt) throw new DomainError('survey.expired', `This survey could be answered until ${survey.expiresAt}`, { expiresAt: survey.expiresAt });
      return { status: 200, body: { ticketNumber: ticket.number, subject: ticket.fields.subject, question: SURVEY_QUESTION, scale: { min: 1, max: 5 }, answered: Boolean(survey.answeredAt), expiresAt: survey.expiresAt } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/public/surveys/:token',
    auth: false,
    summary: 'Answer a satisfaction survey once: a score from 1 to 5 and an optional comment',
    description: 'A second answer is refused (409 survey.already_answered), as are expired (410 survey.expired), replaced (410 survey.superseded) and altered links (404).',
    tags: publicTags,
    params: TokenParams,
    body: z.object({ score: z.number().int().min(1).max(5), comment: z.string().trim().min(1).max(2000).optional() }).strict().meta({ id: 'SurveyAnswer' }),
    responses: { 201: { description: 'Thank you', schema: z.object({ ticketNumber: z.string(), thanks: z.object({ 'zh-CN': z.string(), en: z.string() }) }) }, ...commonErrors, ...notFoundError, ...conflictError, ...goneError },
    async handler({ params, body, services, meta }) {
      const result = await answerSurvey(linkDeps(services), params.token, body, meta);
      return { status: 201, body: { ticketNumber: result.ticketNumber, thanks: { 'zh-CN': '感谢您的评价！', en: 'Thank you for your feedback!' } }, headers: { 'X-Position': String(result.position) } };
    },
  }),
  reportRoute({
    name: 'service',
    summary: 'Service workload (服务工作量) in [from, to) by engineer, customer or ticket type: tickets handled, resolved, reopened, minutes logged, SLA met %, average satisfaction; by customer, complaints and the satisfaction trend',
    answer: 'The service report',
    reads: [SERVICE_BY_ENGINEER, SERVICE_BY_CUSTOMER, SERVICE_BY_TYPE],
    query: ServiceReportQuery,
    async compute(query, actor, services) {
      const engineers = await reportScope(services, actor, query);
      const customers = engineers === null || query.groupBy !== 'customer' ? null : (await services.readStore.collection('customers').find({ ownerId: { $in: engineers } }, { projection: { _id: 1 } })).map((doc) => doc._id);
      return serviceReport(services.readStore, query, { engineers, customers });
    },
  }),
  relatedRoute('contacts', inScope('contacts'), { tickets: ticketsPanel('contactId') }),
  relatedRoute('orders', inScope('orders'), { tickets: ticketsPanel('orderId') }),
  ...settingRoutes({
    path: '/api/v1/settings/sla',
    tags,
    schema: SlaPolicies,
    read: { summary: 'The SLA policies: first response and resolution targets in business hours per priority and customer level, and the warning share', done: 'The policies' },
    write: {
      summary: "Change the SLA policies: every open ticket's targets are recomputed from its events",
      description: 'Each priority needs a target for any customer level; a level of its own overrides it. warnAt (0–1, e.g. 0.8) is the share of a target after which a ticket is at risk (SlaWarning).',
      done: 'Saved',
      conditional: true,
    },
    load: slaPolicies,
    save: ({ body, actor, services, meta }) => putSlaPolicies(services.deps, body, actor, meta),
  }),
  ...settingRoutes({
    path: '/api/v1/settings/business-calendar',
    tags,
    schema: BusinessCalendar,
    read: { summary: 'The business calendar the SLA clocks run on (working weekdays and hours, holidays, make-up working days 调休), in the company time zone', done: 'The calendar' },
    write: { summary: "Change the business calendar: every open ticket's targets are recomputed, pauses kept", done: 'Saved', conditional: true },
    load: businessCalendar,
    save: ({ body, actor, services, meta }) => putBusinessCalendar(services.deps, body, actor, meta),
  }),
  ...types.settings,
];

