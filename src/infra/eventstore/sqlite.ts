import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { freezeOwned } from '../frozen.ts';
import { StreamBloom } from './stream-bloom.ts';
import { type ChainVerification, type ChainVerifier, GENESIS, linkHash, payloadHash } from './chain.ts';
import { ChainRangeVerifier, joinVerifications, VERIFY_SLICE } from './chain-range.ts';
import { verifyInWorker } from './chain-verify-worker.ts';
import { FALLBACK_CHECKPOINT_PAGES, WalCheckpointer } from './wal-checkpointer.ts';
import { type StreamWrite, type AppendResult, type EventFilter, type EventStore, type EventToAppend, EventIdConflictError, EventStoreUnavailableError, type ExpectedRevision, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent, type Subscription, type SubscriptionHandlers, WrongExpectedRevisionError, categoryOf } from './port.ts';

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
/** Positions a filtered read covers per query (see readAllSync). */
const READ_WINDOW = 8192;
/** A filtered read walks the positions rather than use the index where at least one position in this many matches. */
const DENSE_SHARE = 8;

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
  /** Several writes are all or nothing (an atomic append across streams). */
  writes: readonly StreamWrite[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
  results?: AppendResult[];
  error?: unknown;
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
  /**
   * The chain's last link as this connection wrote it, while no other connection has committed since (checked
   * through data_version before each append; forgotten when a group rolls back): an append needs no query for it.
   */
  private lastLink: string | undefined;

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
    this.statements = {
      streamRevision: this.db.prepare<[string], { revision: number | null }>(
        'SELECT max(revision) AS revision FROM events WHERE stream_id = ?',
      ),
      insert: this.db.prepare(
        'INSERT INTO events (id, stream_id, revision, category, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      byId: this.db.prepare<[string], Row>('SELECT * FROM events WHERE id = ?'),
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
    const appendAll = (writes: readonly StreamWrite[]) => writes.map((write) => this.appendInTransaction(write.streamId, write.events, write.expected));
    this.appendWrites = this.db.transaction(appendAll);
    this.commitGroup = this.db.transaction((group: PendingAppend[]) => {
      if (group.length === 1) {
        // Alone in the transaction, it needs no savepoint: if it fails the transaction rolls back, and flush says so.
        group[0]!.results = appendAll(group[0]!.writes);
        return;
      }
      for (const pending of group) {
        const knownBefore = this.knownHead;
        try {
          // Each append (all its writes) in a savepoint of its own: one that fails leaves the others in the commit.
          pending.results = this.appendWrites(pending.writes);
        } catch (error) {
          this.knownHead = knownBefore; // its rows were rolled back: their positions will be used again
          this.lastLink = undefined;
          pending.error = error;
        }
      }
    });
    this.readBatch = this.db.transaction((after: bigint, filter: EventFilter | undefined) => {
      const head = this.statements.head.get()?.position ?? 0;
      return { events: this.readAllSync(after, filter, BATCH, head), head: BigInt(head) };
    });
  }

  /** A batch and the log head read in one snapshot, so `head` is exact for a filtered reader. */
  private readonly readBatch: (after: bigint, filter: EventFilter | undefined) => { events: RecordedEvent[]; head: bigint };

  /** The writes of one append, in a savepoint (inside the group's transaction): all or nothing. */
  private readonly appendWrites: (writes: readonly StreamWrite[]) => AppendResult[];

  /**
   * One append, inside a transaction. A retried append (its events stored already) answers the first one's
   * result: it is recognised when the expected revision no longer matches or an event id is taken, so the
   * common case costs no lookup by id.
   */
  private appendInTransaction(streamId: string, events: readonly EventToAppend[], expected: ExpectedRevision): AppendResult {
    this.forgetForeignAppends(true);
    this.streamCache.delete(streamId);
    const current = this.streams.mightHold(streamId) ? (this.statements.streamRevision.get(streamId)?.revision ?? null) : null;
    const actual = current === null ? ('no_stream' as const) : BigInt(current);
    const matches =
      expected === 'any' ||
      (expected === 'no_stream' && actual === 'no_stream') ||
      (expected === 'stream_exists' && actual !== 'no_stream') ||
      (typeof expected === 'bigint' && actual === expected);
    if (!matches) {
      const already = this.alreadyAppended(streamId, events);
      if (already) return already;
      throw new WrongExpectedRevisionError(streamId, expected, actual);
    }
    if (expected === 'any' || expected === 'stream_exists') {
      // Any revision matches, so a retry would not be noticed by it.
      const already = this.alreadyAppended(streamId, events);
      if (already) return already;
    }
    let revision = current ?? -1;
    let position = 0;
    const category = categoryOf(streamId);
    // The chain's last link, read inside the transaction (another process may have appended since).
    let link = this.hashChain && events.length ? (this.lastLink ?? this.statements.chainHead.get()?.hash ?? GENESIS) : GENESIS;
    for (const event of events) {
      revision += 1;
      const data = JSON.stringify(event.data);
      const metadata = JSON.stringify(event.metadata);
      const info = this.insertUnique(event, () => this.statements.insert.run(event.id, streamId, revision, category, event.type, data, metadata));
      position = Number(info.lastInsertRowid);
      if (this.hashChain) {
        const payload = payloadHash({ streamId, revision, type: event.type, data, metadata });
        link = linkHash(link, event.id, payload);
        this.statements.chainInsert.run(position, event.id, payload, link);
      }
    }
    if (this.hashChain && events.length) this.lastLink = link;
    if (events.length === 0) {
      position = this.statements.head.get()?.position ?? 0;
    } else {
      this.knownHead = position; // its own rows, for the next append of the group (restored if the group rolls back)
      this.streams.add(streamId);
    }
    return { nextExpectedRevision: BigInt(revision), position: BigInt(position) };
  }

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

  /** Runs an insert, turning a reused event id into EventIdConflictError (the transaction rolls back). */
  // (A retry whose expected revision still matches cannot reach here with its ids taken: its first attempt
  // moved the revision on.)
  private insertUnique(event: EventToAppend, insert: () => Database.RunResult): Database.RunResult {
    try {
      return insert();
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && String(error).includes('events.id')) throw new EventIdConflictError(event.id);
      throw error;
    }
  }

  /** An append whose events are all stored already (a retry) returns the first append's result. */
  private alreadyAppended(streamId: string, events: readonly EventToAppend[]): AppendResult | undefined {
    const first = events[0];
    if (!first || this.statements.byId.get(first.id) === undefined) return undefined; // a later reused id fails the UNIQUE index
    const stored = events.map((event) => this.statements.byId.get(event.id));
    stored.forEach((row, index) => {
      const event = events[index]!;
      const previous = index > 0 ? stored[index - 1] : undefined;
      const consistent =
        row !== undefined &&
        row.stream_id === streamId &&
        row.type === event.type &&
        (previous === undefined || row.revision === previous.revision + 1);
      if (!consistent) throw new EventIdConflictError(event.id);
    });
    const last = stored[stored.length - 1]!;
    return { nextExpectedRevision: BigInt(last.revision), position: BigInt(last.position) };
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
      this.pending.push({ writes, resolve, reject });
      if (this.pending.length === 1) setImmediate(this.flush);
    });
  }

  private pending: PendingAppend[] = [];
  private readonly commitGroup: Database.Transaction<(group: PendingAppend[]) => void>;

  private readonly flush = (): void => {
    const group = this.pending;
    this.pending = [];
    const knownBefore = this.knownHead;
    try {
      // BEGIN IMMEDIATE: the write lock is taken first, waiting (busy_timeout) for another process that holds it;
      // a deferred transaction that reads and then writes would be refused at once instead.
      this.commitGroup.immediate(group);
    } catch (error) {
      this.knownHead = knownBefore;
      this.lastLink = undefined;
      // Another process held the write lock past busy_timeout (a writer paused, a long checkpoint): nothing was
      // written, and trying again later will do (503 with Retry-After), not a failure of the request.
      const busy = String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY');
      for (const pending of group) pending.reject(busy ? new EventStoreUnavailableError(error) : error);
      return;
    }
    const wrote = group.some((pending) => pending.results && pending.writes.some((write) => write.events.length > 0));
    if (wrote) {
      this.noteEventsWritten(group);
      this.appendGeneration += 1;
      this.appended.emit('appended');
    }
    for (const pending of group) {
      if (pending.results) pending.resolve(pending.results);
      else pending.reject(pending.error);
    }
  };

  /** Counts the events a group wrote, and moves the log's checkpoints to their own thread once there were enough. */
  private noteEventsWritten(group: readonly PendingAppend[]): void {
    if (this.eventsBeforeCheckpointThread === Infinity) return;
    for (const pending of group) if (pending.results) for (const write of pending.writes) this.eventsBeforeCheckpointThread -= write.events.length;
    if (this.eventsBeforeCheckpointThread > 0) return;
    this.eventsBeforeCheckpointThread = Infinity;
    const writerCheckpoints = this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
    this.checkpointer = WalCheckpointer.start(this.path, {
      onStopped: () => {
        if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${writerCheckpoints}`);
      },
    });
    if (this.checkpointer) this.db.pragma(`wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
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
    this.lastLink = undefined;
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
    const filters = [...(filter?.categories ?? []), ...(filter?.eventTypes ?? [])];
    if (!filters.length) return (this.filteredRead(filter, true).all(Number(after), Number.MAX_SAFE_INTEGER, maxCount) as Row[]).map(toRecorded);
    const end = head ?? this.statements.head.get()?.position ?? 0;
    const window = Math.max(READ_WINDOW, maxCount * 4);
    const densityKey = filters.join('\u0000');
    let scan = this.denseFilters.has(densityKey);
    const events: RecordedEvent[] = [];
    for (let from = Number(after); events.length < maxCount && from < end; from += window) {
      const wanted = maxCount - events.length;
      const rows = this.filteredRead(filter, scan).all(from, from + window, ...filters, wanted) as Row[];
      for (const row of rows) events.push(toRecorded(row));
      // The share of the positions the window covered (all of it, or up to the last row when the limit stopped it).
      const covered = rows.length === wanted && rows.length > 0 ? rows[rows.length - 1]!.position - from : Math.min(window, end - from);
      scan = rows.length * DENSE_SHARE >= covered;
    }
    if (scan) this.denseFilters.add(densityKey);
    else this.denseFilters.delete(densityKey);
    return events;
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
    if (this.pending.length && this.db.open) this.flush();
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.subscriptions.clear();
    // The thread's connection closes first, so the writer's close is the last one and checkpoints what is left.
    await this.checkpointer?.stop();
    if (this.db.open) this.db.close();
  }
}
