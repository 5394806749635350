import { randomUUID } from 'node:crypto';
import type { Clock } from '../infra/clock.ts';
import type { Logger } from '../infra/logger.ts';
import { EmbeddedReadStore } from '../infra/readstore/embedded.ts';
import { OverlayReadStore } from '../infra/readstore/overlay.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import type { ProjectionRunner } from './runner.ts';

/** So many past instants are being computed that another cannot be taken on now (answered 503, Retry-After). */
export class AsOfBusyError extends Error {
  constructor(readonly building: number) {
    super(`${building} reports as of past instants are being computed; ask again in a moment`);
    this.name = 'AsOfBusyError';
  }
}

/** The read models of a past instant: built from the log cut there, in memory, apart from the live ones. */
export interface AsOfModel {
  readonly instant: Date;
  /** building → ready, or failed (the log up to the instant has an event a projection cannot apply). */
  readonly state: 'building' | 'ready' | 'failed';
  /** Events applied so far. */
  readonly applied: number;
  /** The live read store with the model's collections answered from the past instant, once built. */
  readonly ready: Promise<ReadStore>;
  /** Why it failed. */
  readonly error?: string;
}

/**
 * A report as of a past instant that took longer than the caller waited: polled by its id, by its caller only.
 * It names its model rather than holding it, so only the models the cache keeps hold memory (a model dropped
 * meanwhile is built again).
 */
export interface AsOfJob<R> {
  id: string;
  ownerId: string;
  instant: Date;
  collections: readonly string[];
  /** What the job answers once the model is ready (the report, computed for whoever polls). */
  answer: R;
}

export interface AsOfLimits {
  /** Models kept at once (built or being built); the least recently used built one makes room for a new one. */
  maxModels: number;
  /** A model or job unused this long is dropped. */
  ttlMs: number;
}

/** A model that failed is kept this long (asking again meanwhile answers the failure), then built anew. */
const FAILURE_KEPT_MS = 60_000;

interface Entry {
  model: ModelState;
  usedAt: number;
  failedAt?: number;
}

class ModelState implements AsOfModel {
  state: AsOfModel['state'] = 'building';
  applied = 0;
  error?: string;
  store?: EmbeddedReadStore;
  ready!: Promise<ReadStore>;
  constructor(readonly instant: Date) {}
}

/**
 * Reports as of a past instant (`?asOf=`): the projections a report reads are replayed from the start of the log
 * up to the last event recorded at or before the instant, into a temporary in-memory read model that the
 * report then reads instead of the live one (every other collection — the organisation, the company settings —
 * is read live: the caller's data scope is the one they have now). Models are built one at a time, beside live
 * requests, cached by instant and projections, bounded in number and dropped when unused.
 */
export class AsOfModels {
  private readonly models = new Map<string, Entry>();
  private readonly jobs = new Map<string, { job: AsOfJob<unknown>; usedAt: number }>();
  /** Builds run one after another, so past instants cannot take the service's memory and CPU all at once. */
  private queue: Promise<unknown> = Promise.resolve();
  /** How many models were built (a cached one is not built again). */
  built = 0;

  constructor(
    private readonly runner: ProjectionRunner,
    private readonly live: ReadStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly limits: AsOfLimits,
  ) {}

  /** The read model of `collections` (and whatever their projections own) as the log stood at `instant`. */
  model(instant: Date, collections: readonly string[]): AsOfModel {
    this.expire();
    const reading = this.runner.projectionsReading(collections);
    const projections = this.runner.projections.filter((projection) => reading.includes(projection.name));
    const key = `${instant.toISOString()}|${projections.map((p) => p.name).sort().join(',')}`;
    const now = this.clock.now().getTime();
    const found = this.models.get(key);
    if (found) {
      found.usedAt = now;
      return found.model;
    }
    if (this.models.size >= this.limits.maxModels) this.evictOne();
    const model = new ModelState(instant);
    const owned = new Set(projections.flatMap((projection) => projection.collections));
    const build = async (): Promise<ReadStore> => {
      const store = new EmbeddedReadStore();
      const cut = instant.getTime();
      const started = performance.now();
      const { position, applied } = await this.runner.replayCut(projections, store, (event) => Date.parse(event.metadata.at) <= cut, (done) => (model.applied = done));
      model.store = store;
      model.applied = applied;
      this.built += 1;
      this.logger.info('read model of a past instant built', { asOf: instant.toISOString(), projections: projections.map((p) => p.name), events: applied, position, ms: Math.round(performance.now() - started) });
      return new OverlayReadStore(this.live, store, owned);
    };
    const ready = this.queue.then(build);
    this.queue = ready.catch(() => {});
    model.ready = ready.then(
      (store) => {
        model.state = 'ready';
        return store;
      },
      (error: unknown) => {
        model.state = 'failed';
        model.error = error instanceof Error ? error.message : String(error);
        // Kept a short while, then built anew (an administrator may have repaired the projection meanwhile).
        const entry = this.models.get(key);
        if (entry?.model === model) entry.failedAt = this.clock.now().getTime();
        this.logger.error('read model of a past instant could not be built', { asOf: instant.toISOString(), error });
        throw error;
      },
    );
    // Whoever awaits it handles a failure; this only keeps an unawaited failure from going unhandled.
    model.ready.catch(() => {});
    this.models.set(key, { model, usedAt: now });
    return model;
  }

  /** Keeps a report that took longer than its caller waited, for its caller to poll; returns its id. */
  startJob<R>(ownerId: string, instant: Date, collections: readonly string[], answer: R): string {
    const id = randomUUID();
    this.jobs.set(id, { job: { id, ownerId, instant, collections, answer }, usedAt: this.clock.now().getTime() });
    return id;
  }

  /** A job by id, for its owner only (anyone else: undefined, as for a job that never was). */
  job<R>(id: string, ownerId: string): AsOfJob<R> | undefined {
    this.expire();
    const entry = this.jobs.get(id);
    if (!entry || entry.job.ownerId !== ownerId) return undefined;
    entry.usedAt = this.clock.now().getTime();
    return entry.job as AsOfJob<R>;
  }

  /** How many models are kept (built or being built). */
  get size(): number {
    return this.models.size;
  }

  /** Waits for the build under way (it stops once the runner stops) so the stores close after it. */
  async close(): Promise<void> {
    await this.queue;
  }

  /** Makes room: drops the least recently used model that is built; with every one still building, refuses. */
  private evictOne(): void {
    let oldest: [string, Entry] | undefined;
    // Failed ones first (they hold nothing worth keeping), then the least recently used.
    const rank = (entry: Entry) => (entry.model.state === 'failed' ? -Infinity : entry.usedAt);
    for (const entry of this.models) if (entry[1].model.state !== 'building' && (!oldest || rank(entry[1]) < rank(oldest[1]))) oldest = entry;
    if (!oldest) throw new AsOfBusyError(this.models.size);
    this.models.delete(oldest[0]);
  }

  /** Drops the models and jobs unused for longer than the limit. */
  private expire(): void {
    const now = this.clock.now().getTime();
    const before = now - this.limits.ttlMs;
    for (const [key, entry] of this.models)
      if ((entry.model.state === 'ready' && entry.usedAt < before) || (entry.failedAt !== undefined && entry.failedAt < now - FAILURE_KEPT_MS)) this.models.delete(key);
    for (const [id, entry] of this.jobs) if (entry.usedAt < before) this.jobs.delete(id);
  }
}
