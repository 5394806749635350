import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest's global setup: every temporary directory the tests make (data directories, backups, servers' files) goes
 * under one directory for the run (TMPDIR, which the workers and the servers they start inherit), removed when the
 * run ends, so that runs leave nothing behind in the system's temporary directory.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'crm-tests-'));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}
