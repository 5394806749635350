import Database from 'better-sqlite3';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { workerBootstrap } from '../threads.ts';
import { type AppendOutcome, type EncodedWrite, SqliteAppender } from './sqlite-appender.ts';
import { EventIdConflictError, EventStoreUnavailableError, type ExpectedRevision, WrongExpectedRevisionError } from './port.ts';

/** An error as it crosses from the thread (a structured clone keeps an error's message, not its class or fields). */
type WireError =
  | { kind: 'wrong-expected'; streamId: string; expected: ExpectedRevision; actual: bigint | 'no_stream' }
  | { kind: 'id-conflict'; eventId: string }
  | { kind: 'unavailable'; message: string }
  | { kind: 'other'; name: string; message: string; code?: string };

type ToThread = { kind: 'commit'; id: number; group: EncodedWrite[][] } | { kind: 'autocheckpoint'; pages: number } | { kind: 'close' };
type WireOutcome = AppendOutcome | { wireError: WireError };
type FromThread = { id: number; outcomes: WireOutcome[] } | { id: number; failed: WireError };

export interface LogWriterThreadOptions {
  durability: 'normal' | 'full';
  hashChain: boolean;
}

/** The thread stopped (failed, or was terminated) with groups sent to it: whether they were committed is not known. */
export class WriterThreadStoppedError extends Error {
  constructor(reason: string) {
    super(`The event log's writer thread stopped: ${reason}`);
    this.name = 'WriterThreadStoppedError';
  }
}

/**
 * The embedded log's writer in a thread of its own, over a connection of its own to the log's file: the group
 * commit's inserts, the hash chain and the commit run there, beside the thread that serves requests, which only
 * encodes each group and is told the outcomes. Under a create load these were about a quarter of that thread's
 * time. The thread runs the same appender as the store's own connection (`SqliteAppender`), one group at a time,
 * in the order sent. Should it stop, the groups in flight are answered as of unknown outcome and the store writes
 * on its own connection from then on.
 */
export class LogWriterThread {
  private readonly waiting = new Map<number, { resolve(outcomes: AppendOutcome[]): void; reject(error: unknown): void }>();
  private nextId = 1;
  private stopped: string | undefined;
  private closing = false;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (message: FromThread) => this.receive(message));
    worker.on('error', (error: Error) => this.stop(`it failed: ${error.message}`));
    this.exited = new Promise((resolve) => worker.once('exit', (code) => (this.stop(`it exited (code ${code})`), resolve())));
  }

  /** Starts the thread on the log at `path` (a file that exists); undefined where no thread can be started. */
  static start(path: string, options: LogWriterThreadOptions): LogWriterThread | undefined {
    try {
      return new LogWriterThread(new Worker(workerBootstrap(import.meta.url), { eval: true, workerData: { logWriter: true, path, ...options } }));
    } catch {
      return undefined;
    }
  }

  /** Why the thread stopped, once it has (it takes no more groups then). */
  get stoppedBecause(): string | undefined {
    return this.stopped;
  }

  /** Commits a group in the thread: its appends' outcomes, or the whole group's failure (nothing written). */
  commit(group: EncodedWrite[][]): Promise<AppendOutcome[]> {
    if (this.stopped) return Promise.reject(new WriterThreadStoppedError(this.stopped));
    const id = this.nextId++;
    // Referenced while a group is in flight, so a process waiting only for its answer does not exit under it.
    if (this.waiting.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ kind: 'commit', id, group } satisfies ToThread);
    });
  }

  /** SQLite's automatic checkpoint on the thread's connection (pages; see WalCheckpointer). */
  setAutocheckpoint(pages: number): void {
    if (!this.stopped) this.worker.postMessage({ kind: 'autocheckpoint', pages } satisfies ToThread);
  }

  /** Closes the thread's connection and ends it, once the groups sent are answered. */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.stopped) this.worker.postMessage({ kind: 'close' } satisfies ToThread);
    const timeout = setTimeout(() => void this.worker.terminate(), 10_000);
    await this.exited;
    clearTimeout(timeout);
  }

  private receive(message: FromThread): void {
    const waiter = this.waiting.get(message.id);
    if (!waiter) return;
    this.waiting.delete(message.id);
    if (this.waiting.size === 0) this.worker.unref();
    if ('failed' in message) waiter.reject(fromWire(message.failed));
    else waiter.resolve(message.outcomes.map((outcome) => ('wireError' in outcome ? { error: fromWire(outcome.wireError) } : outcome)));
  }

  private stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = this.closing ? 'it was closed' : reason;
    for (const waiter of this.waiting.values()) waiter.reject(new WriterThreadStoppedError(this.stopped));
    this.waiting.clear();
  }
}

function toWire(error: unknown): WireError {
  if (error instanceof WrongExpectedRevisionError) return { kind: 'wrong-expected', streamId: error.streamId, expected: error.expected, actual: error.actual };
  if (error instanceof EventIdConflictError) return { kind: 'id-conflict', eventId: error.eventId };
  if (error instanceof EventStoreUnavailableError) return { kind: 'unavailable', message: error.cause instanceof Error ? error.cause.message : error.message };
  const { name = 'Error', message = String(error), code } = error as { name?: string; message?: string; code?: unknown };
  return { kind: 'other', name, message, ...(typeof code === 'string' ? { code } : {}) };
}

function fromWire(error: WireError): Error {
  switch (error.kind) {
    case 'wrong-expected':
      return new WrongExpectedRevisionError(error.streamId, error.expected, error.actual);
    case 'id-conflict':
      return new EventIdConflictError(error.eventId);
    case 'unavailable':
      return new EventStoreUnavailableError(new Error(error.message));
    case 'other':
      return Object.assign(new Error(error.message), { name: error.name, ...(error.code ? { code: error.code } : {}) });
  }
}

/** The thread: one connection, one appender, each group committed and answered in the order it came. */
function writeInThread(path: string, options: LogWriterThreadOptions): void {
  const port = parentPort!;
  const db = new Database(path, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  const appender = new SqliteAppender(db, { hashChain: options.hashChain });
  port.on('message', (message: ToThread) => {
    if (message.kind === 'commit') {
      let reply: FromThread;
      try {
        reply = { id: message.id, outcomes: appender.commit(message.group).map((outcome) => ('error' in outcome ? { wireError: toWire(outcome.error) } : outcome)) };
      } catch (error) {
        reply = { id: message.id, failed: toWire(error) };
      }
      port.postMessage(reply);
    } else if (message.kind === 'autocheckpoint') {
      db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(message.pages))}`);
    } else {
      db.close();
      port.close();
    }
  });
}

if (!isMainThread && parentPort && (workerData as { logWriter?: unknown } | null)?.logWriter === true) {
  const { path, durability, hashChain } = workerData as { path: string } & LogWriterThreadOptions;
  writeInThread(path, { durability, hashChain });
}
