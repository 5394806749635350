import type { RecordedEvent } from '../infra/eventstore/port.ts';

/**
 * Where integration consumers (the ERP bridge, marketing) get events from: Kafka consumer groups in
 * production, the event log itself in the embedded default. Delivery is at least once and in order per
 * stream; a handler must be idempotent by event id (see `onceByEventId`). A handler that throws gets the
 * same event again after a pause; nothing after it is acknowledged first.
 */
export type EventHandler = (event: RecordedEvent) => Promise<void>;

export interface EventConsumer {
  close(): Promise<void>;
}

export interface EventSource {
  /** Starts a named consumer (a consumer group in Kafka) for the given event categories. */
  consume(group: string, categories: readonly string[], handler: EventHandler): Promise<EventConsumer>;
  /**
   * How far behind each consumer this process runs is (metrics): Kafka, the messages past the group's committed
   * offsets; the event log, the log positions past its checkpoint.
   */
  lag(): Promise<{ group: string; events: number }[]>;
}
