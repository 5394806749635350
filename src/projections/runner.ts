import { categoryOf, type EventStore, type Subscription } from '../infra/eventstore/port.ts';
import type { Logger } from '../infra/logger.ts';
import { type Doc, type ReadStore, ReadStoreUnavailableError } from '../infra/readstore/port.ts';
import type { Projection } from './projection.ts';

type CheckpointDoc = Doc & { version: number; position: number };
const CHECKPOINTS = '_projections';

export interface ProjectionStatus {
  name: string;
  position: bigint;
  failed?: string;
}

export class MinPositionTimeoutError extends Error {
  constructor(readonly position: bigint) {
    super(`The read models have not reached position ${position} yet`);
    this.name = 'MinPositionTimeoutError';
  }
}

/**
 * Runs projections: each follows the global log from its checkpoint with its own subscription, applies
 * events idempotently and records how far it got. `waitFor` lets a reader see its own writes.
 */
export class ProjectionRunner {
  private readonly positions = new Map<string, bigint>();
  private readonly failures = new Map<string, string>();
  private readonly subscriptions: Subscription[] = [];
  private waiters: { position: bigint; names: readonly string[]; resolve: () => void }[] = [];
  private retry: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Pause before following the log again after the read store could not be reached. */
  retryMs = 1000;

  /**
   * `rebuildStaging`, given for a read store across the network: a rebuild replays into the in-process store it
   * returns, then loads each collection into the real one with bulk writes, instead of a round trip per event.
   */
  constructor(
    private readonly eventStore: EventStore,
    private readonly readStore: ReadStore,
    readonly projections: readonly Projection[],
    private readonly logger: Logger,
    private readonly rebuildStaging?: () => ReadStore,
  ) {}

  private checkpoints() {
    return this.readStore.collection<CheckpointDoc>(CHECKPOINTS);
  }

  private async reset(projection: Projection): Promise<void> {
    for (const name of projection.collections) await this.readStore.collection(name).drop();
    await this.checkpoints().replaceOne(
      { _id: projection.name },
      { _id: projection.name, version: projection.version, position: 0 },
      { upsert: true },
    );
  }

  private async saveCheckpoint(projection: Projection, position: bigint): Promise<void> {
    this.positions.set(projection.name, position);
    await this.checkpoints().updateOne({ _id: projection.name }, { $set: { position: Number(position), version: projection.version } }, { upsert: true });
    this.notify();
  }

  /**
   * Follows the log with one subscription for all projections (one read per batch, not one per projection),
   * from the lowest checkpoint; each projection skips what it has applied. A projection that fails stops on
   * its own and is reported; the others go on. Checkpoints are written at most every `checkpointEveryMs` and
   * on stop: a replay from an older checkpoint is harmless, the documents are idempotent.
   */
  async start(checkpointEveryMs = 1000): Promise<void> {
    const stale: Projection[] = [];
    for (const projection of this.projections) {
      const saved = await this.checkpoints().findOne({ _id: projection.name });
      if (!saved || saved.version !== projection.version) {
        if (saved) this.logger.info('projection version changed, rebuilding', { projection: projection.name });
        await this.reset(projection);
        stale.push(projection);
      }
      await projection.setup(this.readStore);
      this.positions.set(projection.name, BigInt(saved?.version === projection.version ? saved.position : 0));
    }
    const categories = [...new Set(this.projections.flatMap((p) => p.categories))];
    let lastSave = Date.now();
    const saveIfDue = async (force = false) => {
      if (!force && Date.now() - lastSave < checkpointEveryMs) return;
      lastSave = Date.now();
      for (const projection of this.projections) if (this.following(projection)) await this.saveCheckpoint(projection, this.positions.get(projection.name)!);
    };
    this.saveAll = () => saveIfDue(true);
    const follow = () => {
      const live = this.projections.filter((p) => this.following(p)).map((p) => this.positions.get(p.name)!);
      const from = live.reduce((min, position) => (position < min ? position : min), live[0] ?? 0n);
      const subscription = this.eventStore.subscribeToAll(
        { after: from, filter: { categories } },
        {
          onEvent: async (event) => {
            const category = categoryOf(event.streamId);
            for (const projection of this.projections) {
              if (!this.following(projection) || event.position <= this.positions.get(projection.name)!) continue;
              if (projection.categories.includes(category)) {
                try {
                  await projection.apply(event, this.readStore);
                } catch (error) {
                  if (error instanceof ReadStoreUnavailableError) throw error;
                  this.failures.set(projection.name, error instanceof Error ? error.message : String(error));
                  this.logger.error('projection stopped', { projection: projection.name, position: event.position, error });
                  continue;
                }
              }
              this.positions.set(projection.name, event.position);
            }
            this.notify();
            await saveIfDue();
          },
          onCheckpoint: async (position) => {
            for (const projection of this.projections)
              if (this.following(projection) && position > this.positions.get(projection.name)!) this.positions.set(projection.name, position);
            this.notify();
            await saveIfDue();
          },
          onError: (error) => {
            const index = this.subscriptions.indexOf(subscription);
            if (index >= 0) this.subscriptions.splice(index, 1);
            void subscription.close().catch(() => {});
            if (error instanceof ReadStoreUnavailableError && !this.stopping) {
              // Nothing is wrong with the events: pause, then go on from the last position applied.
              this.logger.warn('read store unreachable; projections pause and retry', { error: error.message, retryMs: this.retryMs });
              this.retry = setTimeout(follow, this.retryMs);
              return;
            }
            for (const projection of this.projections) this.failures.set(projection.name, error instanceof Error ? error.message : String(error));
            this.logger.error('projections stopped', { error });
          },
        },
      );
      this.subscriptions.push(subscription);
    };
    // With a remote read store, projections starting from nothing catch up in process and are bulk-loaded in
    // the background (the service answers meanwhile; /readyz says they are behind) while the others follow the
    // log; then the subscription starts again from the lowest position, now including them.
    if (this.rebuildStaging && stale.length && (await this.eventStore.headPosition()) > 0n) {
      for (const projection of stale) this.catchingUp.add(projection.name);
      this.catchUp = this.catchUpInBackground(stale, async () => {
        await Promise.all(this.subscriptions.splice(0).map((subscription) => subscription.close()));
        clearTimeout(this.retry);
        follow();
      });
    }
    if (this.projections.some((projection) => this.following(projection))) follow();
  }

