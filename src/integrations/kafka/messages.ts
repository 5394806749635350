import { auditAnchorCategory, publishedCategories } from '../../domain/categories.ts';
import { AUDIT_ANCHOR_TOPIC } from '../../domain/audit/index.ts';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { categoryOf, type EventMetadata, type RecordedEvent } from '../../infra/eventstore/port.ts';

/**
 * The categories published to Kafka: business records. Internal streams (logins, idempotency keys,
 * reservations, counters, settings, custom-field definitions, roles) stay inside the service.
 */
export const PUBLISHED_CATEGORIES = publishedCategories;

/** Topics not named `crm.<category>`. */
const TOPIC_NAMES: Readonly<Record<string, string>> = { [auditAnchorCategory]: AUDIT_ANCHOR_TOPIC };

export const topicFor = (category: string): string => TOPIC_NAMES[category] ?? `crm.${category}`;

/** Header names every published message carries. */
export const HEADERS = {
  eventType: 'event-type',
  eventId: 'event-id',
  position: 'global-position',
  correlationId: 'correlation-id',
  contentType: 'content-type',
  /** W3C Trace Context: the trace of the request that wrote the event (a span per event, named by its id). */
  traceparent: 'traceparent',
} as const;

/** Keys never published, wherever they appear in an event's data (an employee's password hash). */
const SECRET_KEYS = new Set(['passwordHash', 'password']);

const withoutSecrets = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !SECRET_KEYS.has(key)).map(([key, v]) => [key, withoutSecrets(v)]));
};

/** The wire form of an event: JSON, with revision and position as decimal strings (they are 64-bit). */
export interface PublishedEvent {
  id: string;
  streamId: string;
  revision: string;
  position: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

/** Key = stream id, so one record's events keep their order in one partition. */
export function toMessage(event: RecordedEvent): Message {
  const value: PublishedEvent = {
    id: event.id,
    streamId: event.streamId,
    revision: event.revision.toString(),
    position: event.position.toString(),
    type: event.type,
    data: withoutSecrets(event.data),
    metadata: event.metadata,
  };
  return {
    key: event.streamId,
    value: JSON.stringify(value),
    headers: {
      [HEADERS.eventType]: event.type,
      [HEADERS.eventId]: event.id,
      [HEADERS.position]: event.position.toString(),
      [HEADERS.correlationId]: event.metadata.correlationId,
      [HEADERS.contentType]: 'application/json',
      ...(event.metadata.traceId ? { [HEADERS.traceparent]: `00-${event.metadata.traceId}-${event.id.replaceAll('-', '').slice(-16)}-01` } : {}),
    },
  };
}

export function fromMessage(message: KafkaMessage): RecordedEvent {
  if (!message.value) throw new Error(`Kafka message at offset ${message.offset} has no value`);
  const wire = JSON.parse(message.value.toString('utf8')) as PublishedEvent;
  return { ...wire, revision: BigInt(wire.revision), position: BigInt(wire.position) };
}

export const headerText = (headers: IHeaders | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined ? undefined : one.toString();
};

export const isPublished = (event: RecordedEvent): boolean => (PUBLISHED_CATEGORIES as readonly string[]).includes(categoryOf(event.streamId));
