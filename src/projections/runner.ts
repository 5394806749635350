import { categoryOf, type EventStore, EventStoreUnavailableError, type RecordedEvent, type Subscription } from '../infra/eventstore/port.ts';
import type { Logger } from '../infra/logger.ts';
import { type LogRead, type LogReader, readingAhead } from '../infra/eventstore/log-reader.ts';
import { type Compaction, compactHeap } from '../infra/heap.ts';
import { type Collection, type Doc, IndexConflictError, type ReadStore, ReadStoreUnavailableError } from '../infra/readstore/port.ts';
import { WriteBackStore } from '../infra/readstore/write-back.ts';
import { freezeOwned } from '../infra/frozen.ts';
import { type Fence, FencedError, fencedFilter, fenceField, fencedWrite } from '../infra/readstore/fencing.ts';
import type { Projection } from './projection.ts';

/** An event a projection skipped on an administrator's decision, kept with its checkpoint. */
export interface SkippedEvent {
  eventId: string;
  position: number;
  streamId: string;
  type: string;
  error: string;
  skippedBy: string;
  skippedAt: string;
}

/** Whether a projection takes an event (not one an administrator had it skip); most answers come at once. */
export type Takes = (projection: Projection, event: RecordedEvent) => boolean | Promise<boolean>;

/**
 * Some of a replay's projections applied beside its reading, in the thread that reads the log (the embedded log),
 * on the core the reading leaves idle part of the time. Given the read, the replay's projections and the events an
 * administrator had each skip, it answers with the projections it takes (undefined: none, the replay applies all).
 */
export type ReplayBeside = (read: LogRead, projections: readonly Projection[], skipped: Record<string, string[]>) => BesideReading | undefined;

export interface BesideReading {
  /** The projections applied beside the reading: the replay applies the others. */
  projections: readonly Projection[];
  /** The log's batches, as `readLog` would read them. */
  batches: AsyncIterable<RecordedEvent[]>;
  /**
   * Once every batch was read: the documents of the projections' collections, by collection; undefined when the
   * thread stopped before it was done (the replay then applies them itself). Rejects with a ProjectionApplyError
   * where one of them failed on an event.
   */
  documents(): Promise<Map<string, Doc[]> | undefined>;
  /** Ends the thread (after the documents, or when the replay stops early). */
  close(): void;
}

type CheckpointDoc = Doc & { version: number; position: number; skipped?: SkippedEvent[]; fence?: number };
const CHECKPOINTS = '_projections';
/** How far the leading runner has got, for the API instances that read its read models (one document). */
export const PROGRESS = '_projection_progress';
/** What API instances ask of the leading runner (rebuild a projection, skip an event), done and deleted by it. */
export const PROJECTION_REQUESTS = '_projection_requests';
const PROGRESS_ID = 'runner';

type ProgressDoc = Doc & {
  positions: Record<string, number>;
  failures: Record<string, Omit<ProjectionFailure, 'event'> & { event?: { id: string; position: number; streamId: string; type: string } }>;
  catchingUp: string[];
  fence?: number;
  at: string;
};
type RequestDoc = Doc & ({ kind: 'rebuild'; name: string } | { kind: 'skip'; name: string; eventId: string; by: string });

/** Why a projection stopped: the event it could not apply (when one was the cause) and the error. */
export interface ProjectionFailure {
  error: string;
  at: string;
  event?: { id: string; position: bigint; streamId: string; type: string };
}

export interface ProjectionStatus {
  name: string;
  position: bigint;
  /** The error text of a stopped projection (its details: `failure`). */
  failed?: string;
  failure?: ProjectionFailure;
  /** Whether it is being rebuilt or caught up in the background. */
  catchingUp?: boolean;
}

/** A read waited for a projection that has stopped on an event it cannot apply (answered 503). */
export class ProjectionFailedError extends Error {
  constructor(readonly projections: readonly string[]) {
    super(`The read model${projections.length > 1 ? 's' : ''} ${projections.join(', ')} stopped on an event it cannot apply; an administrator has been told`);
    this.name = 'ProjectionFailedError';
  }
}

/** An administrator's request about a projection that does not fit its state (answered 409). */
export class ProjectionStateError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProjectionStateError';
  }
}

export class MinPositionTimeoutError extends Error {
  constructor(readonly position: bigint) {
    super(`The read models have not reached position ${position} yet`);
    this.name = 'MinPositionTimeoutError';
  }
}

/**
 * Runs projections: each follows the global log from its checkpoint with its own subscription, applies
 * events idempotently and records how far it got. `waitFor` lets a reader see its own writes.
 */
export class ProjectionRunner {
  private readonly positions = new Map<string, bigint>();
  private readonly failures = new Map<string, ProjectionFailure>();
  /** The live subscriptions to the log (one at a time, but for a moment while one is replaced). */
  private readonly sessions: FollowSession[] = [];
  /** What live subscriptions handed out and is not applied yet, in log order. */
  private queue: { session: FollowSession; item: RecordedEvent | bigint }[] = [];
  private draining: Promise<void> | undefined;
  private saveIfDue: (force?: boolean) => Promise<void> = async () => {};
  private waiters: { position: bigint; names: readonly string[]; resolve: () => void }[] = [];
  private retry: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Pause before following the log again after a store could not be reached (doubled for each outage in a row). */
  retryMs = 1000;
  /** Outages in a row since events were last applied. */
  private outages = 0;
  /**
   * A backlog of at least this many events applied in one go (a rebuild, a replay, a start from empty or far
   * behind read models) is followed by one compaction of the heap; 0: never.
   */
  compactAfterEvents = 100_000;
  /** How the heap is compacted (a test's stand-in counts the calls). */
  compactHeap: () => Compaction = compactHeap;
  /** Events the live subscription applied since the runner last caught up with the log. */
  private backlog = 0;
  /**
   * How a replay reads the log: through the event store, a batch ahead, unless the wiring gives a reader that
   * reads in a thread of its own (the embedded log), so the replay's thread only applies.
   */
  readLog: LogReader;
  /** Where the wiring gives it (the embedded log): the projections a replay applies in its reading thread. */
  replayBeside: ReplayBeside | undefined;

