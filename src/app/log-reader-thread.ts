import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { LogRead, LogReader } from '../infra/eventstore/log-reader.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc } from '../infra/readstore/port.ts';
import { workerBootstrap } from '../infra/threads.ts';
import { type BesideReading, ProjectionApplyError, type ReplayBeside } from '../projections/runner.ts';
import { personalDataScope } from '../commands/personal-data.ts';
import { type ApplyFailure, BATCH_SENT, type Batch, type Beside, type FromThread, type Notice, takenOver, type ThreadData } from './log-reader-messages.ts';

export { handedOver, takenOver } from './log-reader-messages.ts';

export interface ThreadedReaderOptions {
  /** Reads of fewer positions than this are read in the caller's thread (a thread takes a moment to start). */
  fromPositions?: number;
  /** Batches the thread reads ahead of the caller. */
  ahead?: number;
  /**
   * Events per part: the thread reads and sends a batch in parts of this many (the caller gets them as batches).
   * The caller applies a part before it takes the next, so each lives on its heap for a few milliseconds and most
   * die young: a batch of 5,000 took long enough to outlive two collections of the young generation, and was
   * copied into the old one.
   */
  partSize?: number;
  /** Told when the thread could not start or stopped, and the rest is read in the caller's thread. */
  onFallback?: (reason: string) => void;
}

/**
 * A reader of the embedded log (the SQLite file at `eventsPath`) in a worker thread of its own: it reads the
 * rows, opens the personal values and upcasts, up to `ahead` batches ahead of the caller, whose thread only
 * turns each batch back into objects. A replay's reading then costs its thread a tenth of what it did, and runs
 * beside the applying on another core. The thread opens the log as the service does (readingLog, the same rules), with a
 * connection of its own; an erasure made meanwhile reaches it as it reaches another process (the keys are read
 * from the file, and the erasure's event makes it forget a key it holds). Where the thread cannot start, or
 * stops, the rest is read by `fallback`, from the last batch delivered: slower, never short.
 */
export function threadedLogReader(eventsPath: string, fallback: LogReader, options: ThreadedReaderOptions = {}): LogReader {
  return async function* (read: LogRead) {
    const thread = startThread(eventsPath, read, options);
    if (!thread) {
      yield* fallback(read);
      return;
    }
    try {
      yield* batchesOf(thread, read, fallback, options);
    } finally {
      thread.close();
    }
  };
}

/**
 * The same reader, which also applies the replay's projections named in `beside` in its thread, between sending a
 * batch and reading the next. Reading the log keeps that thread busy for a third of a replay of every read model:
 * the projections chosen take about as long as the rest of its time. Those projections must read no collection
 * but their own and those their `reads` name; the thread builds these too, by the projections that own them, and
 * refuses any other (an error, never a silent empty read). One whose collections a projection the replay applies
 * reads (its `reads`) is left to the replay, which would read them empty meanwhile. A thread that stops before it
 * is done leaves those projections to the replay; one that fails on an event fails the replay as the replay's own
 * apply would.
 */
export function threadedReplay(eventsPath: string, fallback: LogReader, beside: readonly string[], options: ThreadedReaderOptions = {}): ReplayBeside {
  return (read, projections, skipped) => {
    const readHere = new Set(projections.filter((projection) => !beside.includes(projection.name)).flatMap((projection) => projection.reads ?? []));
    const taken = projections.filter((projection) => beside.includes(projection.name) && !projection.collections.some((name) => readHere.has(name)));
    if (taken.length === 0) return undefined;
    const thread = startThread(eventsPath, read, options, { names: taken.map((projection) => projection.name), skipped });
    if (!thread) return undefined;
    let fellBack = false;
    return {
      projections: taken,
      batches: batchesOf(thread, read, fallback, { ...options, onFallback: (reason) => ((fellBack = true), options.onFallback?.(reason)) }),
      async documents() {
        if (fellBack) return undefined;
        const documents = new Map<string, Doc[]>(taken.flatMap((projection) => projection.collections.map((name) => [name, []] as [string, Doc[]])));
        for (;;) {
          const message = await thread.next();
          if ('documents' in message) documents.get(message.documents.collection)!.push(...message.documents.docs);
          else if ('applied' in message) return documents;
          else if ('applyFailed' in message) throw applyError(message.applyFailed);
          else if ('failed' in message) {
            options.onFallback?.(message.failed);
            return undefined;
          } else throw new Error('the reading thread sent a batch after the last');
        }
      },
      close: () => thread.close(),
    } satisfies BesideReading;
  };
}

