import { z } from 'zod';
import { DomainError } from '../shared/errors.ts';

/** A user-facing text in both languages. */
export const Label = z.object({ 'zh-CN': z.string().min(1).max(500), en: z.string().min(1).max(500) });
export type Label = z.infer<typeof Label>;

/**
 * A notification (通知) to one person: a reminder due, a record handed to them, an approval waiting. Each
 * person's notifications are one stream, `notification-<employeeId>`, so they arrive in order and a client
 * resumes a live feed from the last revision it saw.
 */
export const NotificationSent = z.object({
  notificationId: z.string(),
  recipientId: z.string(),
  /** What happened, machine-readable: `handover.received`, `task.due`, … */
  kind: z.string().min(1).max(80),
  title: Label,
  body: Label.optional(),
  /** The record it is about, to open it. */
  subject: z.object({ resource: z.string(), id: z.string() }).optional(),
});
export const NotificationRead = z.object({ notificationId: z.string(), recipientId: z.string() });

export type NotificationEvent = { type: 'NotificationSent'; data: z.infer<typeof NotificationSent> } | { type: 'NotificationRead'; data: z.infer<typeof NotificationRead> };
export type NotificationState = { sent: Record<string, { read: boolean }> };
export type NotificationCommand =
  | ({ type: 'SendNotification' } & z.infer<typeof NotificationSent>)
  | { type: 'MarkNotificationRead'; recipientId: string; notificationId: string };

export const initialState: NotificationState = { sent: {} };

export function evolve(state: NotificationState, event: NotificationEvent): NotificationState {
  if (event.type === 'NotificationSent') return { sent: { ...state.sent, [event.data.notificationId]: { read: false } } };
  return { sent: { ...state.sent, [event.data.notificationId]: { read: true } } };
}

export function decide(command: NotificationCommand, state: NotificationState): NotificationEvent[] {
  if (command.type === 'SendNotification') {
    const { type: _type, ...data } = command;
    return state.sent[data.notificationId] ? [] : [{ type: 'NotificationSent', data }];
  }
  const known = state.sent[command.notificationId];
  if (!known) throw new DomainError('notification.not_found', `Notification ${command.notificationId} does not exist`, { notificationId: command.notificationId });
  return known.read ? [] : [{ type: 'NotificationRead', data: { notificationId: command.notificationId, recipientId: command.recipientId } }];
}

export const notificationDecider = { initialState, evolve, decide };
export const notificationCategory = 'notification';
export const notificationStream = (recipientId: string) => `${notificationCategory}-${recipientId}`;
