import { type AllStreamResolvedEvent, type AppendStreamState, BACKWARDS, END, eventTypeFilter, excludeSystemEvents, FORWARDS, jsonEvent, type JSONType, KurrentDBClient, type Position, type ReadPosition, DeadlineExceededError, NotLeaderError, UnavailableError, START, StreamNotFoundError, streamNameFilter, WrongExpectedVersionError } from '@kurrent/kurrentdb-client';
import { type AppendResult, categoryOf, type EventFilter, EventStoreUnavailableError, type EventMetadata, type EventStore, type EventToAppend, type ExpectedRevision, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent, type Subscription, type SubscriptionHandlers, WrongExpectedRevisionError } from './port.ts';
import { escapeRegex } from '../readstore/regex.ts';

/**
 * The event store on EventStoreDB / KurrentDB, kept thin so the contract suite covers it.
 *
 * Positions: the port's single global position is the event's *prepare* position in the transaction log. It is
 * unique per event and increases in log order, also inside a multi-event append (whose events share one commit
 * position), and stream reads carry it too. Reading `$all` after a position starts at {commit: p, prepare: p}
 * and drops anything at or before p.
 *
 * Differences from the SQLite adapter: EventStoreDB's idempotent append recognises event ids per stream only, so
 * an id reused in another stream is written rather than refused with EventIdConflictError. Our ids are
 * UUIDs made per request, so that case means a bug, not a retry.
 */
export class KurrentEventStore implements EventStore {
  private constructor(private readonly client: KurrentDBClient) {}

  static connect(url: string): KurrentEventStore {
    return new KurrentEventStore(KurrentDBClient.connectionString(url));
  }

  async append(streamId: string, events: readonly EventToAppend[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
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
      throw unavailable(error);
    }
  }

  private async lastPositionOf(streamId: string): Promise<bigint> {
    for await (const resolved of this.client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }))
      if (resolved.event?.position) return resolved.event.position.prepare;
    return 0n;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, {
        direction: FORWARDS,
        fromRevision: options.fromRevision ?? START,
        ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
      }))
        if (resolved.event) events.push(recorded(resolved.event));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw unavailable(error);
    }
    return events;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    try {
      return await this.readAllPages(options);
    } catch (error) {
      throw unavailable(error);
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
   * out events and checkpoints in log order.
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
          // Every event before the checkpoint's commit position has been read; later ones lie at or after it.
          const seen = item.checkpoint.commit - 1n;
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
    })().catch((error: unknown) => {
      if (!closed) handlers.onError?.(error);
    });
    return {
      async close() {
        closed = true;
        await subscription.unsubscribe();
        await pump;
      },
    };
  }

  async headPosition(): Promise<bigint> {
    try {
      for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, filter: excludeSystemEvents() }))
        if (resolved.event?.position) return resolved.event.position.prepare;
      return 0n;
    } catch (error) {
      throw unavailable(error);
    }
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}

type CheckpointMarker = { checkpoint: Position };

/** The server is down, unreachable or not the leader: the port's EventStoreUnavailableError (an API 503). */
const unavailable = (error: unknown): unknown =>
  error instanceof UnavailableError || error instanceof DeadlineExceededError || error instanceof NotLeaderError ? new EventStoreUnavailableError(error) : error;

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