  /**
   * `rebuildStaging`, given for a read store across the network: a rebuild replays into the in-process store it
   * returns, then loads each collection into the real one with bulk writes, instead of a round trip per event.
   */
  constructor(
    private readonly eventStore: EventStore,
    private readonly readStore: ReadStore,
    readonly projections: readonly Projection[],
    private readonly logger: Logger,
    private readonly rebuildStaging?: () => ReadStore,
  ) {
    this.readLog = readingAhead(eventStore);
  }

  private checkpoints() {
    return this.readStore.collection<CheckpointDoc>(CHECKPOINTS);
  }

  /** Empties a projection and sets its checkpoint to the start; `keepSkips` keeps an administrator's skipped events. */
  private async reset(projection: Projection, keepSkips = false): Promise<void> {
    for (const name of projection.collections) await this.readStore.collection(name).drop();
    const skipped = keepSkips ? await this.skipped(projection.name) : [];
    this.skippedCache.delete(projection.name);
    this.positions.set(projection.name, 0n);
    await this.fencedWrite(`the checkpoint of ${projection.name}`, () =>
      this.checkpoints().replaceOne(
        fencedFilter(projection.name, this.fence),
        { _id: projection.name, version: projection.version, position: 0, ...(skipped.length ? { skipped } : {}), ...fenceField(this.fence) },
        { upsert: true },
      ),
    );
  }

  private async saveCheckpoint(projection: Projection, position: bigint): Promise<void> {
    this.positions.set(projection.name, position);
    await this.fencedWrite(`the checkpoint of ${projection.name}`, () =>
      this.checkpoints().updateOne(fencedFilter(projection.name, this.fence), { $set: { position: Number(position), version: projection.version, ...fenceField(this.fence) } }, { upsert: true }),
    );
    this.notify();
  }

  private fencedWrite<R>(what: string, write: () => Promise<R>): Promise<R> {
    return fencedWrite(this.fence, what, write);
  }

  /** The lease this runner's writes are fenced by (a leader-elected worker's); set before start. */
  private fence: Fence | undefined;
  fenceWith(fence: Fence): void {
    this.fence = fence;
  }

  /**
   * Follows the log with one subscription for all projections (one read per batch, not one per projection),
   * from the lowest checkpoint; each projection skips what it has applied. A projection that fails stops on
   * its own and is reported; the others go on. Checkpoints are written at most every `checkpointEveryMs` and
   * on stop: a replay from an older checkpoint is harmless, the documents are idempotent.
   */
  async start(checkpointEveryMs = 1000): Promise<void> {
    // A standby worker that observed the leader's progress applies the log itself from now on: what it saw of the
    // old leader's failures and catch-ups is its own business to find out again (a failure recurs on its event).
    this.observing = false;
    clearTimeout(this.observeTimer);
    this.failures.clear();
    this.catchingUp.clear();
    const stale: Projection[] = [];
    const head = await this.eventStore.headPosition();
    for (const projection of this.projections) {
      const saved = await this.checkpoints().findOne({ _id: projection.name });
      // A checkpoint past the log's head has seen events the log no longer has (its last commits were lost, e.g.
      // to a power cut): positions will be used again by new events, which it would skip. Its documents cannot
      // be trusted either: rebuild it.
      const ahead = saved !== null && BigInt(saved.position) > head;
      if (ahead) this.logger.error('projection checkpoint is ahead of the event log (events were lost); rebuilding it from the log', { projection: projection.name, checkpoint: saved.position, head });
      if (!saved || saved.version !== projection.version || ahead) {
        if (saved && !ahead) this.logger.info('projection version changed, rebuilding', { projection: projection.name });
        await this.reset(projection);
        stale.push(projection);
      }
      await setUp(projection, this.readStore);
      this.positions.set(projection.name, BigInt(saved?.version === projection.version && !ahead ? saved.position : 0));
    }
    let lastSave = Date.now();
    this.saveIfDue = async (force = false) => {
      if (!force && Date.now() - lastSave < checkpointEveryMs) return;
      lastSave = Date.now();
      for (const projection of this.projections) if (this.following(projection)) await this.saveCheckpoint(projection, this.positions.get(projection.name)!);
    };
    this.saveAll = () => this.saveIfDue(true);
    const categories = [...new Set(this.projections.flatMap((p) => p.categories))];
    const follow = (this.follow = () => {
      const live = this.projections.filter((p) => this.following(p)).map((p) => this.positions.get(p.name)!);
      const from = live.reduce((min, position) => (position < min ? position : min), live[0] ?? 0n);
      const session: FollowSession = { closed: false };
      session.subscription = this.eventStore.subscribeToAll(
        { after: from, filter: { categories } },
        {
          onEvent: (event) => this.enqueue(session, event),
          onCheckpoint: (position) => this.enqueue(session, position),
          onError: (error) => this.stopFollowing(session, error),
        },
      );
      this.sessions.push(session);
    });
    // With a remote read store, projections starting from nothing catch up in process and are bulk-loaded in
    // the background (the service answers meanwhile; /readyz says they are behind) while the others follow the
    // log; then the subscription starts again from the lowest position, now including them.
    if (this.rebuildStaging && stale.length && (await this.eventStore.headPosition()) > 0n) {
      for (const projection of stale) this.catchingUp.add(projection.name);
      this.catchUp = this.catchUpInBackground(stale, async () => {
        await this.closeSessions();
        clearTimeout(this.retry);
        follow();
      });
    }
    if (this.projections.some((projection) => this.following(projection))) follow();
    if (this.readStore.shared && this.fence) this.serveRequests();
  }

