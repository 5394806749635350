import { isMainThread, MessageChannel, type MessagePort, parentPort, receiveMessageOnPort, Worker, workerData } from 'node:worker_threads';
import { type LogRead, type LogReader, moreAfter } from '../infra/eventstore/log-reader.ts';
import type { EventStore, RecordedEvent } from '../infra/eventstore/port.ts';
import { type RowText, SqliteEventStore } from '../infra/eventstore/sqlite.ts';
import { SqliteSubjectKeys } from '../infra/personal-data/keys.ts';
import { putValueAt, valueAt } from '../infra/personal-data/sealing.ts';
import type { Doc } from '../infra/readstore/port.ts';
import { workerBootstrap } from '../infra/threads.ts';
import { WriteBackStore } from '../infra/readstore/write-back.ts';
import { applyBatch, type BesideReading, ProjectionApplyError, type ReplayBeside } from '../projections/runner.ts';
import type { Projection } from '../projections/projection.ts';
import { domainLog } from './event-log.ts';

/** What the thread applies beside its reading: projections by name, and the events an administrator had each skip. */
interface Beside {
  names: string[];
  skipped: Record<string, string[]>;
}

/** A projection's failure on an event in the thread, as the caller's ProjectionApplyError is rebuilt from it. */
type ApplyFailure = { projection: string; event: ProjectionApplyError['event']; message: string };

/**
 * What the thread sends on its port, beside the batches (which go on a channel of their own): that a batch is
 * there, or why it stopped; when it applies projections, then their documents (a collection's in parts), the end
 * of them, or the event one of them failed on.
 */
type FromThread = typeof BATCH_SENT | { failed: string } | { documents: { collection: string; docs: Doc[] } } | { applied: true } | { applyFailed: ApplyFailure };

/** What the thread sends on its port but the notice of a batch. */
type Notice = Exclude<FromThread, typeof BATCH_SENT>;

/** A batch of the log's events (as handed over), and whether it is the read's last. */
type Batch = { events: HandedEvents; last: boolean };

/**
 * A part of the log as the thread sends it. An event the store read is sent as its stored text, seven values
 * (position, id, stream, revision, type, the data's JSON, the metadata's JSON), which the caller parses; one whose
 * sealed personal values were opened, as the text it was opened from and then an array of the opened values, in
 * the order of its `metadata.personal` pointers, which the caller puts in place; any other (upcast, or opened
 * otherwise: a new object, with no stored text) as the object. The thread posts strings it holds already instead of
 * serialising the objects it parsed, and the caller's JSON.parse costs less than deserialising them: on the 100k
 * benchmark log's customer and opportunity events, 1.1 against 1.2–1.9 µs an event in the thread, 1.6 against
 * 1.9–2.7 µs in the caller. An opened contact event cost the thread about 2.5 µs whole.
 */
type HandedEvents = (number | string | unknown[] | RecordedEvent)[];

/**
 * The events of a part as the thread hands them over. textOf: an event's stored text, when it is as stored;
 * openedFrom: the stored event one was opened from, when only its personal values were opened.
 */
export function handedOver(events: readonly RecordedEvent[], textOf: (event: RecordedEvent) => RowText | undefined, openedFrom: (event: RecordedEvent) => RecordedEvent | undefined = () => undefined): HandedEvents {
  const handed: HandedEvents = [];
  for (const event of events) {
    let text = textOf(event);
    const from = text ? undefined : openedFrom(event);
    if (from) text = textOf(from);
    if (!text) {
      handed.push(event);
      continue;
    }
    handed.push(Number(event.position), event.id, event.streamId, Number(event.revision), event.type, text.data, text.metadata);
    if (from) handed.push(openedValues(event));
  }
  return handed;
}

/** The values at an opened event's personal pointers, in their order. */
function openedValues(event: RecordedEvent): unknown[] {
  const values: unknown[] = [];
  for (const { pointers } of event.metadata.personal!) for (const pointer of pointers) values.push(valueAt(event.data, pointer));
  return values;
}

/** The events a part handed over holds, in order. */
export function takenOver(handed: HandedEvents): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (let at = 0; at < handed.length; ) {
    const first = handed[at]!;
    if (typeof first !== 'number') {
      events.push(first as RecordedEvent);
      at += 1;
      continue;
    }
    const metadata = JSON.parse(handed[at + 6] as string) as RecordedEvent['metadata'];
    let data: unknown = JSON.parse(handed[at + 5] as string);
    const opened = handed[at + 7];
    if (Array.isArray(opened)) {
      let next = 0;
      for (const { pointers } of metadata.personal!) for (const pointer of pointers) data = putValueAt(data, pointer, opened[next++]);
    }
    events.push({ id: handed[at + 1] as string, streamId: handed[at + 2] as string, revision: BigInt(handed[at + 3] as number), position: BigInt(first), type: handed[at + 4] as string, data, metadata });
    at += Array.isArray(opened) ? 8 : 7;
  }
  return events;
}

/** Tells the caller a batch is on the batches' channel (when it waits for one). */
const BATCH_SENT = 'batch';

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
 * beside the applying on another core. The thread opens the log as the service does (domainLog), with a
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
    worker = new Worker(workerBootstrap(import.meta.url), { eval: true, workerData: { logReader: true, eventsPath, read, ahead, partSize, beside, batches: port2 }, transferList: [port2] });
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

