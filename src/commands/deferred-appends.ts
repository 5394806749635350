import type { AppendResult, EventFilter, EventStore, EventToAppend, ExpectedRevision, ReadAllOptions, ReadStreamOptions, RecordedEvent, StreamWrite, Subscription, SubscriptionHandlers } from '../infra/eventstore/port.ts';

/** A step the deferred appends cannot take (a stream read after this unit wrote it, an unchecked revision): do the work step by step. */
export class NotDeferrableError extends Error {
  constructor(reason: string) {
    super(`These appends cannot be deferred: ${reason}`);
    this.name = 'NotDeferrableError';
  }
}

/**
 * An event store that holds a command sequence's appends instead of writing them, and writes them all at once
 * at the end (`commit`), all or nothing, where the store can (`appendAtomically`). A create that claims unique
 * values and then records its stream thus commits once instead of once per stream, and leaves no claim behind
 * when it fails. Reads go to the store; the results it answers for held appends carry no position yet.
 */
export class DeferredAppends implements EventStore {
  private readonly writes: StreamWrite[] = [];

  constructor(private readonly store: EventStore & Required<Pick<EventStore, 'appendAtomically'>>) {}

  async append(streamId: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    if (this.writes.some((write) => write.streamId === streamId)) throw new NotDeferrableError(`${streamId} is written twice`);
    if (expected !== 'no_stream' && typeof expected !== 'bigint') throw new NotDeferrableError(`${streamId} is written at any revision`);
    this.writes.push({ streamId, events, expected });
    return { nextExpectedRevision: (expected === 'no_stream' ? -1n : expected) + BigInt(events.length), position: 0n };
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    if (this.writes.some((write) => write.streamId === streamId)) throw new NotDeferrableError(`${streamId} is read after it was written`);
    return this.store.readStream(streamId, options);
  }

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.store.readAll(options);
  }

  subscribeToAll(options: { after?: bigint; filter?: EventFilter }, handlers: SubscriptionHandlers): Subscription {
    return this.store.subscribeToAll(options, handlers);
  }

  headPosition(): Promise<bigint> {
    return this.store.headPosition();
  }

  lastPositionMatching(filter: EventFilter, atOrBefore: bigint): Promise<bigint> {
    return this.store.lastPositionMatching(filter, atOrBefore);
  }

  async close(): Promise<void> {}

  /** Writes the held appends (none: nothing to do); their results in the order they were made. */
  commit(): Promise<AppendResult[]> {
    return this.writes.length ? this.store.appendAtomically(this.writes) : Promise.resolve([]);
  }
}
