import {
  type AllStreamResolvedEvent,
  type AppendStreamState,
  BACKWARDS,
  CancelledError,
  DeadlineExceededError,
  END,
  eventTypeFilter,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  type JSONType,
  KurrentDBClient,
  MaxAppendSizeExceededError,
  NotLeaderError,
  type Position,
  type ReadPosition,
  START,
  StreamDeletedError as ServerStreamDeletedError,
  StreamNotFoundError,
  StreamTombstonedError,
  streamNameFilter,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import {
  type AppendResult,
  AppendTooLargeError,
  categoryOf,
  type EventFilter,
  EventStoreOutcomeUnknownError,
  EventStoreUnavailableError,
  type EventMetadata,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  StreamDeletedError,
  type Subscription,
  type SubscriptionHandlers,
  WrongExpectedRevisionError,
} from './port.ts';
import { escapeRegex } from '../readstore/regex.ts';

/** What the adapter uses of the client (a test gives a stand-in that answers as the server documents). */
export type KurrentClient = Pick<KurrentDBClient, 'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'setStreamMetadata' | 'dispose'>;

export interface KurrentOptions {
  /**
   * Retention: per stream category, how long its events are kept (seconds). Each new stream of such a category
   * gets `$maxAge` in its metadata as it is created, and the server leaves its older events out of reads and
   * removes them when it scavenges (EventStoreDB's own retention; the embedded store truncates instead).
   */
  maxAgeSeconds?: Readonly<Record<string, number>>;
}

/**
 * The event store on EventStoreDB / KurrentDB, kept thin so the contract suite covers it.
 *
 * Positions: the port's single global position is the event's *prepare* position in the transaction log: the
 * start of the event's record, unique per event and increasing in log order. Reading `$all` from
 * {commit: p, prepare: p} is valid for such a p (the server reads from the record that starts there, inclusive,
 * and the adapter drops what is at or before p). A filtered subscription's checkpoint is the end of the last
 * record the server looked at, which no event's position equals: it is translated to the last event before it
 * (one backward read), so every position this adapter hands out is a place the server can read from.
 *
 * Idempotent appends: an append with an exact expected revision whose events are already at that revision (the
 * same ids) succeeds without writing, on any node, after any restart. With `any` or `stream_exists` the server
 * recognises repeated ids only through a cache of recent ids, which a restart or a leader change empties; so
 * this adapter never sends those: it reads the stream's last TAIL events, answers a retry from them, and appends
 * the rest at the exact revision it read. The port's promise for `any` is therefore: a repeated append is
 * recognised while its events are among the stream's last TAIL (64) events.
 *
 * Reads: stream reads (command loads) go to the leader, so a command decides on the latest state; reads of `$all`
 * (projections, the Kafka relay) may be served by a follower, which can be behind but never out of order: their
 * readers wait for positions anyway (X-Min-Position).
 *
 * Differences from the SQLite adapter: EventStoreDB's idempotent append recognises event ids per stream only, so
 * an id reused in another stream is written rather than refused with EventIdConflictError. Our ids are
 * UUIDs made per request, so that case means a bug, not a retry.
 */
export class KurrentEventStore implements EventStore {
  private constructor(
    private readonly client: KurrentClient,
    private readonly options: KurrentOptions = {},
  ) {}

  static connect(url: string, options: KurrentOptions = {}): KurrentEventStore {
    return new KurrentEventStore(KurrentDBClient.connectionString(url), options);
  }

  /** Over a given client (the tests' stand-in for a server). */
  static over(client: KurrentClient, options: KurrentOptions = {}): KurrentEventStore {
    return new KurrentEventStore(client, options);
  }

  async append(streamId: string, events: readonly EventToAppend[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    const result = expectedRevision === 'any' || expectedRevision === 'stream_exists' ? await this.appendAtTail(streamId, events, expectedRevision) : await this.appendAt(streamId, events, expectedRevision);
    await this.keepFor(streamId, result, events.length);
    return result;
  }

  /**
   * A stream of a category with a retention period, created by this append (or by the earlier attempt a retry
   * repeats), gets its `$maxAge`. Should that fail, the append is reported failed, and the caller's retry (answered
   * from the stream's tail) sets it then.
   */
  private async keepFor(streamId: string, result: AppendResult, count: number): Promise<void> {
    const seconds = this.options.maxAgeSeconds?.[categoryOf(streamId)];
    if (seconds === undefined || result.nextExpectedRevision + 1n !== BigInt(count)) return;
    try {
      await this.client.setStreamMetadata(streamId, { maxAge: seconds });
    } catch (error) {
      throw translated(error, streamId);
    }
  }

  /**
   * An append at `any` (or `stream_exists`) made exact: the stream's tail is read first, and events already in it
   * (a retry) are answered from it; the rest is appended at the tail's revision, read again if another writer
   * got there first. So a retry is recognised after a restart too, where the server's cache of recent ids is empty.
   */
  private async appendAtTail(streamId: string, events: readonly EventToAppend[], expected: 'any' | 'stream_exists'): Promise<AppendResult> {
    // A stream whose every event is past its `$maxAge` reads empty but keeps its revision: the server names it.
    let emptiedAt: bigint | undefined;
    for (let attempt = 0; ; attempt++) {
      const tail = await this.tailOf(streamId);
      const first = tail.find((event) => event.id === events[0]?.id);
      if (first) {
        const last = tail.find((event) => event.id === events[events.length - 1]!.id) ?? first;
        return { nextExpectedRevision: last.revision, position: last.position };
      }
      const revision = tail.length ? tail[tail.length - 1]!.revision : emptiedAt;
      if (revision === undefined && expected === 'stream_exists') throw new WrongExpectedRevisionError(streamId, expected, 'no_stream');
      try {
        return await this.appendAt(streamId, events, revision ?? 'no_stream');
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt >= 4) throw error;
        if (tail.length === 0 && typeof error.actual === 'bigint') emptiedAt = error.actual;
      }
    }
  }

  /** The last events of a stream (oldest first), where a retried append's events would be. */
  private async tailOf(streamId: string): Promise<RecordedEvent[]> {
    const tail: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: TAIL, requiresLeader: true }))
        if (resolved.event) tail.unshift(recorded(resolved.event));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw translated(error, streamId);
    }
    return tail;
  }

  private async appendAt(streamId: string, events: readonly EventToAppend[], expectedRevision: 'no_stream' | bigint): Promise<AppendResult> {
    try {
      const result = await this.client.appendToStream(
        streamId,
        events.map((event) => jsonEvent({ id: event.id, type: event.type, data: event.data as JSONType, metadata: event.metadata as unknown as JSONType })),
        { streamState: expectedRevision as AppendStreamState },
      );
      return { nextExpectedRevision: result.nextExpectedRevision, position: result.position?.prepare ?? (await this.lastPositionOf(streamId)) };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError)
        throw new WrongExpectedRevisionError(streamId, expectedRevision, typeof error.actualState === 'bigint' ? error.actualState : 'no_stream');
      // A deadline or a commit timeout says nothing about whether the events were written.
      if (error instanceof DeadlineExceededError || error instanceof TimeoutError) throw new EventStoreOutcomeUnknownError(streamId, error);
      if (error instanceof MaxAppendSizeExceededError) throw new AppendTooLargeError(streamId, error.maxAppendSize);
      throw translated(error, streamId);
    }
  }

  private async lastPositionOf(streamId: string): Promise<bigint> {
    for await (const resolved of this.client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1, requiresLeader: true }))
      if (resolved.event?.position) return resolved.event.position.prepare;
    return 0n;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, {
        direction: FORWARDS,
        fromRevision: options.fromRevision ?? START,
        requiresLeader: true,
        ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
      }))
        if (resolved.event) events.push(recorded(resolved.event));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw translated(error, streamId);
    }
    return events;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    try {
      return await this.readAllPages(options);
    } catch (error) {
      throw translated(error);
    }
  }

  private async readAllPages(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const wanted = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const events: RecordedEvent[] = [];
    let after = options.after ?? -1n;
    const pageSize = Math.min(Math.max(wanted + 1, 64), 4096);
    for (;;) {
      let read = 0;
      let last = after;
      for await (const resolved of this.client.readAll({
        direction: FORWARDS,
        fromPosition: positionAfter(after),
        maxCount: pageSize,
        filter: serverFilter(options.filter),
      })) {
        read += 1;
        const event = userEvent(resolved);
        if (!event || event.position <= after) continue;
        last = event.position;
        if (matches(event, options.filter)) events.push(event);
        if (events.length >= wanted) return events;
      }
      if (read < pageSize || last === after) return events;
      after = last;
    }
  }

  /**
   * A filtered catch-up subscription. The server filters and sends checkpoints for what it skipped; the
   * client library reports a checkpoint on a callback that can run before events it already received were
   * read from the stream, so the callback puts a marker into the stream instead, and one ordered loop hands
   * out events and checkpoints in log order. A lost connection (a server restart, a leader change) ends it with
   * EventStoreUnavailableError: the subscriber follows again from its last position.
   */
  subscribeToAll(options: { after?: bigint; filter?: EventFilter }, handlers: SubscriptionHandlers): Subscription {
    let reached = options.after ?? -1n;
    let closed = false;
    const subscription = this.client.subscribeToAll({
      fromPosition: positionAfter(reached),
      filter: {
        ...serverFilter(options.filter),
        checkpointInterval: 1,
        checkpointReached: (stream, position) => void (stream as unknown as { push(chunk: unknown): void }).push({ checkpoint: position } satisfies CheckpointMarker),
      },
    });
    const pump = (async () => {
      for await (const item of subscription as AsyncIterable<AllStreamResolvedEvent | CheckpointMarker>) {
        if (closed) break;
        if ('checkpoint' in item) {
          // Every record before the checkpoint was looked at: the last event before it is the place to go on from.
          const seen = await this.lastEventBefore(item.checkpoint.commit);
          if (closed) break;
          if (seen > reached) {
            reached = seen;
            await handlers.onCheckpoint?.(seen);
          }
          continue;
        }
        const event = userEvent(item);
        if (!event || event.position <= reached) continue;
        reached = event.position;
        // An event handed out says how far the log was read; one the server's filter let through but ours
        // skips is reported as a checkpoint instead.
        if (matches(event, options.filter)) await handlers.onEvent(event);
        else await handlers.onCheckpoint?.(event.position);
      }
      if (!closed) throw new EventStoreUnavailableError(new Error('the server ended the subscription'));
    })().catch((error: unknown) => {
      if (!closed) handlers.onError?.(translated(error));
    });
    return {
      async close() {
        closed = true;
        await subscription.unsubscribe();
        // Cancelling the call does not end the client's stream: end it, so the loop above ends too.
        (subscription as unknown as { destroy?(): void }).destroy?.();
        await pump;
      },
    };
  }

  /**
   * The position of the last event whose record ends at or before `end` (a checkpoint's commit position, the end
   * of a record), of any stream, system events included: a position the server can read forward from.
   */
  private async lastEventBefore(end: bigint): Promise<bigint> {
    for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: { commit: end, prepare: end }, maxCount: 1 }))
      if (resolved.event?.position) return resolved.event.position.prepare;
    return -1n;
  }

  async headPosition(): Promise<bigint> {
    try {
      for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, filter: excludeSystemEvents() }))
        if (resolved.event?.position) return resolved.event.position.prepare;
      return 0n;
    } catch (error) {
      throw translated(error);
    }
  }

  /**
   * The event at `atOrBefore` when it matches, else the first match reading backwards from there (from the end
   * when `atOrBefore` is the head). A position past the head, or one that is no event's (a client's made-up
   * X-Min-Position), is answered as itself: waiting for it is all a reader can do.
   */
  async lastPositionMatching(filter: EventFilter, atOrBefore: bigint): Promise<bigint> {
    try {
      const head = await this.headPosition();
      if (atOrBefore > head) return atOrBefore;
      if (atOrBefore < head) {
        for await (const resolved of this.client.readAll({ direction: FORWARDS, fromPosition: { commit: atOrBefore, prepare: atOrBefore }, maxCount: 1 })) {
          const event = userEvent(resolved);
          if (event && event.position === atOrBefore && matches(event, filter)) return atOrBefore;
        }
        return await this.lastMatchingBackwards(filter, atOrBefore, { commit: atOrBefore, prepare: atOrBefore });
      }
      return await this.lastMatchingBackwards(filter, atOrBefore, END);
    } catch (error) {
      const unavailable = translated(error);
      if (unavailable instanceof EventStoreUnavailableError) throw unavailable;
      return atOrBefore;
    }
  }

  private async lastMatchingBackwards(filter: EventFilter, atOrBefore: bigint, from: ReadPosition): Promise<bigint> {
    const pageSize = 256;
    for (let position = from; ; ) {
      let read = 0;
      let last: bigint | undefined;
      for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: position, maxCount: pageSize, filter: serverFilter(filter) })) {
        read += 1;
        if (resolved.event?.position) last = resolved.event.position.prepare;
        const event = userEvent(resolved);
        if (event && event.position <= atOrBefore && matches(event, filter)) return event.position;
      }
      if (read < pageSize || last === undefined) return 0n;
      // Backwards, a position is where a record ends: the event at `last` starts there, so it is not read again.
      position = { commit: last, prepare: last };
    }
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}

