import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type LogRead, moreAfter } from '../infra/eventstore/log-reader.ts';
import type { EventStore, RecordedEvent } from '../infra/eventstore/port.ts';
import { SqliteEventStore } from '../infra/eventstore/sqlite.ts';
import { SqliteSubjectKeys } from '../infra/personal-data/keys.ts';
import type { Doc } from '../infra/readstore/port.ts';
import type { Projection } from '../projections/projection.ts';
import { type ApplyFailure, BATCH_SENT, type Batch, type Beside, type FromThread, handedOver, type ThreadData } from './log-reader-messages.ts';
import { readingLog } from './reading-log.ts';

/*
 * A replay's reading thread (see log-reader-thread.ts, which starts it). It loads only what reading the log takes:
 * the store, the personal data layer and the upcasters, in about 0.15 s, against 0.45 s when it loaded the service's
 * log (every record type's schemas) and the projection runner; the projections applied beside its reading, and the
 * runner, once the first part is on its way.
 */

/** The thread: reads the batches and sends each, waiting while `ahead` are unread by the caller. */
async function readInThread({ eventsPath, read, ahead, partSize, beside, scope, batches }: ThreadData): Promise<void> {
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
  let applying: Awaited<ReturnType<typeof besideReading>> | undefined;
  try {
    // The projections applied beside are loaded once the first part is on its way: the caller has nothing to
    // apply before it, and their modules took the thread about 0.15 s to load.
    const stored = new SqliteEventStore({ path: eventsPath, checkpointThreadAfter: Infinity, cachedStreams: 0, keepsRowText: true });
    const log = readingLog(stored, new SqliteSubjectKeys(eventsPath), scope, { keepsOpenedFrom: true });
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
    const applyFailed = applying?.failureOf(error);
    port.postMessage((applyFailed ? { applyFailed } : { failed: `the reading thread failed: ${(error as Error).message}` }) satisfies FromThread);
  } finally {
    await eventStore?.close(); // the keys' connection with it
  }
}

/** Documents sent per message: a message is copied whole before the caller gets it. */
const DOCUMENTS_PER_MESSAGE = 5000;

/**
 * The thread's side of `beside`: the named projections and those owning the collections they read, applied as a
 * replay applies (one write-back unit, summing counters' twins at the end) into a store of the thread's own, which
 * has only those collections.
 */
async function besideReading(beside: Beside) {
  // (Loaded here: a thread that only reads has no use for them.)
  const [{ allProjections }, { EmbeddedReadStore }, { WriteBackStore }, { applyBatch, ProjectionApplyError }] = await Promise.all([
    import('../projections/all.ts'),
    import('../infra/readstore/embedded.ts'),
    import('../infra/readstore/write-back.ts'),
    import('../projections/runner.ts'),
  ]);
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
    /** The failure to tell the caller when one of these projections failed on an event (undefined for any other error). */
    failureOf: (error: unknown): ApplyFailure | undefined =>
      error instanceof ProjectionApplyError ? { projection: error.projection, event: error.event, message: error.cause instanceof Error ? error.cause.message : String(error.cause) } : undefined,
  };
}

if (!isMainThread && parentPort && (workerData as { logReader?: unknown } | null)?.logReader === true) void readInThread(workerData as ThreadData);
