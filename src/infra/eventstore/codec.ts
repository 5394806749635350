import { freezeOwned } from '../frozen.ts';
import type { StreamWrite, AppendResult, EventFilter, EventStore, EventToAppend, ExpectedRevision, ReadAllOptions, ReadStreamOptions, RecordedEvent, Subscription, SubscriptionHandlers } from './port.ts';

/**
 * How events are checked on the way in and brought to their current shape on the way out. The rules come from
 * the domain (its event schemas and upcasters); this adapter only applies them, to every reader alike: command
 * handlers, projections, the Kafka relay and history all see events in today's shape.
 */
export interface EventCodec {
  /** Throws when an event about to be appended breaks its schema (a programming error, never bad input). */
  check?(streamId: string, event: EventToAppend): void;
  /** An event as it reads today: an old shape upcast, any other returned as it is. */
  upcast(event: RecordedEvent): RecordedEvent;
}

export class CodecEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly codec: EventCodec,
  ) {
    if (inner.expire) this.expire = inner.expire.bind(inner);
    if (inner.watchAppends) this.watchAppends = inner.watchAppends.bind(inner);
    const atomically = inner.appendAtomically?.bind(inner);
    if (atomically)
      this.appendAtomically = async (writes) => {
        for (const write of writes) this.check(write.streamId, write.events);
        return atomically(writes);
      };
  }

  private check(streamId: string, events: readonly EventToAppend[]): void {
    if (this.codec.check) for (const event of events) this.codec.check(streamId, event);
  }

  readonly appendAtomically?: (writes: readonly StreamWrite[]) => Promise<AppendResult[]>;
  readonly expire?: (category: string, before: string) => Promise<{ expired: number }>;
  readonly watchAppends?: (onAppend: () => void) => Subscription;

  async append(streamId: string, events: readonly EventToAppend[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    this.check(streamId, events);
    return this.inner.append(streamId, events, expectedRevision);
  }

  /** A stream the inner store serves from memory (a frozen array) is upcast once, for as long as it stays unchanged. */
  private readonly upcastStreams = new WeakMap<readonly RecordedEvent[], RecordedEvent[]>();

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    const stored = await this.inner.readStream(streamId, options);
    if (!Object.isFrozen(stored)) return stored.map((event) => this.codec.upcast(event));
    let upcast = this.upcastStreams.get(stored);
    if (!upcast) this.upcastStreams.set(stored, (upcast = freezeOwned(stored.map((event) => this.codec.upcast(event)))));
    return upcast;
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return (await this.inner.readAll(options)).map((event) => this.codec.upcast(event));
  }

  subscribeToAll(options: Parameters<EventStore['subscribeToAll']>[0], handlers: SubscriptionHandlers): Subscription {
    return this.inner.subscribeToAll(options, { ...handlers, onEvent: (event) => handlers.onEvent(this.codec.upcast(event)) });
  }

  headPosition(): Promise<bigint> {
    return this.inner.headPosition();
  }

  lastPositionMatching(filter: EventFilter, atOrBefore: bigint): Promise<bigint> {
    return this.inner.lastPositionMatching(filter, atOrBefore);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
