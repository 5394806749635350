import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openServices } from '../src/app/wiring.ts';
import { loadConfig } from '../src/infra/config.ts';
import { silentLogger } from '../src/infra/logger.ts';
import { EmbeddedReadStore } from '../src/infra/readstore/embedded.ts';
import { benchDataDir } from './dataset.ts';
import { readAlone, replayingRunner, withCpu, writeOnce } from './rebuild-measure.ts';

/**
 * `npm run bench:rebuild [-- --runs N --customers N]`: the rebuild and its floor alone, as `npm run bench` measures
 * them, each run in a fresh process of its own (the benchmark's rebuild runs in a process that did the other
 * benchmarks before it). The data set (`benchDataDir`, 100,000 customers by default: 957,233 events) is written
 * once and kept under bench/results/, named by the size and the data set's code, for the next runs. Prints each run
 * and the median, and writes bench/results/rebuild.json.
 */
const here = dirname(fileURLToPath(import.meta.url));
const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a whole number above 0`);
  return value;
};

type Run = {
  events: number;
  rebuildSeconds: number;
  /** CPU the rebuild took on all the process's threads, and that divided by the cores: the least time it can take. */
  rebuildCpuSeconds: number;
  cores: number;
  boundSeconds: number;
  readSeconds: number;
  writeSeconds: number;
  snapshotSeconds: number;
  floorSeconds: number;
  ratio: number;
  /** The ratio the rebuild's CPU allows at best (floor ÷ bound), were it spread over the cores without a gap. */
  ratioBound: number;
};

/** One run, in this process: the floor's reading, the rebuild, the floor's writing, over a copy of the data set. */
async function measureOnce(dataset: string): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-rebuild-'));
  try {
    for (const file of readdirSync(dataset)) if (!file.includes('snapshot')) cpSync(join(dataset, file), join(dir, file), { recursive: true });
    const services = await openServices(loadConfig({ CRM_DATA_DIR: dir, CRM_ADMIN_PASSWORD: 'bench-password-1', LOG_LEVEL: 'error' }), { logger: silentLogger, startProjections: false, purpose: 'bench' });
    const store = new EmbeddedReadStore({ snapshotPath: join(dir, 'read-models.snapshot'), snapshotDelayMs: 2 ** 30 });
    const read = await readAlone(services.eventStore, services.runner.projections);
    const rebuild = await withCpu(() => replayingRunner(services, store).rebuild());
    const { writeSeconds, snapshotSeconds } = await writeOnce(store, services.runner.projections);
    await store.close();
    await services.close();
    const floorSeconds = read.seconds + writeSeconds + snapshotSeconds;
    return {
      events: rebuild.result,
      rebuildSeconds: rebuild.seconds,
      rebuildCpuSeconds: rebuild.cpuSeconds,
      cores: rebuild.cores,
      boundSeconds: rebuild.boundSeconds,
      readSeconds: read.seconds,
      writeSeconds,
      snapshotSeconds,
      floorSeconds,
      ratio: floorSeconds / rebuild.seconds,
      ratioBound: floorSeconds / rebuild.boundSeconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The data set for `customers`, written once (into a directory named by its size and code, moved into place when whole). */
async function dataset(customers: number): Promise<string> {
  const code = createHash('sha256').update(readFileSync(join(here, 'dataset.ts'))).digest('hex').slice(0, 12);
  const kept = join(here, 'results', `rebuild-dataset-${customers}-${code}`);
  if (existsSync(kept)) return kept;
  console.log(`writing the data set of ${customers} customers (once; kept in ${kept})`);
  const { dir, services } = await benchDataDir(customers);
  await services.close();
  mkdirSync(dirname(kept), { recursive: true });
  const partial = `${kept}.partial`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(dir, partial, { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, kept);
  return kept;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

if (process.env.CRM_BENCH_REBUILD_DATASET) {
  // A child: one run, its figures as the last line of its output.
  const run = await measureOnce(process.env.CRM_BENCH_REBUILD_DATASET);
  console.log(JSON.stringify(run));
  process.exit(0);
} else {
  const runs = option('runs', 5);
  const customers = option('customers', 100_000);
  const data = await dataset(customers);
  const results: Run[] = [];
  for (let i = 1; i <= runs; i++) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { env: { ...process.env, CRM_BENCH_REBUILD_DATASET: data }, encoding: 'utf8', maxBuffer: 2 ** 26 });
    const last = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status !== 0 || !last.startsWith('{')) throw new Error(`run ${i} failed (exit ${child.status}): ${child.stderr.slice(-2000)}`);
    const run = JSON.parse(last) as Run;
    results.push(run);
    console.log(`run ${i}: rebuild ${round(run.rebuildSeconds)} s (${Math.round(run.events / run.rebuildSeconds)}/s); floor ${round(run.floorSeconds)} s (reading ${round(run.readSeconds)}, writing ${round(run.writeSeconds)}, snapshot ${round(run.snapshotSeconds)}); ratio ${round(run.ratio, 3)}; CPU ${round(run.rebuildCpuSeconds, 1)} core-s, at best ${round(run.boundSeconds)} s on ${run.cores} cores (ratio ≤ ${round(run.ratioBound, 3)})`);
  }
  const summary = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, at: new Date().toISOString() },
    customers,
    events: results[0]!.events,
    medianRebuildSeconds: round(median(results.map((r) => r.rebuildSeconds))),
    medianFloorSeconds: round(median(results.map((r) => r.floorSeconds))),
    medianRatio: round(median(results.map((r) => r.ratio)), 3),
    medianRebuildCpuSeconds: round(median(results.map((r) => r.rebuildCpuSeconds))),
    medianRatioBound: round(median(results.map((r) => r.ratioBound)), 3),
    runs: results,
  };
  console.log(`median of ${runs}: rebuild ${summary.medianRebuildSeconds} s, floor ${summary.medianFloorSeconds} s, ratio ${summary.medianRatio} (target ≥ 0.8); the rebuild's CPU ${summary.medianRebuildCpuSeconds} core-s allows a ratio of at most ${summary.medianRatioBound}`);
  writeFileSync(join(here, 'results', 'rebuild.json'), `${JSON.stringify(summary, null, 2)}\n`);
}
