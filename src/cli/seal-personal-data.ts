import Database from 'better-sqlite3';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { personalDataPolicy, subjectCategories } from '../commands/personal-data.ts';
import { ERASED } from '../domain/shared/personal-data.ts';
import { loadConfig } from '../infra/config.ts';
import { categoryOf, type EventMetadata, type EventToAppend } from '../infra/eventstore/port.ts';
import { SqliteEventStore } from '../infra/eventstore/sqlite.ts';
import { lockDataDir } from '../infra/lock.ts';
import { SqliteSubjectKeys } from '../infra/personal-data/keys.ts';
import { sealValue, valueAt, withValueAt } from '../infra/personal-data/sealing.ts';

/**
 * `npm run personal-data:seal -- --into <new data directory>`: the one-off migration for a log written before
 * personal data was sealed (events that hold contacts' personal values in clear). With the service stopped, it
 * copies the data directory (the log with the SQLite backup API, every other file as it is) into a new one and,
 * in the copy only:
 * - seals each clear personal value under its contact's key (made now where the contact has none), as an append
 *   of today seals it; a contact erased already gets `[erased]` in its place;
 * - re-chains the log (its payloads changed): the new hash chain starts here, and the old file, left untouched,
 *   remains the evidence of the old chain (both heads are printed);
 * - vacuums the file, so no page of it keeps an old clear value.
 * Positions, revisions and event ids stay as they were: checkpoints and integration state copied with the log
 * stay true. The read models are rebuilt by the service's first start on the new directory (the snapshot is not
 * copied). What it cannot reach: messages already published to Kafka and read by others, and backups of the old
 * directory: they keep the clear values, and the old directory itself must be destroyed once the new one serves.
 */
function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? undefined : process.argv[index + 1];
}

/** Files of the data directory not copied: the log (copied by the backup API), the lock, the read-model snapshot. */
const notCopied = (name: string) => name === 'lock' || name.startsWith('events.sqlite') || name.startsWith('read-models.snapshot');

type Row = { position: number; id: string; stream_id: string; type: string; data: string; metadata: string };

async function migrate(): Promise<void> {
  const config = loadConfig();
  if (config.EVENTSTORE_URL) throw new Error('EVENTSTORE_URL is set: this migrates the embedded store file; for EventStoreDB see the README');
  const into = option('into');
  if (!into) throw new Error('usage: npm run personal-data:seal -- --into <new data directory>');
  const source = resolve(config.CRM_DATA_DIR);
  const target = resolve(into);
  const sourceLog = join(source, 'events.sqlite');
  if (!existsSync(sourceLog)) throw new Error(`no event log at ${sourceLog} (set CRM_DATA_DIR to the service's data directory)`);
  if (target === source) throw new Error('--into must name a new directory, not CRM_DATA_DIR');
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`${target} is not empty`);
  mkdirSync(target, { recursive: true });
  const unlockSource = lockDataDir(join(source, 'lock'), 'personal-data:seal');
  const unlockTarget = lockDataDir(join(target, 'lock'), 'personal-data:seal');
  try {
    const started = performance.now();
    const oldLog = new SqliteEventStore({ path: sourceLog, cachedStreams: 0 });
    const oldHead = await oldLog.chainHead();
    const policy = personalDataPolicy((streamId) => oldLog.readStream(streamId));
    const targetLog = join(target, 'events.sqlite');
    const raw = new Database(sourceLog, { readonly: true });
    await raw.backup(targetLog);
    raw.close();
    for (const name of readdirSync(source)) if (!notCopied(name)) cpSync(join(source, name), join(target, name), { recursive: true });

    const keys = new SqliteSubjectKeys(targetLog);
    const db = new Database(targetLog);
    db.pragma('journal_mode = WAL');
    db.pragma('secure_delete = ON');
    const update = db.prepare<[string, string, number]>('UPDATE events SET data = ?, metadata = ? WHERE position = ?');
    const categories = subjectCategories();
    const rows = db.prepare<[], Row>(`SELECT position, id, stream_id, type, data, metadata FROM events WHERE category IN (${categories.map((c) => `'${c}'`).join(', ')}) ORDER BY position`).all();
    let sealed = 0;
    let erased = 0;
    const changes: [string, string, number][] = [];
    for (const row of rows) {
      const metadata = JSON.parse(row.metadata) as EventMetadata;
      if (metadata.personal) continue;
      const event: EventToAppend = { id: row.id, type: row.type, data: JSON.parse(row.data), metadata };
      const personal = await policy.personalValues(row.stream_id, event);
      if (personal.length === 0) continue;
      let data = event.data;
      for (const { subjectId, pointers } of personal) {
        const key = await keys.get(subjectId, true);
        for (const pointer of pointers) {
          if (key && 'key' in key) sealed++;
          else erased++;
          data = withValueAt(data, pointer, key && 'key' in key ? sealValue(key.key, subjectId, row.id, pointer, valueAt(data, pointer)) : ERASED);
        }
      }
      changes.push([JSON.stringify(data), JSON.stringify({ ...metadata, personal }), row.position]);
    }
    db.transaction(() => {
      for (const change of changes) update.run(...change);
      // The payloads changed: the chain is made again, from the first event, by the store's next open.
      db.exec('DROP TABLE IF EXISTS event_chain');
    })();
    db.close();
    await keys.close();
    const newLog = new SqliteEventStore({ path: targetLog, cachedStreams: 0 });
    const verified = await newLog.verifyChain();
    const newHead = await newLog.chainHead();
    await newLog.close();
    await oldLog.close();
    const vacuum = new Database(targetLog);
    vacuum.exec('VACUUM');
    vacuum.pragma('wal_checkpoint(TRUNCATE)');
    vacuum.close();
    const checkedCategories = new Set(rows.map((row) => categoryOf(row.stream_id)));
    process.stdout.write(
      `${JSON.stringify({
        into: target,
        events: verified.checked,
        eventsChanged: changes.length,
        valuesSealed: sealed,
        valuesErased: erased,
        categories: [...checkedCategories],
        oldChainHead: oldHead ?? null,
        newChainHead: newHead ?? null,
        chainVerifies: verified.ok,
        seconds: Math.round((performance.now() - started) / 10) / 100,
      }, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}\n`,
    );
    if (!verified.ok) throw new Error(`the new log's chain does not verify: ${JSON.stringify(verified.firstBreak, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
  } finally {
    unlockTarget();
    unlockSource();
  }
}

migrate().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`personal-data:seal failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
