import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { freezeOwned } from '../frozen.ts';
import { StreamBloom } from './stream-bloom.ts';
import { type ChainVerification, type ChainVerifier, GENESIS, linkHash, payloadHash } from './chain.ts';
import { type AppendOutcome, type EncodedWrite, encodeWrites, SqliteAppender } from './sqlite-appender.ts';
import { LogWriterThread, WriterThreadStoppedError } from './sqlite-writer-thread.ts';
import { ChainRangeVerifier, joinVerifications, VERIFY_SLICE } from './chain-range.ts';
import { verifyInWorker } from './chain-verify-worker.ts';
import { FALLBACK_CHECKPOINT_PAGES, WalCheckpointer } from './wal-checkpointer.ts';
import { type StreamWrite, type AppendResult, type EventFilter, type EventStore, type EventToAppend, EventStoreOutcomeUnknownError, type ExpectedRevision, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent, type Subscription, type SubscriptionHandlers } from './port.ts';

export interface SqliteEventStoreOptions {
  /** A file path, or ':memory:' for tests. */
  path: string;
  /**
   * 'normal' (default): WAL with synchronous=NORMAL; an acknowledged append survives the process being
   * killed (kill -9), a power cut may lose the last few. 'full': fsync on every commit, survives power loss.
   */
  durability?: 'normal' | 'full';
  /** How often a live subscription checks for appends made by another process (ms). */
  crossProcessPollMs?: number;
  /** How many streams are kept in memory after a read (default 10,000; 0 turns the cache off). */
  cachedStreams?: number;
  /**
   * Whether appends extend the hash chain (tamper evidence; default true). Off only to measure what the chain
   * costs (the benchmark): a log written without it fails verification at its first unchained event.
   */
  hashChain?: boolean;
  /**
   * Events this store appends before it hands the log's checkpoints to a thread of their own (default 2,000; a store
   * that writes little, as most tests', starts no thread). 0: from the first append; Infinity: never.
   */
  checkpointThreadAfter?: number;
  /** Threads a long verification of the chain may use (default: the cores available, at most 4; 1 keeps it in process). */
  verifyThreads?: number;
  /** The fewest positions a part of a verification in a thread of its own gets (default 100,000). */
  verifyPartMin?: number;
  /**
   * Keep the stored JSON text of each event the last `readAll` returned, for `rowTextOf` (a reader that hands the
   * events on to another thread as soon as it has read them: the log reader's).
   */
  keepsRowText?: boolean;
  /**
   * Whether appends are written by a thread of their own over a connection of their own (`LogWriterThread`), so
   * the thread that serves requests only encodes them (default false; a file only). The serving store's choice.
   */
  writerThread?: boolean;
}

/** A stream longer than this is read from the file every time rather than held in memory. */
const CACHED_EVENTS_MAX = 256;
/** What reading a stream that does not exist gives (shared: frozen). */
const NO_EVENTS: RecordedEvent[] = Object.freeze([]) as unknown as RecordedEvent[];

type Row = {
  position: number;
  id: string;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
};

/** Events retention removes per transaction. */
const EXPIRE_SLICE = 5_000;

/** Positions from which a part of a verification goes to a worker thread of its own. */
const PARALLEL_FROM = 100_000;

const BATCH = 512;
/**
 * Groups sent to the writer thread before the first is answered; it commits them in the order sent. With one, the
 * requests that came while a group committed were often all waiting for it and the next, and the serving thread
 * idled (9 % of it under a create load of 32 connections): creates went from 1,761/s (writing on that thread) to
 * 1,781/s with one, 1,917/s with two, 2,028/s with four, and 1,859/s with eight (means of four 12-second runs).
 */
const GROUPS_IN_FLIGHT = 4;
/** Positions a filtered read covers per query (see readAllSync). */
const READ_WINDOW = 8192;
/** A filtered read walks the positions rather than use the index where at least one position in this many matches. */
const DENSE_SHARE = 8;

/** An event's data and metadata as the log stores them (JSON). */
export interface RowText {
  data: string;
  metadata: string;
}

