import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { markNotificationRead } from '../../commands/notifications.ts';
import type { RecordedEvent } from '../../infra/eventstore/port.ts';
import type { NotificationEvent } from '../../domain/notification/index.ts';
import { NOTIFICATIONS, type NotificationDoc, sentView } from '../../projections/notifications.ts';
import { HttpProblem } from '../problem.ts';
import { commonErrors, recordWriteErrors } from '../responses.ts';
import { type AnyRoute, defineRoute, IdParams } from '../route.ts';

const tags = ['Notifications 通知'];
const Label = z.object({ 'zh-CN': z.string(), en: z.string() });
const NotificationView = z
  .object({
    id: z.string(),
    kind: z.string().describe('What happened, e.g. handover.received'),
    title: Label,
    body: Label.optional(),
    subject: z.object({ resource: z.string(), id: z.string() }).optional().describe('The record it is about'),
    createdAt: z.string(),
    readAt: z.string().nullable(),
    seq: z.number().int().describe('Its place in your feed: the SSE event id'),
  })
  .meta({ id: 'Notification' });
const view = (doc: NotificationDoc) => {
  const { _id, _position, recipientId: _recipient, ...rest } = doc;
  return rest;
};
/** Seconds between keep-alive comments on an open feed, so proxies do not close an idle one. */
const KEEP_ALIVE_MS = 15_000;

export const notificationRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/me/notifications',
    reads: [NOTIFICATIONS],
    summary: 'Your notifications, newest first, with how many are unread',
    tags,
    query: z
      .object({
        unread: z.enum(['true', 'false']).transform((v) => v === 'true').optional().describe('Only the unread ones'),
        before: z.coerce.number().int().min(0).optional().describe('Page: the seq of the last item of the previous page'),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      })
      .strict(),
    responses: { 200: { description: 'A page', schema: z.object({ items: z.array(NotificationView), unread: z.number().int(), nextBefore: z.number().int().nullable() }) }, ...commonErrors },
    async handler({ query, actor, services }) {
      const docs = services.readStore.collection<NotificationDoc>(NOTIFICATIONS);
      const filter = { recipientId: actor.userId, ...(query.unread ? { readAt: null } : {}), ...(query.before !== undefined ? { seq: { $lt: query.before } } : {}) };
      const page = await docs.find(filter, { sort: { seq: -1 }, limit: query.limit + 1 });
      const items = page.slice(0, query.limit);
      const unread = await docs.countDocuments({ recipientId: actor.userId, readAt: null });
      return { status: 200, body: { items: items.map(view), unread, nextBefore: page.length > query.limit ? items[items.length - 1]!.seq : null } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/me/notifications/:id/read',
    summary: 'Mark one of your notifications read',
    tags,
    params: IdParams,
    responses: { 200: { description: 'Read', schema: z.object({ id: z.string(), read: z.literal(true) }) }, ...recordWriteErrors },
    async handler({ params, actor, services, meta }) {
      const result = await markNotificationRead(services.deps, params.id, actor, meta);
      return { status: 200, body: { id: params.id, read: true as const }, headers: { 'X-Position': String(result.position) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/me/notifications/stream',
    reads: [],
    summary: 'Your notifications live, as Server-Sent Events; resumable with Last-Event-ID',
    description:
      'text/event-stream. Each notification is an event `notification` (data: the notification as JSON), a notification read elsewhere an event `read` (data: {"id"}); the event id is its seq. Reconnect with `Last-Event-ID: <seq>` to receive what you missed, then live ones. A comment line keeps the connection alive every 15 s. Needs the bearer token in the Authorization header (a fetch-based EventSource client).',
    tags,
    responses: { 200: { description: 'An event stream (text/event-stream)' }, ...commonErrors },
    async handler({ actor, services, koa }) {
      const given = koa.get('Last-Event-ID');
      if (given !== '' && !/^\d{1,15}$/.test(given)) throw new HttpProblem(400, 'validation', 'Invalid request', 'Last-Event-ID must be the seq of a notification (a whole number)', { errors: [{ path: 'header.Last-Event-ID', message: 'Expected a whole number' }] });
      const stream = new PassThrough();
      stream.write('retry: 5000\n\n');
      const send = (event: RecordedEvent) => {
        const sent = event as RecordedEvent & NotificationEvent;
        const body = sent.type === 'NotificationSent' ? sentView(sent) : { id: sent.data.notificationId };
        stream.write(`id: ${event.revision}\nevent: ${event.type === 'NotificationSent' ? 'notification' : 'read'}\ndata: ${JSON.stringify(body)}\n\n`);
      };
      const stop = await services.notifications.follow(actor.userId, given === '' ? undefined : BigInt(given), send);
      const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
      keepAlive.unref();
      stream.on('close', () => {
        clearInterval(keepAlive);
        stop();
      });
      return { status: 200, body: stream, headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' } };
    },
  }),
];
