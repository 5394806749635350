import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface WalCheckpointerOptions {
  /** How often the thread checkpoints (ms; default 250). */
  everyMs?: number;
  /** Called once if the thread ends before it is stopped (it failed): the writer then checkpoints as before. */
  onStopped?: () => void;
}

/** The log size (pages) at which the writer checkpoints by itself, as a backstop (about 200 MB of 4 KiB pages). */
export const FALLBACK_CHECKPOINT_PAGES = 50_000;

/**
 * The embedded event log as another connection to its file (the integration state's, the subject keys') sees it:
 * such a connection makes each write when the log's writer gives it the turn (`SqliteEventStore.writeTurn`), and
 * leaves the file's checkpoints to the log (`leaveCheckpointsToTheLog`).
 */
export interface SharedLogFile {
  writeTurn(): Promise<void>;
}

/**
 * For another connection to the event log's file (the integration state's, the subject keys'): SQLite's automatic
 * checkpoint only as the same backstop the log's writer keeps. The log's store checkpoints the shared write-ahead
 * log from its thread (or, until that starts, on its own commits). At the default 1,000 pages, such a connection's
 * commit found the log past that mark between two of the thread's checkpoints, about one commit in ten under a
 * create load, and copied the log's pages into the file on the thread that serves requests: the integration
 * state's commits took 1.0 s of a 15 s load, 0.2 s without.
 */
export function leaveCheckpointsToTheLog(db: { pragma(source: string): unknown }): void {
  db.pragma(`wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
}

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('wal_autocheckpoint = 0');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy (another checkpointer): the next tick tries again */ }
}, workerData.everyMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints a SQLite file's write-ahead log from a thread of its own, over a connection of its own, so that no
 * commit of the writer waits for one. A checkpoint copies the pages the log holds back into the database file and
 * syncs it; done by the writer (SQLite's automatic checkpoint, every 1,000 pages), it cost an import about a
 * third of its commit time, on the thread that serves requests. Passive checkpoints take no lock a writer or a
 * reader waits for: one that meets readers copies what it can, and the next does the rest. The writer keeps an
 * automatic checkpoint of its own at `FALLBACK_CHECKPOINT_PAGES` as a backstop, should this thread fall behind or stop.
 *
 * The thread runs plain JavaScript (no TypeScript loader to start), with the same SQLite driver as the writer.
 */
export class WalCheckpointer {
  private exited = false;
  private stopping = false;

  private constructor(
    private readonly worker: Worker,
    onStopped: (() => void) | undefined,
  ) {
    worker.once('exit', () => {
      this.exited = true;
      if (!this.stopping) onStopped?.();
    });
  }

  /** Starts checkpointing the log of the database at `path`; undefined where no thread can be started. */
  static start(path: string, options: WalCheckpointerOptions = {}): WalCheckpointer | undefined {
    try {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      const worker = new Worker(THREAD, { eval: true, workerData: { path, driver, everyMs: options.everyMs ?? 250 } });
      worker.unref();
      // A thread that fails (its exit follows) hands checkpoints back to the writer; nothing is lost either way.
      worker.on('error', () => undefined);
      return new WalCheckpointer(worker, options.onStopped);
    } catch {
      return undefined;
    }
  }

  /** Stops the thread and closes its connection (before the writer's own close, which checkpoints what is left). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    const timeout = setTimeout(() => void this.worker.terminate(), 5_000);
    await exited;
    clearTimeout(timeout);
  }
}
