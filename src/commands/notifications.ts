import { type Label, notificationDecider, notificationStream } from '../domain/notification/index.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { execute } from './pipeline.ts';

export interface NotificationInput {
  recipientId: string;
  kind: string;
  title: Label;
  body?: Label;
  subject?: { resource: string; id: string };
}

/**
 * Tells someone something. Modules call this; it is idempotent per request (a process manager or a timer that
 * retries with the same request facts notifies once).
 */
export async function notify(deps: CommandDeps, input: NotificationInput, actor: Actor, meta: RequestMeta): Promise<{ notificationId: string; position: bigint; sent: boolean }> {
  const notificationId = meta.ids.newId();
  const result = await execute(deps, notificationDecider, notificationStream(input.recipientId), { type: 'SendNotification', notificationId, ...input }, actor, meta);
  // `sent` is false for a retry that found the notification written already.
  return { notificationId, position: result.position, sent: result.changed };
}

/** Marks one of the actor's own notifications read (someone else's answers notification.not_found). */
export const markNotificationRead = (deps: CommandDeps, notificationId: string, actor: Actor, meta: RequestMeta) =>
  execute(deps, notificationDecider, notificationStream(actor.userId), { type: 'MarkNotificationRead', recipientId: actor.userId, notificationId }, actor, meta);
