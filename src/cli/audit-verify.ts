import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../infra/config.ts';
import { SqliteEventStore } from '../infra/eventstore/sqlite.ts';
import { lockDataDir } from '../infra/lock.ts';

/**
 * `npm run audit:verify [-- --from <position>] [-- --to <position>]`: checks the hash chain of the event log in
 * CRM_DATA_DIR (as the service finds it) from the store file alone, with the service stopped (it holds the data
 * directory's lock). Prints the verification as JSON; exits 1 on a break, 2 when it cannot check.
 */
function option(name: string): bigint | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = process.argv[index + 1];
  if (!value || !/^\d{1,18}$/.test(value)) throw new Error(`--${name} takes a position in the log (a whole number)`);
  return BigInt(value);
}

async function verify(): Promise<number> {
  const config = loadConfig();
  if (config.EVENTSTORE_URL) throw new Error('EVENTSTORE_URL is set: this checks the embedded store file; see the README for EventStoreDB');
  const path = join(config.CRM_DATA_DIR, 'events.sqlite');
  if (!existsSync(path)) throw new Error(`no event log at ${path} (set CRM_DATA_DIR to the service's data directory)`);
  const from = option('from');
  const to = option('to');
  const unlock = lockDataDir(join(config.CRM_DATA_DIR, 'lock'), 'audit:verify');
  // Opened as the service opens it: a log from before the chain gets its chain first.
  const store = new SqliteEventStore({ path, cachedStreams: 0 });
  try {
    const started = performance.now();
    const result = await store.verifyChain({ ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${JSON.stringify({ ...result, seconds: Math.round(seconds * 100) / 100, eventsPerSecond: Math.round(result.checked / Math.max(seconds, 1e-6)) })}\n`);
    if (!result.ok) process.stderr.write(`the hash chain breaks at position ${result.firstBreak!.position}: ${result.firstBreak!.reason}\n`);
    return result.ok ? 0 : 1;
  } finally {
    await store.close();
    unlock();
  }
}

verify().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`audit:verify could not check the log: ${(error as Error).message}\n`);
    process.exit(2);
  },
);
