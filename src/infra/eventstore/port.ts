/**
 * The event store port. Mirrors EventStoreDB's model (streams with revisions, a global log with positions,
 * expected revisions) so that the EventStoreDB adapter stays thin.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface EventMetadata {
  actor: string;
  at: string;
  correlationId: string;
  causationId?: string;
  /** Identifies the request that produced the event; a retried request carries the same id. */
  requestId?: string;
  /** The W3C trace the request belonged to (its `traceparent` trace-id, or one the service began), 32 hex digits. */
  traceId?: string;
  /** The fencing token of the leading worker whose scheduler wrote it (a timer's firing), so a deposed leader's writes show. */
  fence?: number;
  /** The bulk operation it belongs to (`batch-<id>` tells who started it, what it was, how it ended). */
  batchId?: string;
  /** An undo's events: the batch whose effects they revert. */
  undoes?: string;
  /** A forced undo over later changes to the record (the read models keep what the undo's events themselves change). */
  undoForced?: boolean;
  schemaVersion: number;
  /**
   * The personal values the event's data holds, sealed (encrypted) under each data subject's key: JSON pointers
   * into `data` (see infra/personal-data/sealing.ts). Written by the store on append, never by a decider.
   */
  personal?: { subjectId: string; pointers: string[] }[];
}

export interface EventToAppend {
  /**
   * A UUID; appending an event whose id is already stored is a no-op (idempotent retry). At an exact expected
   * revision every adapter recognises it; at `any` or `stream_exists` the SQLite store always does, the
   * EventStoreDB adapter while the event is among the stream's last 64 (see KurrentEventStore).
   */
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

export interface RecordedEvent {
  id: string;
  streamId: string;
  /** Position in its stream, from 0. */
  revision: bigint;
  /** Position in the global log; strictly increasing in append order. */
  position: bigint;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

export interface AppendResult {
  /** The stream's revision after the append (the revision of its last event). */
  nextExpectedRevision: bigint;
  /** Global position of the last appended event. */
  position: bigint;
}

export interface EventFilter {
  /** Stream categories: the part of the stream name before the first '-'. */
  categories?: readonly string[];
  eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  /** Read events strictly after this position; omitted: from the start. */
  after?: bigint;
  filter?: EventFilter;
  maxCount?: number;
}

export interface ReadStreamOptions {
  fromRevision?: bigint;
  maxCount?: number;
}

export interface SubscriptionHandlers {
  onEvent(event: RecordedEvent): Promise<void> | void;
  /**
   * Called when the subscription has seen the log up to `position` (including events its filter skipped),
   * so a filtered reader can still report how far it has read.
   */
  onCheckpoint?(position: bigint): Promise<void> | void;
  onError?(error: unknown): void;
}

export interface Subscription {
  close(): Promise<void>;
}

/** One stream's part of an atomic append across streams. */
export interface StreamWrite {
  streamId: string;
  events: readonly EventToAppend[];
  expected: ExpectedRevision;
}

export interface EventStore {
  append(streamId: string, events: readonly EventToAppend[], expectedRevision: ExpectedRevision): Promise<AppendResult>;
  /**
   * Appends to several streams at once, all or nothing, each write checked against its own expected revision
   * (a WrongExpectedRevisionError names the stream that failed). Only a store that can (the embedded one, in one
   * SQLite transaction) has it; callers fall back to appending stream by stream.
   */
  appendAtomically?(writes: readonly StreamWrite[]): Promise<AppendResult[]>;
  /**
   * Retention: removes the events of a category appended before an instant (ISO-8601), except each stream's last
   * event, so a stream's revisions go on and it never looks new. Their links stay in the hash chain, marked
   * expired. Only a store that truncates has it (the embedded one); EventStoreDB keeps `$maxAge` per stream.
   */
  expire?(category: string, before: string): Promise<{ expired: number }>;
  /** All events of a stream in revision order; an empty array when the stream does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Calls `onAppend` after events are appended to the log, by this process at once, by others when noticed (a
   * poll), without reading them: a doorbell for a reader that reads in batches of its own (the Kafka relay). Calls
   * may be spurious and several appends may ring once. Only a store that can notice cheaply (the embedded one) has
   * it; others ring through a subscription.
   */
  watchAppends?(onAppend: () => void): Subscription;
  /** Catches up from `after`, then delivers new events live, one at a time, in log order. */
  subscribeToAll(options: { after?: bigint; filter?: EventFilter }, handlers: SubscriptionHandlers): Subscription;
  /** Position of the last event in the global log (0n when empty). */
  headPosition(): Promise<bigint>;
  /**
   * The position of the last event at or before `atOrBefore` that `filter` lets through (0n when there is none):
   * how far a reader with that filter must have read to have seen everything it would see up to `atOrBefore`. A
   * filtered subscription may report its progress past skipped events only now and then (EventStoreDB: once per
   * search window), so "caught up with p" is judged against this position, not against p itself. A position past
   * the head answers itself: the events still to be written up to it may be ones the filter lets through.
   */
  lastPositionMatching(filter: EventFilter, atOrBefore: bigint): Promise<bigint>;
  close(): Promise<void>;
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`Stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/** An event id was reused for a different event (another stream, revision or payload). */
export class EventIdConflictError extends Error {
  constructor(readonly eventId: string) {
    super(`Event id ${eventId} is already stored for another event`);
    this.name = 'EventIdConflictError';
  }
}

/** The event store cannot be reached right now; nothing was written. The API answers 503 with Retry-After. */
export class EventStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`The event store cannot be reached: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'EventStoreUnavailableError';
  }
}

/**
 * An append whose outcome is unknown: the store took too long to answer (a client deadline, a server commit
 * timeout), and the events may or may not have been written. A caller re-reads the stream to find out; the API
 * answers 503 (`event_store.outcome_unknown`) when it cannot.
 */
export class EventStoreOutcomeUnknownError extends Error {
  constructor(
    readonly streamId: string,
    cause: unknown,
  ) {
    super(`The append to ${streamId} timed out; it may or may not have been written: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'EventStoreOutcomeUnknownError';
  }
}

/** The events of one append are more than the store takes at once (EventStoreDB: MaxAppendSize). Nothing was written. */
export class AppendTooLargeError extends Error {
  constructor(
    readonly streamId: string,
    readonly maxBytes: number | undefined,
  ) {
    super(`The append to ${streamId} is larger than the event store takes${maxBytes ? ` (${maxBytes} bytes)` : ''}`);
    this.name = 'AppendTooLargeError';
  }
}

/** The stream was deleted (or tombstoned) in the event store: it can be neither read nor written. */
export class StreamDeletedError extends Error {
  constructor(readonly streamId: string) {
    super(`Stream ${streamId} was deleted`);
    this.name = 'StreamDeletedError';
  }
}

export const categoryOf = (streamId: string): string => {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
};
