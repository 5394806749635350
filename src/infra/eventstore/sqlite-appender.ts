import type Database from 'better-sqlite3';
import { GENESIS, linkHash, payloadHash } from './chain.ts';
import { type AppendResult, EventIdConflictError, EventStoreUnavailableError, type ExpectedRevision, WrongExpectedRevisionError, categoryOf } from './port.ts';

/** An event ready for its row: its payload and metadata as the JSON text stored (and hashed into the chain). */
export interface EncodedEvent {
  id: string;
  type: string;
  data: string;
  metadata: string;
}

/** One stream's part of an append. */
export interface EncodedWrite {
  streamId: string;
  events: readonly EncodedEvent[];
  expected: ExpectedRevision;
}

/** What became of one append of a group: its results, or why it was refused (its writes rolled back). */
export type AppendOutcome = { results: AppendResult[] } | { error: unknown };

export interface SqliteAppenderOptions {
  /** Whether appends extend the hash chain. */
  hashChain: boolean;
  /**
   * Whether the log may hold a stream ("certainly absent" answers a new stream's revision without a query). It
   * must know every stream committed before the group's transaction began; streams the group itself writes are
   * known to the appender. Without it, every write asks the log for its stream's revision.
   */
  mightHold?: (streamId: string) => boolean;
}

/**
 * The embedded log's writing half, over one connection: a group of appends (concurrent commands) in one
 * transaction, each in a savepoint of its own, checked against its own expected revision, and the hash chain
 * extended as they go. It holds no cache a reader uses; the store that owns it is told what was written by the
 * outcomes. It runs on the store's own connection, or in the log's writer thread over a connection of its own
 * (`sqlite-writer-thread.ts`); the two are the same code.
 */
export class SqliteAppender {
  private readonly statements;
  private readonly commitGroup: Database.Transaction<(group: readonly (readonly EncodedWrite[])[], before: () => void) => AppendOutcome[]>;
  private readonly appendWrites: Database.Transaction<(writes: readonly EncodedWrite[]) => AppendResult[]>;
  /**
   * The chain's last link as this connection wrote it, while no other connection has committed since (checked
   * through data_version at the start of each group): an append needs no query for it.
   */
  private lastLink: string | undefined;
  private seenDataVersion: unknown;
  /** Streams the open transaction has written (the `mightHold` given knows only those committed before it). */
  private readonly writtenNow = new Set<string>();