const applyError = (failure: ApplyFailure) => new ProjectionApplyError(failure.projection, failure.event, new Error(failure.message));

/**
 * A running reading thread: its batches, each taken from the channel when the caller asks for it (a batch that
 * waits there stays serialized: see startThread); its other messages in order; and a credit sent for each batch
 * taken.
 */
interface Thread {
  /** The next batch, or, when none is waiting, the next message that is not one (a failure). */
  nextBatch(): Promise<Batch | Notice>;
  next(): Promise<Notice>;
  /** Tells the thread a batch (a part) was taken: it reads at most `ahead` batches' worth of parts beyond those taken. */
  took(): void;
  close(): void;
}

/** Starts the thread for a read, or tells the fallback why it did not (undefined: read in the caller's thread). */
function startThread(eventsPath: string, read: LogRead, options: ThreadedReaderOptions, beside?: Beside): Thread | undefined {
  const { fromPositions = 50_000, ahead = 4, partSize = PART_SIZE, onFallback = () => {} } = options;
  if (read.until !== undefined && read.until - read.after < BigInt(fromPositions)) return undefined;
  // The batches come on a channel the caller reads with receiveMessageOnPort, one batch when it wants one. A port's
  // listener gets (and deserializes) every message waiting whenever the caller's thread turns its event loop: the
  // batches read ahead were then objects on its heap for as long as they waited, and the garbage collector copied
  // them twice, into the old generation, where they died. With this and the parts (partSize), a rebuild of the 100k
  // benchmark log copied 1.6 GB less in the young generations of the two threads (1.9 GB against 3.4 GB), and the
  // collector's helper threads worked 3.3 s less.
  const { port1: batches, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    const data: ThreadData = { logReader: true, eventsPath, read, ahead, partSize, beside, scope: personalDataScope(), batches: port2 };
    worker = new Worker(workerBootstrap(new URL('./log-reader-worker.ts', import.meta.url).href), { eval: true, workerData: data, transferList: [port2] });
  } catch (error) {
    batches.close();
    onFallback(`the reading thread could not start: ${(error as Error).message}`);
    return undefined;
  }
  const inbox: Notice[] = [];
  let wake: (() => void) | undefined;
  /** Until the thread's next message of any kind. */
  const arrival = () => new Promise<void>((resolve) => (wake = resolve));
  const receive = (message: FromThread) => {
    if (message !== BATCH_SENT) inbox.push(message);
    wake?.();
  };
  worker.on('message', receive);
  worker.on('error', (error: Error) => receive({ failed: `the reading thread failed: ${error.message}` }));
  worker.on('exit', (code) => receive({ failed: `the reading thread exited (code ${code})` }));
  return {
    async nextBatch() {
      for (;;) {
        const batch = receiveMessageOnPort(batches);
        if (batch) return batch.message as Batch;
        if (inbox.length) return inbox.shift()!;
        await arrival();
      }
    },
    async next() {
      while (inbox.length === 0) await arrival();
      return inbox.shift()!;
    },
    took: () => worker.postMessage('next'),
    close() {
      worker.removeAllListeners();
      batches.close();
      void worker.terminate();
    },
  };
}

/** The thread's batches up to the last; where it stops, the rest from `fallback`, from the last batch delivered. */
async function* batchesOf(thread: Thread, read: LogRead, fallback: LogReader, options: ThreadedReaderOptions): AsyncGenerator<RecordedEvent[]> {
  let after = read.after;
  for (;;) {
    const message = await thread.nextBatch();
    if ('failed' in message) {
      options.onFallback?.(message.failed);
      yield* fallback({ ...read, after });
      return;
    }
    // A projection applied in the thread failed on an event: the replay stops there, as for its own.
    if ('applyFailed' in message) throw applyError(message.applyFailed);
    if (!('events' in message)) throw new Error('the reading thread sent documents before its last batch');
    const { last } = message;
    const events = takenOver(message.events);
    thread.took();
    if (events.length) after = events[events.length - 1]!.position;
    yield events;
    if (last) return;
  }
}

/** Events per part, by default (see ThreadedReaderOptions.partSize). */
const PART_SIZE = 1000;

