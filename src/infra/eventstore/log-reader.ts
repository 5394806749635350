import type { EventFilter, EventStore, RecordedEvent } from './port.ts';

/** Where a batched read of the log starts and ends, and the batches' size. */
export interface LogRead {
  /** Events strictly after this position. */
  after: bigint;
  filter?: EventFilter;
  /** Events per batch (the last batch may hold fewer). */
  maxCount: number;
  /** No batch is read once one ends at or past this position (the log's head when a replay began). */
  until?: bigint;
}

/**
 * Reads the log in batches, in log order, ending with the first batch short of `maxCount` or reaching `until`.
 * The caller may stop early (leave its loop): what was read ahead is dropped.
 */
export type LogReader = (read: LogRead) => AsyncIterable<RecordedEvent[]>;

/** Whether another batch follows this one. */
export const moreAfter = (events: readonly RecordedEvent[], read: LogRead): boolean =>
  events.length === read.maxCount && (read.until === undefined || events[events.length - 1]!.position < read.until);

/**
 * Reads through the store, each batch asked for before the caller gets the one before it: a store across the
 * network (EventStoreDB) reads the next batch while the caller applies this one.
 */
export function readingAhead(store: EventStore): LogReader {
  return async function* (read) {
    let next = store.readAll({ after: read.after, filter: read.filter, maxCount: read.maxCount });
    for (;;) {
      const events = await next;
      const more = moreAfter(events, read);
      if (more) {
        next = store.readAll({ after: events[events.length - 1]!.position, filter: read.filter, maxCount: read.maxCount });
        // Dropped unread when the caller stops here: its failure is nobody's to hear.
        next.catch(() => {});
      }
      yield events;
      if (!more) return;
    }
  };
}