  /**
   * Takes what a live subscription hands out into the queue, applied by one drain at a time in batches (a turn
   * of the event loop's worth, at most BATCH): the subscription waits while a full batch is queued.
   */
  private enqueue(session: FollowSession, item: RecordedEvent | bigint): Promise<void> | undefined {
    if (session.closed) return undefined;
    this.queue.push({ session, item });
    this.draining ??= this.drain();
    return this.queue.length >= BATCH ? this.draining : undefined;
  }

  private async drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    let taken = 0;
    let applied = 0;
    try {
      while (this.queue.length) {
        // Items of a subscription closed meanwhile are dropped: its successor reads the log again from the positions.
        const items = this.queue.splice(0, BATCH).filter(({ session }) => !session.closed);
        if (items.length === 0) continue;
        const session = items[0]!.session;
        taken += items.length;
        for (const { item } of items) if (typeof item !== 'bigint') applied += 1;
        try {
          await this.applyLive(items.map(({ item }) => item));
        } catch (error) {
          this.stopFollowing(session, error);
        }
      }
    } finally {
      this.draining = undefined;
    }
    // A catch-up hands out full batches (the subscription waits for each); a shorter one is the log's tail.
    this.backlog += applied;
    if (taken < BATCH) {
      const backlog = this.backlog;
      this.backlog = 0;
      this.compactAfter(backlog, 'catching up with the log');
    }
  }

  /** Compacts the heap after a backlog large enough to have left it fragmented (see compactHeap). */
  private compactAfter(events: number, what: string): void {
    if (this.compactAfterEvents <= 0 || events < this.compactAfterEvents || this.stopping) return;
    const compaction = this.compactHeap();
    this.logger.info(`heap compacted after ${what}`, { events, ...compaction });
  }

  /**
   * Applies a batch of the live log to the projections following it, each changed document written once, then
   * moves their positions past it (and past a checkpoint in it). When the batch fails, it is applied again one
   * event at a time, so only the projection that cannot apply an event stops, on that event.
   */
  private async applyLive(items: readonly (RecordedEvent | bigint)[]): Promise<void> {
    if (this.fence && !this.fence.valid()) throw new FencedError('applying events');
    const events = items.filter((item): item is RecordedEvent => typeof item !== 'bigint');
    // Items come in log order: the last one (an event, or a checkpoint past the events) is how far the log was read.
    const last = items[items.length - 1]!;
    const reached = typeof last === 'bigint' ? last : last.position;
    const following = this.projections.filter((projection) => this.following(projection));
    // A stop ends the batch before its next event: the unit is not committed, the positions stay, and the next
    // start applies the batch again (a batch against a slow store would otherwise hold the stop for all of it).
    const takes = (projection: Projection, event: RecordedEvent) => {
      if (this.stopping) throw new StoppedDuringBatch();
      return event.position > this.positions.get(projection.name)!;
    };
    try {
      await applyInUnit(events, following, this.readStore, takes);
    } catch (error) {
      if (error instanceof StoppedDuringBatch) return;
      if (error instanceof ReadStoreUnavailableError) throw error;
      // Again one event at a time, to name the event that fails. A stop cuts this short: the positions stay at
      // the last event applied, and the next start applies the rest again (projections are idempotent).
      for (const event of events) {
        if (this.stopping) return;
        await this.applyOne(event);
      }
    }
    for (const projection of this.projections)
      if (this.following(projection) && reached > this.positions.get(projection.name)!) this.positions.set(projection.name, reached);
    this.outages = 0;
    this.notify();
    await this.saveIfDue();
  }

  /** Applies one event straight to the read store; a projection that cannot apply it stops, the others go on. */
  private async applyOne(event: RecordedEvent): Promise<void> {
    const category = categoryOf(event.streamId);
    for (const projection of this.projections) {
      if (!this.following(projection) || event.position <= this.positions.get(projection.name)!) continue;
      if (projection.categories.includes(category)) {
        try {
          await projection.apply(event, this.readStore);
        } catch (error) {
          if (error instanceof ReadStoreUnavailableError) throw error;
          this.fail(projection.name, error, failedEvent(event));
          continue;
        }
      }
      this.positions.set(projection.name, event.position);
    }
  }

  /**
   * Ends a live subscription that failed: with the read store unreachable, follows the log again after a pause
   * from the positions applied; on any other error, the projections following it stop.
   */
  private stopFollowing(session: FollowSession, error: unknown): void {
    if (session.closed) return;
    session.closed = true;
    const index = this.sessions.indexOf(session);
    if (index >= 0) this.sessions.splice(index, 1);
    void session.subscription?.close().catch(() => {});
    if (error instanceof FencedError) return this.stepDown(error);
    if (isOutage(error) && !this.stopping) {
      // Nothing is wrong with the events: pause (longer each time in a row, up to MAX_PAUSE_MS), then go on from
      // the last position applied.
      const pauseMs = Math.min(this.retryMs * 2 ** this.outages, MAX_PAUSE_MS);
      this.outages += 1;
      this.logger.warn(`${error instanceof ReadStoreUnavailableError ? 'read' : 'event'} store unreachable; projections pause and follow the log again`, { error: error.message, retryMs: pauseMs });
      this.retry = setTimeout(this.follow, pauseMs);
      return;
    }
    for (const projection of this.projections) if (this.following(projection)) this.fail(projection.name, error);
  }

  private async closeSessions(): Promise<void> {
    const closing = this.sessions.splice(0);
    for (const session of closing) session.closed = true;
    await Promise.all(closing.map((session) => session.subscription?.close()));
  }

  /** Whether a projection takes events from the live subscription (not failed, not being caught up). */
  private following(projection: Projection): boolean {
    return !this.failures.has(projection.name) && !this.catchingUp.has(projection.name);
  }

  private catchUp: Promise<void> | undefined;
  /** Projections being caught up in the background: their checkpoints stay unwritten until that is done. */
  private readonly catchingUp = new Set<string>();

  private async catchUpInBackground(stale: readonly Projection[], then: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        // A cut-off attempt may have loaded part of the documents: start again from empty collections.
        if (attempt > 1) for (const projection of stale) await this.reset(projection, true);
        const head = await this.replay(stale);
        for (const projection of stale) {
          this.positions.set(projection.name, head);
          this.catchingUp.delete(projection.name);
        }
        this.notify();
        if (!this.stopping) await then();
        return;
      } catch (error) {
        if (this.stopping) return;
        if (!isOutage(error)) {
          const event = error instanceof ProjectionApplyError ? error.event : undefined;
          for (const projection of stale) {
            this.catchingUp.delete(projection.name);
            this.fail(projection.name, error instanceof ProjectionApplyError ? error.cause : error, event && (!(error instanceof ProjectionApplyError) || error.projection === projection.name) ? event : undefined);
          }
          return;
        }
        this.logger.warn(`${error instanceof ReadStoreUnavailableError ? 'read' : 'event'} store unreachable during catch-up; retrying`, { error: error.message, retryMs: this.retryMs });
        await new Promise((resolve) => setTimeout(resolve, this.retryMs));
        if (this.stopping) return;
      }
    }
  }

  private saveAll: () => Promise<void> = async () => {};

  /** Replays the whole log into every projection from scratch; `onProgress` gets (events applied, position reached, head). */
  async rebuild(onProgress: (applied: number, position: bigint, head: bigint) => void = () => {}, batchSize = REPLAY_BATCH): Promise<number> {
    for (const projection of this.projections) await this.reset(projection);
    let applied = 0;
    await this.replay(this.projections, (done, position, head) => onProgress((applied = done), position, head), batchSize);
    return applied;
  }

  /**
   * Applies the log up to its current head to the given (empty) projections, in process first when a staging
   * store is configured, and records their checkpoints at that head, which it returns.
   */
  private async replay(projections: readonly Projection[], onProgress: (applied: number, position: bigint, head: bigint) => void = () => {}, batchSize = REPLAY_BATCH): Promise<bigint> {
    const head = await this.eventStore.headPosition();
    const staging = this.rebuildStaging?.() ?? this.readStore;
    if (staging !== this.readStore) await this.copyReads(projections, staging);
    const { done: applied, readInThread } = await this.applyLog(projections, staging, { head, onProgress, batchSize });
    if (staging !== this.readStore) {
      for (const projection of projections) await this.load(projection, staging);
      await staging.close();
    }
    for (const projection of projections) await this.saveCheckpoint(projection, head);
    await this.readStore.flush();
    // A replay whose log a thread of its own read, applying projections beside it (a rebuild of every read model of
    // the embedded log), leaves little to compact: its events die young here (the thread hands them over one part at
    // a time), and the documents it wrote live on. On the 100k benchmark log a compaction after it took 0.9 s and
    // gave back 42 MB at rest (1,087 against 1,129 MB).
    if (!readInThread) this.compactAfter(applied, 'a replay');
    return head;
  }

  /**
   * Builds the given projections in `store` (empty, of the caller's) from the log as it stood when `within` last
   * admitted an event: from the start, up to the first event it refuses (the log is in time order). A read model
   * of a past instant (reports `?asOf=`); what the projections read while applying comes from the live store.
   * Returns the position of the last event applied and how many were applied.
   */
  async replayCut(
    projections: readonly Projection[],
    store: ReadStore,
    within: (event: RecordedEvent) => boolean,
    onProgress: (applied: number) => void = () => {},
  ): Promise<{ position: bigint; applied: number }> {
    await this.copyReads(projections, store);
    const head = await this.eventStore.headPosition();
    let applied = 0;
    const { reached } = await this.applyLog(projections, store, { head, within, onProgress: (done) => onProgress((applied = done)), batchSize: BATCH, yieldEachBatch: true });
    return { position: reached, applied };
  }

  /** Copies into a staging store the other read models' collections the projections read while applying. */
  private async copyReads(projections: readonly Projection[], staging: ReadStore): Promise<void> {
    for (const name of new Set(projections.flatMap((p) => p.reads ?? []))) {
      const docs = await this.readStore.collection(name).find({});
      if (docs.length) await staging.collection(name).bulkWrite(docs.map((document) => ({ insertOne: { document } })));
    }
  }

  /**
   * Applies the log from its start up to `head` to the (empty) projections in `store`, in batches of
   * `batchSize` written once each, stopping before the first event `within` refuses; an administrator's skipped
   * events stay skipped. Returns how many events were applied and the position of the last one read.
   */
  private async applyLog(
    projections: readonly Projection[],
    store: ReadStore,
    options: { head: bigint; within?: (event: RecordedEvent) => boolean; onProgress: (applied: number, position: bigint, head: bigint) => void; batchSize: number; yieldEachBatch?: boolean; beside?: false },
  ): Promise<{ done: number; reached: bigint; readInThread: boolean }> {
    const { head, within, onProgress, batchSize } = options;
    for (const projection of projections) await setUp(projection, store);
    const categories = [...new Set(projections.flatMap((p) => p.categories))];
    // One unit for the whole replay: nobody reads these projections' documents meanwhile (a rebuild, a staging
    // store, a read model of a past instant), so each document is written once, at the end. Their collections
    // start empty, so the twins of day counters are summed from them then, not counted with each event.
    const unit = new WriteBackStore(store, { sumsTwins: true });
    const read = { after: 0n, filter: { categories }, maxCount: batchSize, until: head };
    // A replay of the whole log may have some projections applied beside its reading, in the reading thread.
    const beside = !within && options.beside !== false && this.replayBeside ? this.replayBeside(read, projections, await this.skippedOf(projections)) : undefined;
    const own = beside ? projections.filter((projection) => !beside.projections.includes(projection)) : projections;
    const takes = (projection: Projection, event: RecordedEvent) => {
      const skipped = this.skippedIn(projection, event);
      return typeof skipped === 'boolean' ? !skipped : skipped.then((known) => !known);
    };
    let reached = 0n;
    let done = 0;
    let fellBack = false;
    try {
      for await (const events of beside?.batches ?? this.readLog(read)) {
        if (this.stopping) throw new Error('stopped during a replay');
        const inRange = events.filter((event) => event.position <= head);
        const cut = within ? inRange.findIndex((event) => !within(event)) : -1;
        const batch = cut >= 0 ? inRange.slice(0, cut) : inRange;
        await applyBatch(batch, own, unit, store, takes);
        done += batch.length;
        if (batch.length) reached = batch[batch.length - 1]!.position;
        onProgress(done, events.length ? events[events.length - 1]!.position : head, head);
        // The reader ends by itself at the head (`until`) or the log's end.
        if (cut >= 0) break;
        // A replay beside live requests (a report as of a past instant) lets them in between its batches.
        if (options.yieldEachBatch) await new Promise((resolve) => setImmediate(resolve));
      }
      await unit.commit();
      if (beside) {
        const documents = await beside.documents();
        // The thread stopped before it was done (not for an event): those projections are applied here, from the start.
        // Documents that came from the thread are this replay's own: frozen where they are, not copied by the store.
        if (documents) for (const [name, docs] of documents) await insertAll(store.collection(name), freezeOwned(docs));
        else {
          fellBack = true;
          await this.applyLog(beside.projections, store, { head, onProgress: () => {}, batchSize, beside: false });
        }
      }
    } finally {
      beside?.close();
    }
    return { done, reached: within ? reached : head, readInThread: beside !== undefined && !fellBack };
  }

  /** Copies a projection's collections from the staging store into the read store, in bulk writes. */
  private async load(projection: Projection, staging: ReadStore): Promise<void> {
    await setUp(projection, this.readStore);
    for (const name of projection.collections) await insertAll(this.readStore.collection(name), await staging.collection(name).find({}));
  }

  /** The events an administrator had each of these projections skip, by projection name (a rebuild skips them again). */
  private async skippedOf(projections: readonly Projection[]): Promise<Record<string, string[]>> {
    return Object.fromEntries(await Promise.all(projections.map(async (p) => [p.name, (await this.skipped(p.name)).map((s) => s.eventId)] as const)));
  }

  status(): ProjectionStatus[] {
    return this.projections.map((p) => {
      const failure = this.failures.get(p.name);
      return {
        name: p.name,
        position: this.positions.get(p.name) ?? 0n,
        ...(failure ? { failed: failure.error, failure } : {}),
        ...(this.catchingUp.has(p.name) ? { catchingUp: true } : {}),
      };
    });
  }

  /** The events an administrator had a projection skip, oldest first. */
  async skipped(name: string): Promise<SkippedEvent[]> {
    return (await this.checkpoints().findOne({ _id: name }))?.skipped ?? [];
  }

  private skippedCache = new Map<string, Set<string>>();
  /** Whether an administrator had this projection skip the event (a rebuild skips it again). */
  private skippedIn(projection: Projection, event: { id: string }): boolean | Promise<boolean> {
    const ids = this.skippedCache.get(projection.name);
    // (Most projections skip nothing: no hash of each event's id to compute for an empty set.)
    if (ids) return ids.size > 0 && ids.has(event.id);
    return this.skipped(projection.name).then((skipped) => {
      const known = new Set(skipped.map((s) => s.eventId));
      this.skippedCache.set(projection.name, known);
      return known.has(event.id);
    });
  }

  private fail(name: string, error: unknown, event?: ProjectionFailure['event']): void {
    const failure: ProjectionFailure = { error: error instanceof Error ? error.message : String(error), at: new Date().toISOString(), ...(event ? { event } : {}) };
    this.failures.set(name, failure);
    this.logger.error('projection stopped', { projection: name, ...(event ? { eventId: event.id, position: event.position, streamId: event.streamId, type: event.type } : {}), error });
    // Readers waiting for it learn at once that it will not get there.
    this.notify();
  }

  private projectionNamed(name: string): Projection {
    const projection = this.projections.find((p) => p.name === name);
    if (!projection) throw new ProjectionStateError('projection.not_found', `There is no projection ${name}`);
    return projection;
  }

  /** Restarts the live subscription (after a projection was repaired), from the lowest position of those following. */
  private async refollow(): Promise<void> {
    await this.closeSessions();
    clearTimeout(this.retry);
    if (!this.stopping) this.follow();
  }

  private follow: () => void = () => {};
  /** Set once a fenced write was refused: nothing more is applied or written. */
  private deposed = false;

  /** Deposed: another worker applies the log now; this one stops following it (its leadership ends the process). */
  private stepDown(error: FencedError): void {
    this.deposed = true;
    void this.closeSessions();
    this.logger.warn('projections stop: another worker leads', { error: error.message });
  }

  /**
   * An administrator's decision about a projection stopped on an event: skip that event (named by its id, so a
   * stale decision cannot skip another) and go on after it. The skip is kept with the checkpoint, so a rebuild
   * skips it again.
   */
  async skipEvent(name: string, eventId: string, by: string): Promise<SkippedEvent> {
    const projection = this.projectionNamed(name);
    const failure = this.failures.get(name);
    if (!failure?.event) throw new ProjectionStateError('projection.not_failed', `Projection ${name} has not stopped on an event`);
    if (failure.event.id !== eventId) throw new ProjectionStateError('projection.other_event', `Projection ${name} stopped on event ${failure.event.id}, not ${eventId}`);
    const skipped: SkippedEvent = { eventId, position: Number(failure.event.position), streamId: failure.event.streamId, type: failure.event.type, error: failure.error, skippedBy: by, skippedAt: new Date().toISOString() };
    if (this.observing) {
      // The leading worker does it (it checks the failure again); this instance sees it in the progress it reads.
      await this.request({ kind: 'skip', name, eventId, by });
      return skipped;
    }
    await this.fencedWrite(`the checkpoint of ${name}`, () => this.checkpoints().updateOne(fencedFilter(name, this.fence), { $push: { skipped } }, { upsert: true }));
    this.skippedCache.delete(name);
    this.failures.delete(name);
    await this.saveCheckpoint(projection, failure.event.position);
    this.logger.warn('projection skipped an event on an administrator\'s decision', { projection: name, eventId, by });
    await this.refollow();
    return skipped;
  }

  /** Drops a projection's documents and replays the log into it in the background; it follows the log again after. */
  async rebuildProjection(name: string): Promise<void> {
    const projection = this.projectionNamed(name);
    if (this.catchingUp.has(name)) throw new ProjectionStateError('projection.rebuilding', `Projection ${name} is being rebuilt already`);
    this.failures.delete(name);
    this.catchingUp.add(name);
    if (this.observing) {
      await this.request({ kind: 'rebuild', name });
      return;
    }
    await this.reset(projection, true);
    this.notify();
    const previous = this.catchUp;
    this.catchUp = Promise.all([previous, this.catchUpInBackground([projection], () => this.refollow())]).then(() => {});
  }

  /** The projections that own these collections (what a route reading them must wait for). */
  projectionsReading(collections: readonly string[]): string[] {
    return this.projections.filter((p) => p.collections.some((c) => collections.includes(c))).map((p) => p.name);
  }

  private reached(position: bigint, names: readonly string[]): boolean {
    return names.every((name) => (this.positions.get(name) ?? 0n) >= position);
  }

  private notify(): void {
    this.progressChanged();
    if (this.waiters.length === 0) return;
    const pending = this.waiters;
    this.waiters = [];
    for (const waiter of pending) {
      if (this.reached(waiter.position, waiter.names) || waiter.names.some((name) => this.failures.has(name))) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }

  /**
   * Resolves once every named projection (default: all) has applied `position`; rejects after `timeoutMs`, and
   * at once (ProjectionFailedError) if one of them has stopped on an event, now or while waiting.
   */
  async waitFor(position: bigint, timeoutMs: number, names: readonly string[] = this.projections.map((p) => p.name)): Promise<void> {
    if (this.reached(position, names)) return;
    const stopped = () => names.filter((name) => this.failures.has(name));
    if (stopped().length) throw new ProjectionFailedError(stopped());
    // A filtered subscription reports progress past the events it skips only now and then (EventStoreDB: once per
    // search window): caught up with `position` means having applied the last event at or before it that these
    // projections follow.
    const categories = [...new Set(this.projections.filter((p) => names.includes(p.name)).flatMap((p) => p.categories))];
    const target = await this.eventStore.lastPositionMatching({ categories }, position);
    if (this.reached(target, names)) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        position: target,
        names,
        resolve: () => {
          clearTimeout(timer);
          if (stopped().length && !this.reached(target, names)) reject(new ProjectionFailedError(stopped()));
          else resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new MinPositionTimeoutError(position));
      }, timeoutMs);
      this.waiters.push(waiter);
      if (this.waiters.length === 1) this.pollSoon();
    });
  }

  private stopped: Promise<void> | undefined;
  /** Stops following the log and saves the checkpoints (once, however often it is called). */
  stop(): Promise<void> {
    return (this.stopped ??= this.stopOnce());
  }

  private async stopOnce(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retry);
    clearTimeout(this.progressTimer);
    clearInterval(this.requestsTimer);
    clearTimeout(this.observeTimer);
    await this.serving;
    await this.catchUp;
    await this.closeSessions();
    await this.draining;
    if (this.observing || this.deposed) return;
    await this.saveAll().catch((error: unknown) => this.logger.error('could not save projection checkpoints', { error }));
    await this.writeProgress().catch((error: unknown) => this.logger.warn('could not publish the projections\' progress', { error: (error as Error).message }));
  }

  // ——— Sharing the runner's progress with API instances (a shared read store) ———

  private progressTimer: NodeJS.Timeout | undefined;
  private progressWritten = 0;
  private requestsTimer: NodeJS.Timeout | undefined;
  private serving: Promise<void> | undefined;
  private observing = false;
  private observeTimer: NodeJS.Timeout | undefined;
  /** How often at most the leading runner publishes its progress, and API instances read it while a reader waits. */
  progressEveryMs = 25;

  /** After positions or failures changed: publishes them (a leader-elected worker's runner), at most every progressEveryMs. */
  private progressChanged(): void {
    // Only a leader-elected worker has API instances reading its progress (its runner is fenced).
    if (!this.readStore.shared || !this.fence || this.observing || this.deposed || this.progressTimer) return;
    const wait = Math.max(0, this.progressWritten + this.progressEveryMs - Date.now());
    this.progressTimer = setTimeout(() => {
      this.progressTimer = undefined;
      this.progressWritten = Date.now();
      if (this.stopping) return;
      (this.progressWriting = this.writeProgress()).catch((error: unknown) => {
        if (error instanceof FencedError) this.stepDown(error);
        else this.logger.warn('could not publish the projections\' progress; trying again with the next change', { error: (error as Error).message });
      });
    }, wait);
  }

  /** The progress write in flight: the next one waits for it (two at once could collide on a first insert). */
  private progressWriting: Promise<void> | undefined;

  private async writeProgress(): Promise<void> {
    if (!this.readStore.shared || !this.fence) return;
    await this.progressWriting?.catch(() => {});
    const doc: ProgressDoc = {
      _id: PROGRESS_ID,
      positions: Object.fromEntries([...this.positions].map(([name, position]) => [name, Number(position)])),
      failures: Object.fromEntries([...this.failures].map(([name, { event, ...failure }]) => [name, { ...failure, ...(event ? { event: { ...event, position: Number(event.position) } } : {}) }])),
      catchingUp: [...this.catchingUp],
      ...fenceField(this.fence),
      at: new Date().toISOString(),
    };
    await this.fencedWrite('the projections\' progress', () => this.readStore.collection<ProgressDoc>(PROGRESS).replaceOne(fencedFilter(PROGRESS_ID, this.fence), doc, { upsert: true }));
  }

  /**
   * Serves API instances (role `api`): no projection runs here; their positions, failures and rebuilds are read
   * from the progress the leading worker publishes (polled every `pollMs`, and every progressEveryMs while a
   * reader waits for its writes), and administrators' requests are handed to that worker.
   */
  async observe(pollMs = 1000): Promise<void> {
    this.observing = true;
    for (const projection of this.projections) this.positions.set(projection.name, 0n);
    await this.readProgress();
    this.schedulePoll(pollMs);
  }

  /** The next read of the leader's progress: soon while a reader waits, every `pollMs` otherwise. */
  private schedulePoll(pollMs: number): void {
    clearTimeout(this.observeTimer);
    this.observeTimer = setTimeout(
      () =>
        void this.readProgress()
          .catch((error: unknown) => this.logger.warn('could not read the projections\' progress', { error: (error as Error).message }))
          .finally(() => {
            if (!this.stopping && this.observing) this.schedulePoll(pollMs);
          }),
      this.waiters.length ? this.progressEveryMs : pollMs,
    );
    this.observeTimer.unref();
    this.pollSoon = () => {
      if (this.observing && !this.stopping) this.schedulePoll(pollMs);
    };
  }

  /** Reads the progress at once (a reader started waiting). */
  private pollSoon: () => void = () => {};

  private async readProgress(): Promise<void> {
    const doc = await this.readStore.collection<ProgressDoc>(PROGRESS).findOne({ _id: PROGRESS_ID });
    if (!doc || !this.observing) return;
    for (const projection of this.projections) this.positions.set(projection.name, BigInt(doc.positions[projection.name] ?? 0));
    this.failures.clear();
    for (const [name, { event, ...failure }] of Object.entries(doc.failures)) this.failures.set(name, { ...failure, ...(event ? { event: { ...event, position: BigInt(event.position) } } : {}) });
    this.catchingUp.clear();
    for (const name of doc.catchingUp) this.catchingUp.add(name);
    this.notify();
  }

  private async request(request: Omit<RequestDoc, '_id'>): Promise<void> {
    await this.readStore.collection<RequestDoc>(PROJECTION_REQUESTS).insertOne({ _id: `${request.kind}:${request.name}:${Date.now()}:${Math.random().toString(36).slice(2)}`, ...request } as RequestDoc);
  }

  /** The leading runner does what API instances asked (polled every `everyMs`), each request once. */
  private serveRequests(everyMs = 500): void {
    this.requestsTimer = setInterval(() => {
      if (this.serving || this.deposed) return;
      this.serving = (async () => {
        for (const request of await this.readStore.collection<RequestDoc>(PROJECTION_REQUESTS).find({})) {
          try {
            if (request.kind === 'rebuild') await this.rebuildProjection(request.name);
            else await this.skipEvent(request.name, request.eventId, request.by);
          } catch (error) {
            this.logger.warn('an administrator\'s request about a projection could not be done', { request: request.kind, projection: request.name, error: (error as Error).message });
          }
          await this.readStore.collection(PROJECTION_REQUESTS).deleteOne({ _id: request._id });
        }
      })()
        .catch((error: unknown) => this.logger.warn('could not read the requests about projections', { error: (error as Error).message }))
        .finally(() => (this.serving = undefined));
    }, everyMs);
    this.requestsTimer.unref();
  }
}

