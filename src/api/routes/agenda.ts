import { z } from 'zod';
import { actorOf } from '../../commands/access.ts';
import { isAllowed } from '../../commands/authorization.ts';
import { issuePublicLink, openPublicLink, publicLink, revokePublicLink } from '../../commands/public-links.ts';
import { readSetting, writeSetting } from '../../commands/settings.ts';
import { localDate } from '../../domain/company/index.ts';
import type { Agenda } from '../../projections/agenda.ts';
import { agendaOf } from '../../projections/agenda.ts';
import { companyZone } from '../../projections/company.ts';
import { notFound } from '../history.ts';
import { commonErrors, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute, EmptyBody, type RouteServices } from '../route.ts';
import { calendar } from '../icalendar.ts';

const tags = ['Agenda 今日待办'];
const FEED_PURPOSE = 'calendar';
const FEED_PATH = '/api/v1/public/calendar';
/** A calendar app keeps a subscription for years: the feed link lasts until it is rotated. */
const FEED_VALID_MS = 5 * 365 * 86_400_000;
const feedKey = (userId: string) => `agenda-feed:${userId}`;
const publicUrl = (services: RouteServices) => services.config.CRM_PUBLIC_URL ?? `http://localhost:${services.config.PORT}`;

const Task = z.object({ id: z.string(), subject: z.string(), dueAt: z.string(), remindAt: z.string().optional(), priority: z.string(), customerId: z.string().optional(), activityId: z.string().optional(), overdue: z.boolean() });
const AgendaView = z
  .object({
    date: z.string(),
    timeZone: z.string(),
    planItems: z.array(z.object({ planId: z.string(), period: z.enum(['day', 'week']), itemId: z.string(), text: z.string(), status: z.string() })),
    tasks: z.array(Task).describe('Open tasks due today or overdue (soonest first)'),
    nextSteps: z.array(Task).describe("Activities' next steps due today or overdue"),
    care: z.object({
      birthdays: z.array(z.object({ contactId: z.string(), name: z.string(), customerId: z.string(), customerName: z.string(), birthday: z.string() })),
      orderAnniversaries: z.array(z.object({ customerId: z.string(), customerName: z.string(), firstOrderAt: z.string(), years: z.number().int() })),
    }),
    overdueOpportunities: z.array(z.object({ id: z.string(), name: z.string(), customerId: z.string(), stage: z.string(), expectedCloseDate: z.string(), amount: z.unknown() })),
  })
  .meta({ id: 'Agenda' });

/** What of the agenda the caller's permissions show: a part whose module they may not view is left empty. */
function permitted(agenda: Agenda, actor: Parameters<typeof isAllowed>[0]): Agenda {
  const may = (module: Parameters<typeof isAllowed>[1]) => isAllowed(actor, module, 'view');
  return {
    ...agenda,
    planItems: may('plans') ? agenda.planItems : [],
    tasks: may('tasks') ? agenda.tasks : [],
    nextSteps: may('tasks') ? agenda.nextSteps : [],
    care: { birthdays: may('contacts') ? agenda.care.birthdays : [], orderAnniversaries: may('orders') ? agenda.care.orderAnniversaries : [] },
    overdueOpportunities: may('opportunities') ? agenda.overdueOpportunities : [],
  };
}