type CheckpointMarker = { checkpoint: Position };

/** How far back an append at `any` looks for its own events (a retry finds them there unless this many were appended since). */
const TAIL = 64;

/** The server is down, unreachable, not the leader or gone away mid-call: the port's EventStoreUnavailableError (an API 503). */
const isUnavailable = (error: unknown): boolean =>
  error instanceof UnavailableError || error instanceof DeadlineExceededError || error instanceof NotLeaderError || error instanceof CancelledError || error instanceof TimeoutError;

/** The port's error for what the server answered: unavailable, a deleted stream, or the error itself. */
function translated(error: unknown, streamId?: string): unknown {
  if (error instanceof EventStoreUnavailableError || error instanceof EventStoreOutcomeUnknownError) return error;
  if (isUnavailable(error)) return new EventStoreUnavailableError(error);
  if (streamId !== undefined && (error instanceof ServerStreamDeletedError || error instanceof StreamTombstonedError)) return new StreamDeletedError(streamId);
  return error;
}

const positionAfter = (after: bigint): ReadPosition => (after < 0n ? START : { commit: after, prepare: after });

const anyOf = (names: readonly string[]) => names.map(escapeRegex).join('|');

/**
 * The server filters by stream category, or else by event type (it takes one filter per read); whatever it
 * cannot filter is checked here by `matches`.
 */
function serverFilter(filter: EventFilter | undefined) {
  if (filter?.categories?.length) return streamNameFilter({ regex: `^(${anyOf(filter.categories)})(-|$)` });
  if (filter?.eventTypes?.length) return eventTypeFilter({ regex: `^(${anyOf(filter.eventTypes)})$` });
  return excludeSystemEvents();
}

const matches = (event: RecordedEvent, filter: EventFilter | undefined): boolean =>
  (!filter?.categories?.length || filter.categories.includes(categoryOf(event.streamId))) &&
  (!filter?.eventTypes?.length || filter.eventTypes.includes(event.type));

function userEvent(resolved: AllStreamResolvedEvent): RecordedEvent | null {
  const event = resolved.event;
  if (!event || event.streamId.startsWith('$') || event.type.startsWith('$') || !event.isJson) return null;
  return recorded(event);
}

function recorded(event: { id: string; streamId: string; revision: bigint; type: string; data: unknown; metadata: unknown; position?: Position }): RecordedEvent {
  return {
    id: event.id,
    streamId: event.streamId,
    revision: event.revision,
    position: event.position?.prepare ?? -1n,
    type: event.type,
    data: event.data,
    metadata: event.metadata as EventMetadata,
  };
}