/** Events applied in one unit of work, each document they change written once. */
const BATCH = 2000;
/**
 * Events read per batch of a replay in the background (a rebuild, a catch-up): fewer batches to hand over from the
 * reading thread (about 5 % faster on the 100k log than 2,000). A report as of a past instant keeps BATCH: it lets
 * requests in between its batches.
 */
export const REPLAY_BATCH = 5000;
/** The longest pause before following the log again after an outage. */
const MAX_PAUSE_MS = 30_000;

/** Sets a projection's indexes up; an index it changed without a new version is named with the projection to bump. */
async function setUp(projection: Projection, store: ReadStore): Promise<void> {
  try {
    await projection.setup(store);
  } catch (error) {
    if (!(error instanceof IndexConflictError)) throw error;
    throw new Error(`Projection ${projection.name} (version ${projection.version}) cannot set up its indexes: ${error.message}. Its indexes changed: bump its version, so that it is rebuilt with them`, { cause: error });
  }
}

/** A store that cannot be reached right now (nothing is wrong with the events): pause and try again. */
const isOutage = (error: unknown): error is ReadStoreUnavailableError | EventStoreUnavailableError => error instanceof ReadStoreUnavailableError || error instanceof EventStoreUnavailableError;

/** A live subscription to the log; what it handed out is dropped from the queue once it is closed. */
interface FollowSession {
  closed: boolean;
  subscription?: Subscription;
}

