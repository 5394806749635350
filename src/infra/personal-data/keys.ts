import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { leaveCheckpointsToTheLog, type SharedLogFile } from '../eventstore/wal-checkpointer.ts';
import type { Collection } from '../readstore/port.ts';

/** A data subject's key (AES-256), or the fact that it was destroyed (the subject's personal data erased). */
export type SubjectKey = { key: Buffer } | { erasedAt: string };

/**
 * The key store of crypto-shredding: one random key per data subject (a contact), created when the subject's
 * first personal value is written, destroyed when the subject is erased. What was encrypted under a destroyed
 * key cannot be read again by anyone, wherever its ciphertext went (the log, Kafka, a backup of the log alone).
 * An erased subject keeps a tombstone, so no new key is ever made for it.
 */
export interface SubjectKeys {
  /** The subject's key (made now when `create` and there is none); undefined for a subject never given one. */
  get(subjectId: string, create: boolean): Promise<SubjectKey | undefined>;
  /** The keys (and tombstones) of many subjects in one read; a subject never given a key is left out. */
  getMany(subjectIds: readonly string[]): Promise<Map<string, SubjectKey>>;
  /** Destroys the subject's key (a tombstone stays); true when there was a key to destroy. */
  erase(subjectId: string, at: string): Promise<boolean>;
  close(): Promise<void>;
}

export const KEY_BYTES = 32;
/** The key store's page cache, in KiB. */
const KEY_CACHE_KIB = 32_768;
/** The key store's entry for the key that hashes reserved unique values: the service's own, never erased. */
export const RESERVATION_KEY_SUBJECT = '$reservations';
/** The collection of subject keys in a shared store (never a read model: a rebuild does not touch it). */
export const SUBJECT_KEYS = '_subjectKeys';

const subjectKeyOf = (row: { key: Buffer | null; erased_at: string | null }): SubjectKey => (row.key ? { key: row.key } : { erasedAt: row.erased_at ?? '' });

/**
 * The embedded key store: a table of its own in a SQLite file (the event log's), written through a connection
 * with `secure_delete` on, so a destroyed key's bytes are overwritten in the database pages, and the write-ahead
 * log is checkpointed and truncated after an erasure, so no old copy of the page stays in it either.
 */
export class SqliteSubjectKeys implements SubjectKeys {
  private readonly db: Database.Database;
  private readonly select: Database.Statement<[string], { key: Buffer | null; erased_at: string | null }>;
  private readonly selectMany: Database.Statement<[string], { subject_id: string; key: Buffer | null; erased_at: string | null }>;
  private readonly insert: Database.Statement<[string, Buffer]>;
  private readonly tombstone: Database.Statement<[string, string]>;

  /** The embedded event log whose file this is, if it is (see `SharedLogFile`). */
  private readonly sharedLog: SharedLogFile | undefined;

  /** `sharesEventLog`: the file is that embedded event log's (see `SharedLogFile`). */
  constructor(path: string, options: { sharesEventLog?: SharedLogFile } = {}) {
    this.sharedLog = options.sharesEventLog;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    if (options.sharesEventLog) leaveCheckpointsToTheLog(this.db);
    this.db.pragma('secure_delete = ON');
    // Up to 32 MB of pages (SQLite's default is 2 MB): a catch-up reads the keys of 300,000 subjects in random order,
    // a fifth faster when their pages stay in memory.
    this.db.pragma(`cache_size = -${KEY_CACHE_KIB}`);
    this.db.exec('CREATE TABLE IF NOT EXISTS subject_keys (subject_id TEXT PRIMARY KEY, key BLOB, erased_at TEXT) WITHOUT ROWID');
    this.select = this.db.prepare('SELECT key, erased_at FROM subject_keys WHERE subject_id = ?');
    this.selectMany = this.db.prepare('SELECT subject_id, key, erased_at FROM subject_keys WHERE subject_id IN (SELECT value FROM json_each(?))');
    this.insert = this.db.prepare('INSERT INTO subject_keys (subject_id, key) VALUES (?, ?) ON CONFLICT (subject_id) DO NOTHING');
    this.tombstone = this.db.prepare('INSERT INTO subject_keys (subject_id, key, erased_at) VALUES (?, NULL, ?) ON CONFLICT (subject_id) DO UPDATE SET key = NULL, erased_at = excluded.erased_at WHERE erased_at IS NULL');
  }

  private read(subjectId: string): SubjectKey | undefined {
    const row = this.select.get(subjectId);
    return row && subjectKeyOf(row);
  }

  async getMany(subjectIds: readonly string[]): Promise<Map<string, SubjectKey>> {
    const found = new Map<string, SubjectKey>();
    for (const row of this.selectMany.all(JSON.stringify(subjectIds))) found.set(row.subject_id, subjectKeyOf(row));
    return found;
  }

  async get(subjectId: string, create: boolean): Promise<SubjectKey | undefined> {
    const found = this.read(subjectId);
    if (found || !create) return found;
    // A second process may make one at the same moment: the first insert wins, and both read it back.
    await this.sharedLog?.writeTurn();
    this.insert.run(subjectId, randomBytes(KEY_BYTES));
    return this.read(subjectId);
  }

  async erase(subjectId: string, at: string): Promise<boolean> {
    const had = this.read(subjectId);
    await this.sharedLog?.writeTurn();
    this.tombstone.run(subjectId, at);
    // The page that held the key is zeroed in the database; the log's older frames of it go with the truncation.
    // A reader holding a snapshot can keep the checkpoint from finishing: it is tried again on the next erasure.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return had !== undefined && 'key' in had;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

type KeyDoc = { _id: string; key?: string; erasedAt?: string };

/**
 * The key store in a collection of the shared store (MongoDB in production): a document per subject, its key
 * removed on erasure. MongoDB does not overwrite removed bytes at once (they go with compaction and the oplog's
 * window), so in production the keys belong in a KMS; this adapter is its stand-in (see the README).
 */
export class CollectionSubjectKeys implements SubjectKeys {
  constructor(private readonly keys: Collection<KeyDoc>) {}

  private static of(doc: KeyDoc | null): SubjectKey | undefined {
    if (!doc) return undefined;
    return doc.key ? { key: Buffer.from(doc.key, 'base64') } : { erasedAt: doc.erasedAt ?? '' };
  }

  async get(subjectId: string, create: boolean): Promise<SubjectKey | undefined> {
    const found = CollectionSubjectKeys.of(await this.keys.findOne({ _id: subjectId }));
    if (found || !create) return found;
    await this.keys.updateOne({ _id: subjectId }, { $setOnInsert: { key: randomBytes(KEY_BYTES).toString('base64') } }, { upsert: true });
    return CollectionSubjectKeys.of(await this.keys.findOne({ _id: subjectId }));
  }

  async getMany(subjectIds: readonly string[]): Promise<Map<string, SubjectKey>> {
    const docs = await this.keys.find({ _id: { $in: [...subjectIds] } });
    return new Map(docs.map((doc) => [doc._id, CollectionSubjectKeys.of(doc)!]));
  }

  async erase(subjectId: string, at: string): Promise<boolean> {
    const had = CollectionSubjectKeys.of(await this.keys.findOne({ _id: subjectId }));
    if (had && 'erasedAt' in had) return false;
    await this.keys.replaceOne({ _id: subjectId }, { _id: subjectId, erasedAt: at }, { upsert: true });
    return had !== undefined;
  }

  async close(): Promise<void> {}
}