const toRecorded = (row: Row): RecordedEvent => ({
  id: row.id,
  streamId: row.stream_id,
  revision: BigInt(row.revision),
  position: BigInt(row.position),
  type: row.type,
  data: JSON.parse(row.data),
  metadata: JSON.parse(row.metadata),
});

/** An append waiting for the group commit. */
type PendingAppend = {
  /** Several writes are all or nothing (an atomic append across streams), encoded as their rows will hold them. */
  writes: EncodedWrite[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
};

/** The embedded event store: one SQLite file, WAL journal, one row per event. */
export class SqliteEventStore implements EventStore, ChainVerifier {
  private readonly db: Database.Database;
  private readonly appended = new EventEmitter();
  /** Counts appends made through this instance, so a subscription never misses one between read and wait. */
  private appendGeneration = 0;
  private readonly subscriptions = new Set<{ stop(): Promise<void> }>();
  private readonly pollMs: number;
  private readonly statements;
  private readonly filteredReads = new Map<string, Database.Statement>();
  /**
   * The stored text of the events the last readAll returned (keepsRowText), dropped with the next read. Not a
   * WeakMap (kept in the old generation, as a long-lived map is): measured, V8's young-generation collections
   * copied its values as if they were held, so nearly every text read was copied into the old generation, to die
   * there. On the 100k benchmark log the reading thread promoted 569 MB with it, 121 MB without; its collection
   * pauses took 1.4 s instead of 2.0 s, and the collector's helper threads 0.6 s instead of 1.0 s.
   */
  private rowTexts: Map<RecordedEvent, RowText> | undefined;
  /** The filters (their categories and types) whose last read found most positions matching: read by walking them. */
  private readonly denseFilters = new Set<string>();
  /**
   * Streams read recently (least recently read first), as the frozen events they hold, so a warm command reads
   * no row for the actor's employee record, roles, departments or field definitions. Exact: an append through
   * this store drops the stream it wrote, and before a stream is served from memory, the log's head is compared
   * with the last one this store knows of; if other writers (another process, another store on the file) have
   * appended since, the streams they wrote are dropped first.
   */
  private readonly streamCache = new Map<string, RecordedEvent[]>();
  /**
   * Which streams the log may hold: a stream certainly absent (a record being created) is answered without a query.
   * A serving store makes it when it opens, so its first request does not wait for it; a store for a batch job
   * (`cachedStreams: 0`: the log reader's thread, a backup) makes it on first use, so one that only reads the log
   * never reads every stream id.
   */
  private bloom: StreamBloom | undefined;
  private readonly cachedStreams: number;
  /** The log head up to which the cache knows every append. */
  private knownHead = 0;
  /** SQLite's data_version when the head was last compared. */
  private seenDataVersion: unknown;
  /** Whether reads asked for other writers' commits in this turn of the event loop already (see `forgetForeignAppends`). */
  private checkedThisTurn = false;
  private readonly hashChain: boolean;
  /** Writes the group commit on this store's connection (where no writer thread runs, or after it stopped). */
  private readonly appender: SqliteAppender;
  private writerThread: LogWriterThread | undefined;
  /** The groups sent to the writer thread and not answered yet (at most GROUPS_IN_FLIGHT). */
  private readonly committing = new Set<Promise<void>>();
  /** Writes on other connections to the file, waiting for the group being committed (see `writeTurn`). */
  private readonly turnsWaiting: (() => void)[] = [];

  private readonly path: string;
  /** Events left to append before the log's checkpoints move to a thread of their own. */
  private eventsBeforeCheckpointThread: number;
  private checkpointer?: WalCheckpointer;
  private readonly verifyThreads: number;
  private readonly verifyPartMin: number;
  private rangeVerifierOnce?: ChainRangeVerifier;

  /** Verification over this store's own connection (made on first use). */
  private get rangeVerifier(): ChainRangeVerifier {
    return (this.rangeVerifierOnce ??= new ChainRangeVerifier(this.db));
  }

  constructor(options: SqliteEventStoreOptions) {
    this.path = options.path;
    this.eventsBeforeCheckpointThread = options.path === ':memory:' ? Infinity : (options.checkpointThreadAfter ?? 2_000);
    this.verifyThreads = Math.max(1, options.verifyThreads ?? Math.min(4, availableParallelism()));
    this.verifyPartMin = Math.max(1, options.verifyPartMin ?? PARALLEL_FROM);
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    const chainExisted = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'event_chain'").get() !== undefined;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS event_chain (
        position     INTEGER PRIMARY KEY,
        event_id     TEXT    NOT NULL,
        payload_hash BLOB    NOT NULL,
        hash         BLOB    NOT NULL,
        expired      INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS events (
        position  INTEGER PRIMARY KEY AUTOINCREMENT,
        id        TEXT    NOT NULL UNIQUE,
        stream_id TEXT    NOT NULL,
        revision  INTEGER NOT NULL,
        category  TEXT    NOT NULL,
        type      TEXT    NOT NULL,
        data      TEXT    NOT NULL,
        metadata  TEXT    NOT NULL,
        UNIQUE (stream_id, revision)
      );
      CREATE INDEX IF NOT EXISTS events_by_category ON events (category, position);
      CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
    `);
    this.appended.setMaxListeners(0);
    this.pollMs = options.crossProcessPollMs ?? 250;
    this.cachedStreams = options.cachedStreams ?? 10_000;
    this.rowTexts = options.keepsRowText ? new Map() : undefined;
    this.statements = {
      readStream: this.db.prepare<[string, number, number], Row>(
        'SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?',
      ),
      head: this.db.prepare<[], { position: number | null }>('SELECT max(position) AS position FROM events'),
      dataVersion: this.db.prepare('PRAGMA data_version').pluck(),
      streamsAfter: this.db.prepare<[number], { stream_id: string }>('SELECT stream_id FROM events WHERE position > ? ORDER BY position'),
      streamIds: this.db.prepare<[], string>('SELECT DISTINCT stream_id FROM events').pluck(),
      chainHead: this.db.prepare<[], { position: number; hash: string }>('SELECT position, lower(hex(hash)) AS hash FROM event_chain ORDER BY position DESC LIMIT 1'),
      chainInsert: this.db.prepare<[number, string, string, string]>('INSERT INTO event_chain (position, event_id, payload_hash, hash) VALUES (?, ?, unhex(?), unhex(?))'),
      linkBefore: this.db.prepare<[number], string>('SELECT lower(hex(hash)) FROM event_chain WHERE position < ? ORDER BY position DESC LIMIT 1').pluck(),
      expiring: this.db
        .prepare<[string, string, number], { position: number; stream_id: string }>(
          "SELECT e.position, e.stream_id FROM events e WHERE e.category = ? AND json_extract(e.metadata, '$.at') < ? AND e.revision < (SELECT max(x.revision) FROM events x WHERE x.stream_id = e.stream_id) ORDER BY e.position LIMIT ?",
        ),
      markExpired: this.db.prepare<[number]>('UPDATE event_chain SET expired = 1 WHERE position = ?'),
      deleteEvent: this.db.prepare<[number]>('DELETE FROM events WHERE position = ?'),
      chainEnd: this.db.prepare<[], number | null>('SELECT max(position) FROM event_chain').pluck(),
      unchainedAfter: this.db.prepare<[number, number], Row>('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
    };
    this.hashChain = options.hashChain ?? true;
    // A log from before the hash chain: chained once, in log order, by the first open of this version (events
    // appended later by the service are chained as they are appended; one slipped in otherwise is reported).
    // Two processes opening such a log at once: the write lock is taken first (IMMEDIATE), and each chains only
    // what is not chained yet, so the second finds nothing left to do.
    if (!chainExisted && this.hashChain) this.db.transaction(() => this.chainFrom(this.statements.chainEnd.get() ?? 0)).immediate();
    this.knownHead = this.statements.head.get()?.position ?? 0;
    if (this.cachedStreams > 0) this.bloom = this.streams;
    this.appender = new SqliteAppender(this.db, { hashChain: this.hashChain, mightHold: (streamId) => this.streams.mightHold(streamId) });
    if (options.writerThread && options.path !== ':memory:') this.writerThread = LogWriterThread.start(options.path, { durability: options.durability ?? 'normal', hashChain: this.hashChain });
    this.readBatch = this.db.transaction((after: bigint, filter: EventFilter | undefined) => {
      const head = this.statements.head.get()?.position ?? 0;
      return { events: this.readAllSync(after, filter, BATCH, head), head: BigInt(head) };
    });
  }

  /** A batch and the log head read in one snapshot, so `head` is exact for a filtered reader. */
  private readonly readBatch: (after: bigint, filter: EventFilter | undefined) => { events: RecordedEvent[]; head: bigint };

  /** Chains the events after `position` that have no link yet, in log order (inside the caller's transaction). */
  private chainFrom(position: number): number {
    let link = position > 0 ? (this.statements.linkBefore.get(position + 1) ?? GENESIS) : GENESIS;
    let chained = 0;
    for (let after = position; ; ) {
      const rows = this.statements.unchainedAfter.all(after, VERIFY_SLICE);
      for (const row of rows) {
        const payload = payloadHash({ streamId: row.stream_id, revision: row.revision, type: row.type, data: row.data, metadata: row.metadata });
        link = linkHash(link, row.id, payload);
        this.statements.chainInsert.run(row.position, row.id, payload, link);
      }
      chained += rows.length;
      if (rows.length < VERIFY_SLICE) return chained;
      after = rows[rows.length - 1]!.position;
    }
  }

  /**
   * Checks the hash chain from `from` to `to` (positions, both included; default the whole log): every link
   * follows from the one before, every event still hashes to its payload hash, no event is outside the chain.
   * Reads in slices of positions, letting other work in between them; stops at the first break.
   */
  async verifyChain(range: { from?: bigint; to?: bigint } = {}): Promise<ChainVerification> {
    const from = Math.max(1, Number(range.from ?? 1n));
    const end = Math.max(this.statements.chainEnd.get() ?? 0, this.statements.head.get()?.position ?? 0);
    const to = Math.min(end, Number(range.to ?? BigInt(end)));
    const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));
    const parts = this.path === ':memory:' ? 1 : Math.min(this.verifyThreads, Math.floor((to - from + 1) / this.verifyPartMin));
    if (parts <= 1) return this.rangeVerifier.range(from, to, yieldToOthers);
    // A long range is checked in parts at once: each part from the link stored before it (which the part before
    // checks as its last), the first here, the others in worker threads over connections of their own.
    const size = Math.ceil((to - from + 1) / parts);
    const bounds = Array.from({ length: parts }, (_, i) => [from + i * size, Math.min(to, from + (i + 1) * size - 1)] as const);
    const results = await Promise.all(bounds.map(([start, last], i) => (i === 0 ? this.rangeVerifier.range(start, last, yieldToOthers) : verifyInWorker(this.path, start, last, () => this.rangeVerifier.range(start, last, yieldToOthers)))));
    return joinVerifications(results);
  }

  /**
   * Retention: the category's events appended before `before`, except each stream's last, are deleted in slices
   * of one transaction each; their links stay in the chain, marked expired, so the chain still verifies.
   */
  async expire(category: string, before: string): Promise<{ expired: number }> {
    let expired = 0;
    const slice = this.db.transaction(() => {
      const rows = this.statements.expiring.all(category, before, EXPIRE_SLICE);
      for (const { position, stream_id } of rows) {
        this.statements.markExpired.run(position);
        this.statements.deleteEvent.run(position);
        this.streamCache.delete(stream_id);
      }
      return rows.length;
    });
    for (;;) {
      const count = slice.immediate();
      expired += count;
      if (count < EXPIRE_SLICE) return { expired };
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The chain's last link and its position (null for an empty log). */
  async chainHead(): Promise<{ position: bigint; hash: string } | null> {
    const head = this.statements.chainHead.get();
    return head ? { position: BigInt(head.position), hash: head.hash } : null;
  }

  /**
   * Group commit: appends made in the same turn of the event loop (concurrent commands) are written in one
   * transaction, each in a savepoint checked against its own expected revision, and each is answered only
   * once that transaction has committed.
   */
  async append(streamId: string, events: readonly EventToAppend[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    return (await this.appendAtomically([{ streamId, events, expected: expectedRevision }]))[0]!;
  }

  /** Writes to several streams in one savepoint of the group commit: all or nothing. */
  appendAtomically(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ writes: encodeWrites(writes), resolve, reject });
      if (this.pending.length === 1) setImmediate(this.flush);
    });
  }

  private pending: PendingAppend[] = [];

  /**
   * Commits the appends waiting, as one group: in the writer thread, where it runs (up to GROUPS_IN_FLIGHT groups
   * at once; the appends made while that many are out go as one group when the first is answered), or on this
   * store's connection.
   */
  private readonly flush = (): void => {
    if (this.pending.length === 0) return;
    // Sent when a group in flight is answered; and none while writes on other connections wait for their turn.
    if (this.writerThread && (this.committing.size >= GROUPS_IN_FLIGHT || this.turnsWaiting.length)) return;
    const group = this.pending;
    this.pending = [];
    const writes = group.map((pending) => pending.writes);
    const thread = this.writerThread;
    if (!thread) {
      let outcomes: AppendOutcome[];
      try {
        // Exact: inside the transaction, no writer can come between this look at the others' appends and ours.
        outcomes = this.appender.commit(writes, () => this.forgetForeignAppends(true));
      } catch (error) {
        for (const pending of group) pending.reject(error);
        return;
      }
      this.settle(group, outcomes, true);
      return;
    }
    const committed: Promise<void> = thread
      .commit(writes)
      .then(
        (outcomes) => this.settle(group, outcomes, false),
        (error: unknown) => {
          if (!(error instanceof WriterThreadStoppedError)) {
            for (const pending of group) pending.reject(error);
            return;
          }
          // Sent, and not answered: whether the thread committed them is not known. The store writes on its own
          // connection from now on.
          this.writerThread = undefined;
          for (const pending of group) pending.reject(new EventStoreOutcomeUnknownError(pending.writes[0]?.streamId ?? '', error));
        },
      )
      .finally(() => {
        this.committing.delete(committed);
        if (this.turnsWaiting.length === 0) return this.flush();
        if (this.committing.size > 0) return;
        // The writes that waited go first (each synchronously, as it resumes), then the next group.
        for (const turn of this.turnsWaiting.splice(0)) turn();
        setImmediate(this.flush);
      });
    this.committing.add(committed);
  };

  /**
   * Resolves when a write on another connection to this log's file (the integration state's, the subject keys')
   * can be made at once: when no group is in the writer thread, or else once those sent are answered (no more are
   * sent meanwhile). Such a write made while the thread holds the file's write lock would wait for it on the thread that
   * serves requests (SQLite's busy handler sleeps). Resolved at once where no writer thread runs.
   */
  writeTurn(): Promise<void> {
    if (this.committing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.turnsWaiting.push(resolve));
  }

  /**
   * Answers a committed group's appends, after dropping the streams it wrote from memory. On this store's own
   * connection (`ownConnection`) the log's head then moves to its last row; the writer thread's commits reach the
   * head as another connection's do (`forgetForeignAppends`, through data_version).
   */
  private settle(group: readonly PendingAppend[], outcomes: readonly AppendOutcome[], ownConnection: boolean): void {
    let wrote = 0;
    let last = this.knownHead;
    group.forEach((pending, index) => {
      const outcome = outcomes[index]!;
      if (!('results' in outcome)) return;
      pending.writes.forEach((write, at) => {
        if (write.events.length === 0) return;
        wrote += write.events.length;
        this.streamCache.delete(write.streamId);
        this.bloom?.add(write.streamId);
        last = Math.max(last, Number(outcome.results[at]!.position));
      });
    });
    if (wrote) {
      if (ownConnection) this.knownHead = last;
      this.noteEventsWritten(wrote);
      this.appendGeneration += 1;
      this.appended.emit('appended');
    }
    group.forEach((pending, index) => {
      const outcome = outcomes[index]!;
      if ('results' in outcome) pending.resolve(outcome.results);
      else pending.reject(outcome.error);
    });
  }

  /** Counts the events a group wrote, and moves the log's checkpoints to their own thread once there were enough. */
  private noteEventsWritten(events: number): void {
    if (this.eventsBeforeCheckpointThread === Infinity) return;
    this.eventsBeforeCheckpointThread -= events;
    if (this.eventsBeforeCheckpointThread > 0) return;
    this.eventsBeforeCheckpointThread = Infinity;
    const writerCheckpoints = this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
    this.checkpointer = WalCheckpointer.start(this.path, { onStopped: () => this.setWriterCheckpoints(writerCheckpoints) });
    if (this.checkpointer) this.setWriterCheckpoints(FALLBACK_CHECKPOINT_PAGES);
  }

  /** SQLite's automatic checkpoint (pages) on the connection that writes: the writer thread's and this store's. */
  private setWriterCheckpoints(pages: number): void {
    this.writerThread?.setAutocheckpoint(pages);
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${pages}`);
  }

  /**
   * Drops the cached streams that other writers appended to since the head this store knows of. Inside an
   * append's transaction it is exact (`exact`: no writer can come between it and the insert); outside, a read that
   * follows it sees at least what it saw. Reads ask once per turn of the event loop (an import's row reads a dozen
   * streams): within a turn this process waits on nothing outside it, so a read later in the turn is as if it had
   * been made at the turn's start; another writer's commit made meanwhile is seen from the next turn on.
   */
  private forgetForeignAppends(exact = false): void {
    if (!exact && this.checkedThisTurn) return;
    if (!this.checkedThisTurn) {
      this.checkedThisTurn = true;
      setImmediate(() => (this.checkedThisTurn = false));
    }
    // SQLite's data_version changes only when another connection commits (cheaper to ask than the head).
    const version = this.statements.dataVersion.get();
    if (version === this.seenDataVersion) return;
    this.seenDataVersion = version;
    const head = this.statements.head.get()?.position ?? 0;
    if (head === this.knownHead) return;
    if (head - this.knownHead > this.cachedStreams) this.streamCache.clear();
    for (const row of this.statements.streamsAfter.iterate(this.knownHead)) {
      this.streamCache.delete(row.stream_id);
      this.bloom?.add(row.stream_id);
    }
    this.knownHead = head;
  }

  private get streams(): StreamBloom {
    return (this.bloom ??= new StreamBloom(() => this.statements.streamIds.iterate()));
  }

  /** A stream's events (frozen: many readers share them), from memory when this store read it last. */
  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const from = Number(options.fromRevision ?? 0n);
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (this.cachedStreams === 0) return this.statements.readStream.all(streamId, from, max).map(toRecorded);
    this.forgetForeignAppends();
    if (!this.streams.mightHold(streamId)) return NO_EVENTS;
    let events = this.streamCache.get(streamId);
    if (events) {
      this.streamCache.delete(streamId); // to the back of the queue: read most recently
      this.streamCache.set(streamId, events);
    } else {
      events = freezeOwned(this.statements.readStream.all(streamId, from, max).map(toRecorded));
      if (from !== 0 || max !== Number.MAX_SAFE_INTEGER) return events;
      if (events.length <= CACHED_EVENTS_MAX) {
        this.streamCache.set(streamId, events);
        if (this.streamCache.size > this.cachedStreams) this.streamCache.delete(this.streamCache.keys().next().value!);
      }
      return events;
    }
    return from === 0 && max >= events.length ? events : events.slice(from, from + max);
  }

  /**
   * The statement of a filtered read. `scan` walks the positions in order and checks each row's category (or type);
   * otherwise SQLite goes through the category (or type) index, one range per value, and sorts what it found. The
   * index wins where few rows match (a projection of a rare category); the walk wins where most do (a rebuild reads
   * nearly every row: half the time, for no index lookup and no sort).
   */
  private filteredRead(filter: EventFilter | undefined, scan: boolean): Database.Statement {
    const categories = filter?.categories?.length ?? 0;
    const types = filter?.eventTypes?.length ?? 0;
    const key = `${categories}:${types}:${scan}`;
    let statement = this.filteredReads.get(key);
    if (!statement) {
      // A unary + keeps SQLite from using the column's index for that condition.
      const column = (name: string) => (scan ? `+${name}` : name);
      const where = ['position > ?', 'position <= ?'];
      if (categories) where.push(`${column('category')} IN (${Array(categories).fill('?').join(',')})`);
      if (types) where.push(`${column('type')} IN (${Array(types).fill('?').join(',')})`);
      statement = this.db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY position LIMIT ?`);
      this.filteredReads.set(key, statement);
    }
    return statement;
  }

  /**
   * Events after a position, filtered, in log order. A filtered read goes a window of positions at a time (a sort of
   * a window, not of the rest of the log, per batch), moving on until it has `maxCount` events or reaches the head.
   * Each window is read through the index, or by walking its positions when the window before it found that at
   * least one position in DENSE_SHARE matched (remembered per filter, for the next read).
   */
  private readAllSync(after: bigint, filter: EventFilter | undefined, maxCount: number, head?: number): RecordedEvent[] {
    // Only the texts of this read's events (see rowTexts); a new map, not clear(): measured, the old map's texts were
    // then promoted all the same (the reading thread promoted 1,161 MB).
    if (this.rowTexts) this.rowTexts = new Map();
    const filters = [...(filter?.categories ?? []), ...(filter?.eventTypes ?? [])];
    if (!filters.length) return (this.filteredRead(filter, true).all(Number(after), Number.MAX_SAFE_INTEGER, maxCount) as Row[]).map(this.recorded);
    const end = head ?? this.statements.head.get()?.position ?? 0;
    const window = Math.max(READ_WINDOW, maxCount * 4);
    const densityKey = filters.join('\u0000');
    let scan = this.denseFilters.has(densityKey);
    const events: RecordedEvent[] = [];
    for (let from = Number(after); events.length < maxCount && from < end; from += window) {
      const wanted = maxCount - events.length;
      const rows = this.filteredRead(filter, scan).all(from, from + window, ...filters, wanted) as Row[];
      for (const row of rows) events.push(this.recorded(row));
      // The share of the positions the window covered (all of it, or up to the last row when the limit stopped it).
      const covered = rows.length === wanted && rows.length > 0 ? rows[rows.length - 1]!.position - from : Math.min(window, end - from);
      scan = rows.length * DENSE_SHARE >= covered;
    }
    if (scan) this.denseFilters.add(densityKey);
    else this.denseFilters.delete(densityKey);
    return events;
  }

  /** An event read by readAll, its stored text kept beside it when this store keeps it. */
  private readonly recorded = (row: Row): RecordedEvent => {
    const event = toRecorded(row);
    this.rowTexts?.set(event, { data: row.data, metadata: row.metadata });
    return event;
  };

  /**
   * The stored text of an event the last readAll returned (keepsRowText), when the event is the very object it
   * returned: an event another layer changed (upcast, opened) is a new object, and has none; so has an event of an
   * earlier read.
   */
  rowTextOf(event: RecordedEvent): RowText | undefined {
    return this.rowTexts?.get(event);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readAllSync(options.after ?? 0n, options.filter, options.maxCount ?? Number.MAX_SAFE_INTEGER);
  }

  async headPosition(): Promise<bigint> {
    return BigInt(this.statements.head.get()?.position ?? 0);
  }

  private readonly lastMatching = new Map<string, Database.Statement>();

  /** Per category (or type), the last position at or before the bound through its (category, position) index; the latest of them. */
  async lastPositionMatching(filter: EventFilter, atOrBefore: bigint): Promise<bigint> {
    const categories = filter.categories ?? [];
    const types = filter.eventTypes ?? [];
    const by = categories.length ? 'category' : types.length ? 'type' : undefined;
    const alsoTypes = categories.length && types.length ? types.length : 0;
    const key = `${by}:${alsoTypes}`;
    let statement = this.lastMatching.get(key);
    if (!statement) {
      const where = ['position <= ?', ...(by ? [`${by} = ?`] : []), ...(alsoTypes ? [`type IN (${Array(alsoTypes).fill('?').join(',')})`] : [])];
      this.lastMatching.set(key, (statement = this.db.prepare(`SELECT position FROM events WHERE ${where.join(' AND ')} ORDER BY position DESC LIMIT 1`).pluck()));
    }
    const bound = Number(atOrBefore);
    if (bound > (this.statements.head.get()?.position ?? 0)) return atOrBefore;
    const extra = alsoTypes ? types : [];
    let last = 0;
    for (const value of by === 'category' ? categories : by === 'type' ? types : [undefined]) {
      const position = (value === undefined ? statement.get(bound) : statement.get(bound, value, ...extra)) as number | undefined;
      if (position !== undefined && position > last) last = position;
    }
    return BigInt(last);
  }

  watchAppends(onAppend: () => void): Subscription {
    const dataVersion = this.db.prepare('PRAGMA data_version').pluck();
    let seen = dataVersion.get();
    // Other connections' commits change data_version; this connection's own appends emit at once.
    const poll = setInterval(() => {
      const now = dataVersion.get();
      if (now === seen) return;
      seen = now;
      onAppend();
    }, this.pollMs);
    poll.unref();
    const ring = () => onAppend();
    this.appended.on('appended', ring);
    const watch = {
      stop: async () => {
        clearInterval(poll);
        this.appended.off('appended', ring);
      },
    };
    this.subscriptions.add(watch);
    return {
      close: async () => {
        this.subscriptions.delete(watch);
        await watch.stop();
      },
    };
  }

  subscribeToAll(options: { after?: bigint; filter?: EventFilter }, handlers: SubscriptionHandlers): Subscription {
    let after = options.after ?? 0n;
    let stopped = false;
    let wake: (() => void) | undefined;
    const signal = () => wake?.();
    this.appended.on('appended', signal);
    const dataVersion = this.db.prepare('PRAGMA data_version').pluck();
    const waitForAppend = (generationRead: number, versionRead: unknown) =>
      new Promise<void>((resolve) => {
        if (this.appendGeneration !== generationRead) return resolve();
        const poll = setInterval(() => {
          if (dataVersion.get() === versionRead) return;
          clearInterval(poll);
          resolve();
        }, this.pollMs);
        poll.unref();
        wake = () => {
          clearInterval(poll);
          wake = undefined;
          resolve();
        };
      }).finally(() => {
        wake = undefined;
      });

    const run = async () => {
      let reported = -1n;
      while (!stopped) {
        const generationRead = this.appendGeneration;
        const versionRead = dataVersion.get();
        const { events, head } = this.readBatch(after, options.filter);
        for (const event of events) {
          if (stopped) return;
          await handlers.onEvent(event);
          after = event.position;
        }
        if (events.length < BATCH) {
          if (head > after) after = head;
          if (after !== reported && !stopped) {
            reported = after;
            await handlers.onCheckpoint?.(after);
          }
          if (!stopped) await waitForAppend(generationRead, versionRead);
        }
      }
    };
    const done = run().catch((error: unknown) => {
      if (handlers.onError) handlers.onError(error);
      else throw error;
    });
    const subscription = {
      stop: async () => {
        stopped = true;
        this.appended.off('appended', signal);
        signal();
        await done;
      },
    };
    this.subscriptions.add(subscription);
    return {
      close: async () => {
        this.subscriptions.delete(subscription);
        await subscription.stop();
      },
    };
  }

  async close(): Promise<void> {
    // The appends made are written first (and answered).
    while (this.db.open && (this.committing.size || this.pending.length)) {
      if (this.committing.size) await Promise.all(this.committing);
      else this.flush();
    }
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.subscriptions.clear();
    // The threads' connections close first, so this store's close is the last one and checkpoints what is left.
    await this.checkpointer?.stop();
    await this.writerThread?.close();
    if (this.db.open) this.db.close();
  }
}