export const agendaRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/me/agenda',
    reads: ['plans', 'tasks', 'contacts', 'orders', 'opportunities', 'customers'],
    summary: "Your day: plan items, tasks due and overdue, next steps, care reminders (birthdays, first-order anniversaries), opportunities past their close date",
    description: 'date: a day in the company time zone (default today). Each part shows only what your permissions let you view.',
    tags,
    query: z.object({ date: z.iso.date().optional() }),
    responses: { 200: { description: 'The agenda', schema: AgendaView }, ...commonErrors },
    async handler({ query, actor, services }) {
      const timeZone = await companyZone(services.readStore);
      const date = query.date ?? localDate(services.deps.clock.now(), timeZone);
      return { status: 200, body: permitted(await agendaOf(services.readStore, actor, date, timeZone), actor) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/me/agenda-feed',
    summary: 'Issue (or rotate) your calendar feed: a URL standard calendar apps subscribe to; the previous one stops working',
    description: 'The URL carries its own token (not your bearer token). Rotating it revokes the old one at once.',
    tags,
    body: EmptyBody,
    responses: { 201: { description: 'The feed URL', schema: z.object({ url: z.string(), expiresAt: z.string() }) }, ...commonErrors },
    async handler({ actor, services, meta }) {
      const { value: current } = await readSetting<{ linkId: string }>(services.deps, feedKey(actor.userId));
      if (current) {
        const link = await publicLink(services.deps, current.linkId);
        if (link.status === 'active') await revokePublicLink(services.deps, current.linkId, 'rotated', actor, meta);
      }
      const link = await issuePublicLink({ ...services.deps, keys: services.keys, publicUrl: publicUrl(services) }, { purpose: FEED_PURPOSE, path: FEED_PATH, subjectId: actor.userId, validForMs: FEED_VALID_MS }, actor, meta);
      const saved = await writeSetting(services.deps, feedKey(actor.userId), { linkId: link.linkId }, actor, meta);
      return { status: 201, body: { url: link.url, expiresAt: link.expiresAt }, headers: { 'X-Position': String(saved.position > link.position ? saved.position : link.position) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: `${FEED_PATH}/:feedToken`,
    auth: false,
    reads: [],
    summary: 'A personal calendar feed (iCalendar): open tasks with their reminders, and open opportunities by expected close date',
    description: 'No account: the token in the path is the key. A rotated, altered or expired token, or a disabled employee, answers 404.',
    tags,
    params: z.object({ feedToken: z.string().regex(/^[A-Za-z0-9_-]{40,600}$/, 'Expected a feed token') }),
    responses: { 200: { description: 'text/calendar' }, ...notFoundError },
    async handler({ params, services }) {
      const opened = await openPublicLink({ ...services.deps, keys: services.keys }, FEED_PURPOSE, params.feedToken);
      const actor = await actorOf(services.deps, opened.subjectId);
      if (!actor) throw notFound('public_link', opened.linkId);
      const now = services.deps.clock.now();
      const from = new Date(now.getTime() - 30 * 86_400_000).toISOString();
      const until = new Date(now.getTime() + 90 * 86_400_000).toISOString();
      const tasks = isAllowed(actor, 'tasks', 'view') ? await services.readStore.collection<Record<string, unknown> & { _id: string }>('tasks').find({ ownerId: actor.userId, status: 'open', dueAt: { $gte: from, $lt: until } }, { sort: { dueAt: 1, _id: 1 } }) : [];
      const deals = isAllowed(actor, 'opportunities', 'view') ? await services.readStore.collection<Record<string, unknown> & { _id: string }>('opportunities').find({ ownerId: actor.userId, status: 'open', expectedCloseDate: { $gte: from.slice(0, 10), $lt: until.slice(0, 10) } }) : [];
      const body = calendar(now, [
        ...tasks.map((task) => ({ uid: `task-${task._id}@crm`, summary: `任务 Task: ${String(task.subject)}`, at: String(task.dueAt), minutes: 30, ...(task.remindAt ? { alarmAt: String(task.remindAt) } : {}), ...(task.notes ? { description: String(task.notes) } : {}) })),
        ...deals.map((deal) => ({ uid: `opportunity-${deal._id}@crm`, summary: `预计成交 Expected close: ${String(deal.name)}`, day: String(deal.expectedCloseDate) })),
      ]);
      return { status: 200, body, headers: { 'Content-Type': 'text/calendar; charset=utf-8', 'Cache-Control': 'private, max-age=300' } };
    },
  }),
];