/**
 * Applies events to the projections that take them through one write-back unit, so each document they change is
 * written once; throws what an apply or the commit throws (nothing is committed then but what a query wrote).
 */
async function applyInUnit(events: readonly RecordedEvent[], projections: readonly Projection[], store: ReadStore, takes: Takes): Promise<void> {
  const unit = new WriteBackStore(store);
  await applyEvents(events, projections, unit, takes);
  await unit.commit();
}

/**
 * Applies a replay's batch through its unit. Where an apply fails, what the unit holds is written (the events
 * before the failure, and what the failing event's appliers wrote: projections are idempotent), then the batch is
 * applied again one event at a time, straight to the store, so that the failure names its event and projection
 * (a ProjectionApplyError); an unreachable store is thrown as it is.
 */
export async function applyBatch(batch: readonly RecordedEvent[], projections: readonly Projection[], unit: WriteBackStore, store: ReadStore, takes: Takes): Promise<void> {
  try {
    await applyEvents(batch, projections, unit, takes);
  } catch (error) {
    if (error instanceof ReadStoreUnavailableError) throw error;
    await unit.commit();
    for (const event of batch) {
      const category = categoryOf(event.streamId);
      for (const projection of projections)
        if (projection.categories.includes(category) && (await takes(projection, event)))
          await projection.apply(event, store).catch((error: unknown) => {
            throw error instanceof ReadStoreUnavailableError ? error : new ProjectionApplyError(projection.name, failedEvent(event), error);
          });
    }
  }
}

