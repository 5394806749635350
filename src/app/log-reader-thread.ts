import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type LogRead, type LogReader, moreAfter, readingAhead } from '../infra/eventstore/log-reader.ts';
import type { EventStore, RecordedEvent } from '../infra/eventstore/port.ts';
import { SqliteEventStore } from '../infra/eventstore/sqlite.ts';
import { SqliteSubjectKeys } from '../infra/personal-data/keys.ts';
import { workerBootstrap } from '../infra/threads.ts';
import { domainLog } from './event-log.ts';

/** What the thread sends: a batch, or why it stopped. */
type FromThread = { events: RecordedEvent[] } | { failed: string };

export interface ThreadedReaderOptions {
  /** Reads of fewer positions than this are read in the caller's thread (a thread takes a moment to start). */
  fromPositions?: number;
  /** Batches the thread reads ahead of the caller. */
  ahead?: number;
  /** Told when the thread could not start or stopped, and the rest is read in the caller's thread. */
  onFallback?: (reason: string) => void;
}

/**
 * A reader of the embedded log (the SQLite file at `eventsPath`) in a worker thread of its own: it reads the
 * rows, opens the personal values and upcasts, up to `ahead` batches ahead of the caller, whose thread only
 * turns each batch back into objects. A replay's reading then costs its thread a tenth of what it did, and runs
 * beside the applying on another core. The thread opens the log as the service does (domainLog), with a
 * connection of its own; an erasure made meanwhile reaches it as it reaches another process (the keys are read
 * from the file, and the erasure's event makes it forget a key it holds). Where the thread cannot start, or
 * stops, the rest is read by `fallback`, from the last batch delivered: slower, never short.
 */
export function threadedLogReader(eventsPath: string, fallback: LogReader, options: ThreadedReaderOptions = {}): LogReader {
  const { fromPositions = 50_000, ahead = 4, onFallback = () => {} } = options;
  return async function* (read: LogRead) {
    if (read.until !== undefined && read.until - read.after < BigInt(fromPositions)) {
      yield* fallback(read);
      return;
    }
    let worker: Worker;
    try {
      worker = new Worker(workerBootstrap(import.meta.url), { eval: true, workerData: { logReader: true, eventsPath, read, ahead } });
    } catch (error) {
      onFallback(`the reading thread could not start: ${(error as Error).message}`);
      yield* fallback(read);
      return;
    }
    const inbox: FromThread[] = [];
    let wake: (() => void) | undefined;
    const receive = (message: FromThread) => {
      inbox.push(message);
      wake?.();
    };
    worker.on('message', receive);
    worker.on('error', (error: Error) => receive({ failed: `the reading thread failed: ${error.message}` }));
    worker.on('exit', (code) => receive({ failed: `the reading thread exited (code ${code})` }));
    let after = read.after;
    try {
      for (;;) {
        while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        const message = inbox.shift()!;
        if ('failed' in message) {
          onFallback(message.failed);
          yield* fallback({ ...read, after });
          return;
        }
        const { events } = message;
        worker.postMessage('next');
        if (events.length) after = events[events.length - 1]!.position;
        yield events;
        if (!moreAfter(events, read)) return;
      }
    } finally {
      worker.removeAllListeners();
      void worker.terminate();
    }
  };
}

/** The thread: reads the batches and sends each, waiting while `ahead` are unread by the caller. */
async function readInThread(eventsPath: string, read: LogRead, ahead: number): Promise<void> {
  const port = parentPort!;
  let credits = ahead;
  let resume: (() => void) | undefined;
  port.on('message', () => {
    credits += 1;
    resume?.();
  });
  let eventStore: EventStore | undefined;
  try {
    eventStore = domainLog(new SqliteEventStore({ path: eventsPath, checkpointThreadAfter: Infinity, cachedStreams: 0 }), new SqliteSubjectKeys(eventsPath)).eventStore;
    // The caller, like this loop, ends with the batch after which none follows (moreAfter).
    for await (const events of readingAhead(eventStore)(read)) {
      while (credits === 0) await new Promise<void>((resolve) => (resume = resolve));
      credits -= 1;
      port.postMessage({ events } satisfies FromThread);
    }
  } catch (error) {
    port.postMessage({ failed: `the reading thread failed: ${(error as Error).message}` } satisfies FromThread);
  } finally {
    await eventStore?.close(); // the keys' connection with it
  }
}

if (!isMainThread && parentPort && (workerData as { logReader?: unknown } | null)?.logReader === true) {
  const { eventsPath, read, ahead } = workerData as { eventsPath: string; read: LogRead; ahead: number };
  void readInThread(eventsPath, read, ahead);
}
