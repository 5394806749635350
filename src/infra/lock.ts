import { readFileSync, rmSync, writeFileSync } from 'node:fs';

export class DataDirLockedError extends Error {}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One process at a time owns an embedded data directory (its read-model snapshot lives in memory there).
 * A lock left by a killed process is taken over.
 */
export function lockDataDir(path: string, purpose: string): () => void {
  try {
    const held = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; purpose: string };
    if (held.pid !== process.pid && alive(held.pid))
      throw new DataDirLockedError(`The data directory is in use by process ${held.pid} (${held.purpose}); stop it first`);
  } catch (error) {
    if (error instanceof DataDirLockedError) throw error;
  }
  writeFileSync(path, JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() }));
  return () => rmSync(path, { force: true });
}