/**
 * Writes documents into an empty collection, in one bulk write: the embedded store then takes them all at once and
 * builds each index over them once (in parts of 1,000, every part after the first was indexed document by
 * document); MongoDB's driver splits it into batches of its own.
 */
async function insertAll(collection: Collection, docs: readonly Doc[]): Promise<void> {
  if (docs.length > 0) await collection.bulkWrite(docs.map((document) => ({ insertOne: { document } })));
}

/** Applies events to the projections that take them, in log order (a batch looks up each category's projections once). */
async function applyEvents(events: readonly RecordedEvent[], projections: readonly Projection[], store: ReadStore, takes: Takes): Promise<void> {
  const following = new Map<string, readonly Projection[]>();
  for (const event of events) {
    const category = categoryOf(event.streamId);
    let ofCategory = following.get(category);
    if (!ofCategory) following.set(category, (ofCategory = projections.filter((projection) => projection.categories.includes(category))));
    for (const projection of ofCategory) {
      if (projection.ignores?.(event)) continue;
      // Most answers are known at once: no promise to wait for.
      const taken = takes(projection, event);
      if (taken === true || (taken !== false && (await taken))) await projection.apply(event, store);
    }
  }
}

/** Thrown into a live batch's unit when the runner stops: the batch is dropped uncommitted. */
class StoppedDuringBatch extends Error {}

/** What a failure keeps of the event it stopped on. */
const failedEvent = (event: RecordedEvent): NonNullable<ProjectionFailure['event']> => ({ id: event.id, position: event.position, streamId: event.streamId, type: event.type });

/** An event a projection could not apply during a replay, with the projection and the event named. */
export class ProjectionApplyError extends Error {
  constructor(
    readonly projection: string,
    readonly event: NonNullable<ProjectionFailure['event']>,
    override readonly cause: unknown,
  ) {
    super(`${projection} cannot apply event ${event.id}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'ProjectionApplyError';
  }
}