  constructor(
    db: Database.Database,
    private readonly options: SqliteAppenderOptions,
  ) {
    this.statements = {
      streamRevision: db.prepare<[string], { revision: number | null }>('SELECT max(revision) AS revision FROM events WHERE stream_id = ?'),
      insert: db.prepare('INSERT INTO events (id, stream_id, revision, category, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      byId: db.prepare<[string], { position: number; stream_id: string; revision: number; type: string }>('SELECT position, stream_id, revision, type FROM events WHERE id = ?'),
      head: db.prepare<[], { position: number | null }>('SELECT max(position) AS position FROM events'),
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      chainHead: db.prepare<[], { position: number; hash: string }>('SELECT position, lower(hex(hash)) AS hash FROM event_chain ORDER BY position DESC LIMIT 1'),
      chainInsert: db.prepare<[number, string, string, string]>('INSERT INTO event_chain (position, event_id, payload_hash, hash) VALUES (?, ?, unhex(?), unhex(?))'),
    };
    this.appendWrites = db.transaction((writes: readonly EncodedWrite[]) => writes.map((write) => this.appendInTransaction(write)));
    this.commitGroup = db.transaction((group: readonly (readonly EncodedWrite[])[], before: () => void) => {
      before();
      const version = this.statements.dataVersion.get();
      if (version !== this.seenDataVersion) {
        // Another connection committed since this one last wrote: the chain's head is read again.
        this.seenDataVersion = version;
        this.lastLink = undefined;
      }
      // Alone in the transaction, an append needs no savepoint: if it fails the transaction rolls back, and commit says so.
      if (group.length === 1) return [{ results: group[0]!.map((write) => this.appendInTransaction(write)) }];
      return group.map((writes) => {
        try {
          // Each append (all its writes) in a savepoint of its own: one that fails leaves the others in the commit.
          return { results: this.appendWrites(writes) };
        } catch (error) {
          this.lastLink = undefined; // its links were rolled back with it
          return { error };
        }
      });
    });
  }

  /**
   * Commits a group of appends in one transaction (BEGIN IMMEDIATE: the write lock is taken first, waiting for
   * another process that holds it), calling `before` inside it before the first write. Each append is all or
   * nothing; one refused leaves the others in the commit. Throws, with nothing written, when the whole group
   * could not commit: EventStoreUnavailableError where another process held the write lock past busy_timeout.
   */
  commit(group: readonly (readonly EncodedWrite[])[], before: () => void = () => {}): AppendOutcome[] {
    try {
      return this.commitGroup.immediate(group, before);
    } catch (error) {
      this.lastLink = undefined;
      // A paused writer elsewhere, a long checkpoint: nothing was written, and trying again later will do (503
      // with Retry-After), not a failure of the request.
      if (String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY')) throw new EventStoreUnavailableError(error);
      // An append alone in its group fails the group, and is answered as refused.
      if (group.length === 1) return [{ error }];
      throw error;
    } finally {
      this.writtenNow.clear();
    }
  }

  /**
   * One append to one stream, inside the transaction. A retried append (its events stored already) answers the
   * first one's result: it is recognised when the expected revision no longer matches or an event id is taken, so
   * the common case costs no lookup by id.
   */
  private appendInTransaction({ streamId, events, expected }: EncodedWrite): AppendResult {
    const known = this.writtenNow.has(streamId) || (this.options.mightHold?.(streamId) ?? true);
    const current = known ? (this.statements.streamRevision.get(streamId)?.revision ?? null) : null;
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
    const { hashChain } = this.options;
    // The chain's last link, read inside the transaction (another process may have appended since).
    let link = hashChain && events.length ? (this.lastLink ?? this.statements.chainHead.get()?.hash ?? GENESIS) : GENESIS;
    for (const event of events) {
      revision += 1;
      const info = this.insertUnique(event, () => this.statements.insert.run(event.id, streamId, revision, category, event.type, event.data, event.metadata));
      position = Number(info.lastInsertRowid);
      if (hashChain) {
        const payload = payloadHash({ streamId, revision, type: event.type, data: event.data, metadata: event.metadata });
        link = linkHash(link, event.id, payload);
        this.statements.chainInsert.run(position, event.id, payload, link);
      }
    }
    if (hashChain && events.length) this.lastLink = link;
    if (events.length === 0) position = this.statements.head.get()?.position ?? 0;
    else this.writtenNow.add(streamId);
    return { nextExpectedRevision: BigInt(revision), position: BigInt(position) };
  }

  /** Runs an insert, turning a reused event id into EventIdConflictError (the savepoint rolls back). */
  // (A retry whose expected revision still matches cannot reach here with its ids taken: its first attempt
  // moved the revision on.)
  private insertUnique(event: EncodedEvent, insert: () => Database.RunResult): Database.RunResult {
    try {
      return insert();
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && String(error).includes('events.id')) throw new EventIdConflictError(event.id);
      throw error;
    }
  }

  /** An append whose events are all stored already (a retry) returns the first append's result. */
  private alreadyAppended(streamId: string, events: readonly EncodedEvent[]): AppendResult | undefined {
    const first = events[0];
    if (!first || this.statements.byId.get(first.id) === undefined) return undefined; // a later reused id fails the UNIQUE index
    const stored = events.map((event) => this.statements.byId.get(event.id));
    stored.forEach((row, index) => {
      const event = events[index]!;
      const previous = index > 0 ? stored[index - 1] : undefined;
      const consistent = row !== undefined && row.stream_id === streamId && row.type === event.type && (previous === undefined || row.revision === previous.revision + 1);
      if (!consistent) throw new EventIdConflictError(event.id);
    });
    const last = stored[stored.length - 1]!;
    return { nextExpectedRevision: BigInt(last.revision), position: BigInt(last.position) };
  }
}

/** The rows of an append: each event's payload and metadata as the JSON text stored. */
export const encodeWrites = (writes: readonly { streamId: string; events: readonly { id: string; type: string; data: unknown; metadata: unknown }[]; expected: ExpectedRevision }[]): EncodedWrite[] =>
  writes.map(({ streamId, events, expected }) => ({
    streamId,
    expected,
    events: events.map((event) => ({ id: event.id, type: event.type, data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) })),
  }));
