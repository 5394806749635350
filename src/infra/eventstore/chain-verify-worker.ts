import Database from 'better-sqlite3';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { ChainVerification } from './chain.ts';
import { ChainRangeVerifier } from './chain-range.ts';
import { workerBootstrap } from '../threads.ts';

/**
 * A part of a chain verification in a worker thread, over a read-only connection of its own (the hashing is the
 * cost, and one thread per core shares it). Where a worker cannot run this file (a runner that does not load
 * TypeScript in threads), the part is checked in process instead (`fallback`): slower, never skipped.
 */
export function verifyInWorker(path: string, from: number, to: number, fallback: () => Promise<ChainVerification>): Promise<ChainVerification> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let worker: Worker;
    try {
      worker = new Worker(workerBootstrap(import.meta.url), { eval: true, workerData: { chainVerify: true, path, from, to } });
    } catch {
      fallback().then(resolve, reject);
      return;
    }
    worker.once('message', (result: ChainVerification) => {
      settled = true;
      resolve(result);
      void worker.terminate();
    });
    // A worker that failed, or ended without an answer: the part is checked here.
    const instead = () => {
      if (settled) return;
      settled = true;
      fallback().then(resolve, reject);
    };
    worker.once('error', instead);
    worker.once('exit', instead);
  });
}

if (!isMainThread && parentPort && (workerData as { chainVerify?: unknown } | null)?.chainVerify === true) {
  const { path, from, to } = workerData as { path: string; from: number; to: number };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  void new ChainRangeVerifier(db)
    .range(from, to)
    .then((result) => parentPort!.postMessage(result))
    .finally(() => db.close());
}
