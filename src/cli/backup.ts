import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../infra/config.ts';
import { backupFileArgument, checkStoreFile, copyDatabase } from '../infra/eventstore/backup.ts';

/**
 * `npm run backup -- <file>`: an online, consistent copy of the embedded event store (the log, its hash chain, the
 * subject keys and the integration state, all in `events.sqlite`) while the service runs, checked before it is kept:
 * SQLite's integrity check and the hash chain over every event. Exit 1 (and no file) when the copy does not check.
 * Attachments (`blobs/`) and `jwt-secret` are plain files beside it: copy them with any file backup.
 */
async function backup(): Promise<void> {
  const config = loadConfig();
  const target = backupFileArgument('backup', config);
  if (existsSync(target)) throw new Error(`${target} exists; name a new file`);
  const source = join(config.CRM_DATA_DIR, 'events.sqlite');
  if (!existsSync(source)) throw new Error(`no event log at ${source} (set CRM_DATA_DIR to the service's data directory)`);
  const started = performance.now();
  await copyDatabase(source, `${target}.copy`);
  const check = await checkStoreFile(`${target}.copy`).catch((error: unknown) => {
    throw new Error(`the copy could not be checked: ${(error as Error).message}`);
  });
  if (check.integrity !== 'ok' || !check.chain.ok) {
    rmSync(`${target}.copy`, { force: true });
    throw new Error(`the copy does not check: integrity ${check.integrity}, chain ${JSON.stringify(check.chain.firstBreak ?? 'ok')}`);
  }
  renameSync(`${target}.copy`, target);
  process.stdout.write(`${JSON.stringify({ file: target, events: check.events, head: check.head, integrity: check.integrity, chain: { ok: check.chain.ok, checked: check.chain.checked, head: check.chain.head ?? null }, seconds: Math.round((performance.now() - started) / 10) / 100 })}\n`);
}

backup().catch((error: unknown) => {
  process.stderr.write(`backup failed: ${(error as Error).message}\n`);
  process.exit(1);
});
