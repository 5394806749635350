import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '../src/infra/eventstore/port.ts';
import { EmbeddedReadStore } from '../src/infra/readstore/embedded.ts';
import type { ReadStore } from '../src/infra/readstore/port.ts';
import type { Projection } from '../src/projections/projection.ts';
import { ProjectionRunner, REPLAY_BATCH } from '../src/projections/runner.ts';
import { silentLogger } from '../src/infra/logger.ts';
import type { openServices } from '../src/app/wiring.ts';

/**
 * A runner that rebuilds the service's projections into `store` as the service replays them: the log read in a
 * thread of its own, which applies some projections beside its reading.
 */
export function replayingRunner(services: Awaited<ReturnType<typeof openServices>>, store: ReadStore): ProjectionRunner {
  const runner = new ProjectionRunner(services.eventStore, store, services.runner.projections, silentLogger);
  runner.readLog = services.runner.readLog;
  runner.replayBeside = services.runner.replayBeside;
  return runner;
}

/**
 * The rebuild's baseline, its floor: the same work without the projections' logic, in two parts measured around
 * the rebuild. `readAlone` reads and decodes the events the replay reads, in the same batches, into no projection
 * at all. `writeOnce` writes the rebuilt read models' final documents once, into a fresh store with the same
 * collections and indexes, one bulk write per collection, and makes them durable as the rebuild does (the store's
 * snapshot written once).
 */
export async function readAlone(eventStore: EventStore, projections: readonly Projection[]): Promise<{ events: number; seconds: number }> {
  const categories = [...new Set(projections.flatMap((p) => p.categories))];
  const started = performance.now();
  let events = 0;
  for (let after = 0n; ; ) {
    const batch = await eventStore.readAll({ after, filter: { categories }, maxCount: REPLAY_BATCH });
    events += batch.length;
    if (batch.length < REPLAY_BATCH) break;
    after = batch[batch.length - 1]!.position;
  }
  return { events, seconds: (performance.now() - started) / 1000 };
}

/**
 * What `work` cost the whole process in CPU (all its threads: the reading thread, V8's collector helpers) and the
 * least time that work can take on this machine's cores, however well it is spread over them: the rebuild's own
 * bound, against which the floor's ratio is read (a ratio above floor ÷ bound cannot be reached by scheduling).
 */
export async function withCpu<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; cpuSeconds: number; cores: number; boundSeconds: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const cores = availableParallelism();
  return { result, seconds, cpuSeconds, cores, boundSeconds: cpuSeconds / cores };
}

export async function writeOnce(rebuilt: ReadStore, projections: readonly Projection[]): Promise<{ documents: number; writeSeconds: number; snapshotSeconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-floor-'));
  const store = new EmbeddedReadStore({ snapshotPath: join(dir, 'read-models.snapshot'), snapshotDelayMs: 2 ** 30 });
  for (const projection of projections) await projection.setup(store);
  let writeMs = 0;
  let documents = 0;
  for (const name of projections.flatMap((p) => p.collections)) {
    const docs = (await rebuilt.collection(name).find({})).map((doc) => ({ ...doc }));
    const started = performance.now();
    // One bulk write per collection, the cheapest way into the store: it takes an empty collection's documents whole
    // and builds each index once. (In slices of 2,000, as before 2026-12-06, every slice after the first went document
    // by document: the floor's writing took 3.6–4.7 s instead of 1.9–2.9 s, above the cheapest write it stands for.)
    await store.collection(name).bulkWrite(docs.map((document) => ({ insertOne: { document } })));
    writeMs += performance.now() - started;
    documents += docs.length;
  }
  const flushStarted = performance.now();
  await store.flush();
  const snapshotSeconds = (performance.now() - flushStarted) / 1000;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { documents, writeSeconds: writeMs / 1000, snapshotSeconds };
}
