import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ChainVerification } from './chain.ts';
import { SqliteEventStore } from './sqlite.ts';

/** What a copy of the embedded store holds, as its verification found it. */
export interface StoreFileCheck {
  integrity: string;
  events: number;
  head: number;
  chain: ChainVerification;
}

/**
 * Copies a SQLite database with SQLite's online backup API, while other connections go on writing: after a first
 * step, the rest is copied in one step (one read transaction, so the copy is the database as of one commit; a write
 * by another connection in between restarts it). The copy is written beside `target` and renamed when complete.
 */
export async function copyDatabase(source: string, target: string): Promise<void> {
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    await db.backup(partial, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
  // A single file: the copy takes the rollback journal (the service turns write-ahead logging on when it opens it).
  const copy = new Database(partial);
  copy.pragma('journal_mode = DELETE');
  copy.close();
  renameSync(partial, target);
}

/**
 * Checks a copy of the event store: SQLite's integrity check, and the hash chain over every event (so the copy
 * holds the log as it was written). Opening it as the store does leaves it in write-ahead-log mode; it is turned
 * back into a single file afterwards.
 */
export async function checkStoreFile(path: string): Promise<StoreFileCheck> {
  if (!existsSync(path)) throw new Error(`no file at ${path}`);
  const raw = new Database(path, { fileMustExist: true });
  const integrity = raw.pragma('integrity_check', { simple: true }) as string;
  raw.close();
  const store = new SqliteEventStore({ path, cachedStreams: 0 });
  const head = Number(await store.headPosition());
  const chain = await store.verifyChain();
  await store.close();
  const counted = new Database(path, { fileMustExist: true });
  const events = counted.prepare<[], number>('SELECT count(*) FROM events').pluck().get() ?? 0;
  counted.pragma('journal_mode = DELETE');
  counted.close();
  return { integrity, events, head, chain };
}

/** The backup file a command was given (its one argument), resolved; refuses the EventStoreDB configuration, which has its own tools. */
export function backupFileArgument(command: 'backup' | 'restore', config: { EVENTSTORE_URL?: string | undefined }, argv: readonly string[] = process.argv): string {
  if (config.EVENTSTORE_URL) throw new Error(`EVENTSTORE_URL is set: ${command} EventStoreDB with its own tools (see the README)`);
  const file = argv[2];
  if (!file || file.startsWith('--')) throw new Error(`usage: npm run ${command} -- <file>`);
  return resolve(file);
}
