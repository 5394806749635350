import type { AppendResult, EventFilter, EventStore, ReadAllOptions, ReadStreamOptions, RecordedEvent, Subscription } from './port.ts';

/** A write through a view of the log as it stood at a past instant. */
export class ReadOnlyPastError extends Error {
  constructor() {
    super('The log as it stood at a past instant cannot be written to');
    this.name = 'ReadOnlyPastError';
  }
}

/**
 * The event log as it stood at an instant: every read leaves out the events appended after it (by their
 * `metadata.at`), so whatever folds streams through it (an employee's roles, a department's path, a record's
 * owner) answers as of then. Read only.
 */
export class AsOfEventStore implements EventStore {
  private readonly at: string;

  constructor(
    private readonly inner: EventStore,
    at: Date,
  ) {
    this.at = at.toISOString();
  }

  private readonly within = (event: RecordedEvent): boolean => event.metadata.at <= this.at;

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return (await this.inner.readStream(streamId, options)).filter(this.within);
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return (await this.inner.readAll(options)).filter(this.within);
  }

  append(): Promise<AppendResult> {
    return Promise.reject(new ReadOnlyPastError());
  }

  subscribeToAll(): Subscription {
    throw new ReadOnlyPastError();
  }

  headPosition(): Promise<bigint> {
    return this.inner.headPosition();
  }

  lastPositionMatching(filter: EventFilter, atOrBefore: bigint): Promise<bigint> {
    return this.inner.lastPositionMatching(filter, atOrBefore);
  }

  async close(): Promise<void> {}
}