/** The thread: reads the batches and sends each, waiting while `ahead` are unread by the caller. */
async function readInThread(eventsPath: string, read: LogRead, ahead: number, partSize: number, beside: Beside | undefined, batches: MessagePort): Promise<void> {
  const port = parentPort!;
  const part: LogRead = { ...read, maxCount: Math.min(read.maxCount, partSize) };
  // Credits count parts (`ahead` counts batches of the read's size).
  let credits = ahead * Math.ceil(read.maxCount / part.maxCount);
  let resume: (() => void) | undefined;
  port.on('message', () => {
    credits += 1;
    resume?.();
  });
  let eventStore: EventStore | undefined;
  try {
    // The projections applied beside are loaded once the first part is on its way: the caller has nothing to
    // apply before it, and their modules took the thread about 0.15 s to load.
    let applying: Awaited<ReturnType<typeof besideReading>> | undefined;
    const stored = new SqliteEventStore({ path: eventsPath, checkpointThreadAfter: Infinity, cachedStreams: 0, keepsRowText: true });
    const log = domainLog(stored, new SqliteSubjectKeys(eventsPath), { keepsOpenedFrom: true });
    eventStore = log.eventStore;
    const textOf = (event: RecordedEvent) => stored.rowTextOf(event);
    const openedFrom = (event: RecordedEvent) => log.personalData.openedFrom(event);
    // Part by part, each read, sent and applied beside before the next is read (the store is this thread's, and
    // reads synchronously: reading ahead here would only keep two parts alive instead of one). The caller, like
    // this loop, ends with the part after which none follows (moreAfter).
    for (let after = read.after; ; ) {
      const events = await eventStore.readAll({ after, filter: read.filter, maxCount: part.maxCount });
      const last = !moreAfter(events, part);
      while (credits === 0) await new Promise<void>((resolve) => (resume = resolve));
      credits -= 1;
      batches.postMessage({ events: handedOver(events, textOf, openedFrom), last } satisfies Batch);
      port.postMessage(BATCH_SENT satisfies FromThread);
      if (beside && !applying) applying = await besideReading(beside);
      await applying?.apply(events);
      if (last) break;
      after = events[events.length - 1]!.position;
    }
    if (applying) {
      for (const [collection, docs] of await applying.documents())
        for (let i = 0; i < docs.length; i += DOCUMENTS_PER_MESSAGE) port.postMessage({ documents: { collection, docs: docs.slice(i, i + DOCUMENTS_PER_MESSAGE) } } satisfies FromThread);
      port.postMessage({ applied: true } satisfies FromThread);
    }
  } catch (error) {
    port.postMessage((error instanceof ProjectionApplyError ? { applyFailed: { projection: error.projection, event: error.event, message: error.cause instanceof Error ? error.cause.message : String(error.cause) } } : { failed: `the reading thread failed: ${(error as Error).message}` }) satisfies FromThread);
  } finally {
    await eventStore?.close(); // the keys' connection with it
  }
}

/** Events per part, by default (see ThreadedReaderOptions.partSize). */
const PART_SIZE = 1000;

/** Documents sent per message: a message is copied whole before the caller gets it. */
const DOCUMENTS_PER_MESSAGE = 5000;

/**
 * The thread's side of `beside`: the named projections and those owning the collections they read, applied as a
 * replay applies (one write-back unit, summing counters' twins at the end) into a store of the thread's own, which
 * has only those collections.
 */
async function besideReading(beside: Beside) {
  // (Loaded here: a thread that only reads has no use for them.)
  const [{ allProjections }, { EmbeddedReadStore }] = await Promise.all([import('../projections/all.ts'), import('../infra/readstore/embedded.ts')]);
  const named = allProjections.filter((projection) => beside.names.includes(projection.name));
  if (named.length !== beside.names.length) throw new Error(`no such projections to apply beside the reading: ${beside.names.filter((name) => !named.some((p) => p.name === name)).join(', ')}`);
  const read = new Set(named.flatMap((projection) => projection.reads ?? []));
  // In the replay's order: a projection that reads another's collection sees it as the replay's would.
  const projections = allProjections.filter((projection) => named.includes(projection) || projection.collections.some((name) => read.has(name)));
  const store = new EmbeddedReadStore({});
  const allowed = new Set(projections.flatMap((projection) => projection.collections));
  const own = {
    collection: <T extends Doc>(name: string) => {
      if (!allowed.has(name)) throw new Error(`a projection applied beside the reading read ${name}, which its reads do not name`);
      return store.collection<T>(name);
    },
    flush: () => store.flush(),
    ping: () => store.ping(),
    close: () => store.close(),
  };
  for (const projection of projections) await projection.setup(own);
  const unit = new WriteBackStore(own, { sumsTwins: true });
  // (Only the projections that skip an event: most skip none, and need no hash of each event's id.)
  const skipped = new Map(Object.entries(beside.skipped).flatMap(([name, ids]) => (ids.length ? [[name, new Set(ids)] as const] : [])));
  const takes = (projection: Projection, event: RecordedEvent) => !skipped.get(projection.name)?.has(event.id);
  return {
    apply: (events: readonly RecordedEvent[]) => applyBatch(events, projections, unit, own, takes),
    async documents(): Promise<[string, Doc[]][]> {
      await unit.commit();
      return Promise.all(named.flatMap((projection) => projection.collections).map(async (name) => [name, await store.collection(name).find({})] as [string, Doc[]]));
    },
  };
}

if (!isMainThread && parentPort && (workerData as { logReader?: unknown } | null)?.logReader === true) {
  const { eventsPath, read, ahead, partSize, beside, batches } = workerData as { eventsPath: string; read: LogRead; ahead: number; partSize: number; beside?: Beside; batches: MessagePort };
  void readInThread(eventsPath, read, ahead, partSize, beside, batches);
}