  /** Whether a projection takes events from the live subscription (not failed, not being caught up). */
  private following(projection: Projection): boolean {
    return !this.failures.has(projection.name) && !this.catchingUp.has(projection.name);
  }

  private catchUp: Promise<void> | undefined;
  /** Projections being caught up in the background: their checkpoints stay unwritten until that is done. */
  private readonly catchingUp = new Set<string>();

  private async catchUpInBackground(stale: readonly Projection[], then: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        // A cut-off attempt may have loaded part of the documents: start again from empty collections.
        if (attempt > 1) for (const projection of stale) await this.reset(projection);
        const head = await this.replay(stale);
        for (const projection of stale) {
          this.positions.set(projection.name, head);
          this.catchingUp.delete(projection.name);
        }
        this.notify();
        if (!this.stopping) await then();
        return;
      } catch (error) {
        if (this.stopping) return;
        if (!(error instanceof ReadStoreUnavailableError)) {
          for (const projection of stale) this.failures.set(projection.name, error instanceof Error ? error.message : String(error));
          this.logger.error('projection catch-up failed', { projections: stale.map((p) => p.name), error });
          return;
        }
        this.logger.warn('read store unreachable during catch-up; retrying', { error: error.message, retryMs: this.retryMs });
        await new Promise((resolve) => setTimeout(resolve, this.retryMs));
        if (this.stopping) return;
      }
    }
  }

  private saveAll: () => Promise<void> = async () => {};

  /** Replays the whole log into every projection from scratch; `onProgress` gets (events applied, position reached, head). */
  async rebuild(onProgress: (applied: number, position: bigint, head: bigint) => void = () => {}, batchSize = 2000): Promise<number> {
    for (const projection of this.projections) await this.reset(projection);
    let applied = 0;
    await this.replay(this.projections, (done, position, head) => onProgress((applied = done), position, head), batchSize);
    return applied;
  }

  /**
   * Applies the log up to its current head to the given (empty) projections, in process first when a staging
   * store is configured, and records their checkpoints at that head, which it returns.
   */
  private async replay(projections: readonly Projection[], onProgress: (applied: number, position: bigint, head: bigint) => void = () => {}, batchSize = 2000): Promise<bigint> {
    const head = await this.eventStore.headPosition();
    const staging = this.rebuildStaging?.() ?? this.readStore;
    for (const projection of projections) await projection.setup(staging);
    const categories = [...new Set(projections.flatMap((p) => p.categories))];
    let after = 0n;
    let done = 0;
    for (;;) {
      if (this.stopping) throw new Error('stopped during a replay');
      const events = await this.eventStore.readAll({ after, filter: { categories }, maxCount: batchSize });
      for (const event of events) {
        if (event.position > head) break;
        const category = categoryOf(event.streamId);
        for (const projection of projections)
          if (projection.categories.includes(category)) await projection.apply(event, staging);
        done += 1;
      }
      after = events.length ? events[events.length - 1]!.position : head;
      onProgress(done, after, head);
      if (events.length < batchSize || after >= head) break;
    }
    if (staging !== this.readStore) {
      for (const projection of projections) await this.load(projection, staging);
      await staging.close();
    }
    for (const projection of projections) await this.saveCheckpoint(projection, head);
    await this.readStore.flush();
    return head;
  }

  /** Copies a projection's collections from the staging store into the read store, in bulk writes. */
  private async load(projection: Projection, staging: ReadStore, batchSize = 1000): Promise<void> {
    await projection.setup(this.readStore);
    for (const name of projection.collections) {
      const docs = await staging.collection(name).find({});
      const target = this.readStore.collection(name);
      for (let i = 0; i < docs.length; i += batchSize)
        await target.bulkWrite(docs.slice(i, i + batchSize).map((document) => ({ insertOne: { document } })));
    }
  }

  status(): ProjectionStatus[] {
    return this.projections.map((p) => ({
      name: p.name,
      position: this.positions.get(p.name) ?? 0n,
      ...(this.failures.has(p.name) ? { failed: this.failures.get(p.name)! } : {}),
    }));
  }

  private reached(position: bigint, names: readonly string[]): boolean {
    return names.every((name) => (this.positions.get(name) ?? 0n) >= position);
  }

  private notify(): void {
    if (this.waiters.length === 0) return;
    const pending = this.waiters;
    this.waiters = [];
    for (const waiter of pending) {
      if (this.reached(waiter.position, waiter.names)) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }

  /** Resolves once every named projection (default: all) has applied `position`; rejects after `timeoutMs`. */
  async waitFor(position: bigint, timeoutMs: number, names: readonly string[] = this.projections.map((p) => p.name)): Promise<void> {
    if (this.reached(position, names)) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        position,
        names,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new MinPositionTimeoutError(position));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retry);
    await this.catchUp;
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close()));
    await this.saveAll().catch((error: unknown) => this.logger.error('could not save projection checkpoints', { error }));
  }
}
