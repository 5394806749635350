import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openServices } from '../app/wiring.ts';
import { loadConfig } from '../infra/config.ts';
import { backupFileArgument, checkStoreFile, copyDatabase } from '../infra/eventstore/backup.ts';
import { jsonLogger } from '../infra/logger.ts';

/**
 * `npm run restore -- <file>`: restores a backup (`npm run backup`) into an empty data directory (CRM_DATA_DIR): the
 * store is copied in, checked (integrity, hash chain), and every read model is rebuilt from it. Exit 1 when the
 * directory is not empty or the backup does not check (the directory is left empty again).
 */
async function restore(): Promise<void> {
  const config = loadConfig();
  const backup = backupFileArgument('restore', config);
  if (!existsSync(backup)) throw new Error(`no backup at ${backup}`);
  const dir = resolve(config.CRM_DATA_DIR);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: restore into an empty data directory`);
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const store = join(dir, 'events.sqlite');
  await copyDatabase(backup, store);
  const check = await checkStoreFile(store);
  if (check.integrity !== 'ok' || !check.chain.ok) {
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    throw new Error(`the backup does not check: integrity ${check.integrity}, chain ${JSON.stringify(check.chain.firstBreak ?? 'ok')}`);
  }
  const logger = jsonLogger(config.LOG_LEVEL);
  const services = await openServices(config, { logger, startProjections: false, purpose: 'restore' });
  try {
    const applied = await services.runner.rebuild();
    process.stdout.write(`${JSON.stringify({ dataDir: dir, events: check.events, head: check.head, chain: { ok: true, checked: check.chain.checked }, rebuilt: applied, seconds: Math.round((performance.now() - started) / 10) / 100 })}\n`);
  } finally {
    await services.close();
  }
}

restore().catch((error: unknown) => {
  process.stderr.write(`restore failed: ${(error as Error).message}\n`);
  process.exit(1);
});
