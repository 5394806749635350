import { type NotificationEvent, notificationCategory } from '../domain/notification/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { alreadyApplied, type Projection } from './projection.ts';

export const NOTIFICATIONS = 'notifications';

export type NotificationDoc = {
  _id: string;
  id: string;
  recipientId: string;
  kind: string;
  title: { 'zh-CN': string; en: string };
  body?: { 'zh-CN': string; en: string };
  subject?: { resource: string; id: string };
  createdAt: string;
  readAt: string | null;
  /** Its revision in the recipient's stream: the SSE event id a client resumes from. */
  seq: number;
  _position: number;
};

/** A sent notification as clients see it: the list and the live feed answer the same shape. */
export function sentView(event: RecordedEvent & Extract<NotificationEvent, { type: 'NotificationSent' }>) {
  const { notificationId, kind, title, body, subject } = event.data;
  return { id: notificationId, kind, title, ...(body ? { body } : {}), ...(subject ? { subject } : {}), createdAt: event.metadata.at, readAt: null, seq: Number(event.revision) };
}

/** Each person's notifications, newest first, with what they have read. */
export const notificationsProjection: Projection = {
  name: 'notifications',
  version: 1,
  categories: [notificationCategory],
  collections: [NOTIFICATIONS],
  async setup(store: ReadStore) {
    await store.collection(NOTIFICATIONS).createIndex({ recipientId: 1 });
  },
  async apply(recorded: RecordedEvent, store: ReadStore) {
    const event = recorded as RecordedEvent & NotificationEvent;
    const docs = store.collection<NotificationDoc>(NOTIFICATIONS);
    const current = await docs.findOne({ _id: event.data.notificationId });
    if (alreadyApplied(current, recorded)) return;
    if (event.type === 'NotificationSent') {
      const { notificationId, recipientId } = event.data;
      await docs.replaceOne({ _id: notificationId }, { _id: notificationId, recipientId, ...sentView(event), _position: Number(recorded.position) }, { upsert: true });
    } else if (current) await docs.updateOne({ _id: current._id }, { $set: { readAt: recorded.metadata.at, _position: Number(recorded.position) } });
  },
};
