import type { EventStore, Subscription } from '../infra/eventstore/port.ts';
import { type Compaction, compactHeap } from '../infra/heap.ts';
import type { Logger } from '../infra/logger.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import type { EventConsumer, EventHandler, EventSource } from './event-source.ts';
import { forgetDelivered, keepHandledWithin } from './once.ts';

type ConsumerCheckpoint = Doc & { position: number };

/** A consumer whose checkpoint is past the log's head (the log lost events it acted on): it does not start. */
export class ConsumerCheckpointAheadError extends Error {
  constructor(
    readonly consumer: string,
    readonly checkpoint: bigint,
    readonly head: bigint,
  ) {
    super(`Consumer ${consumer}'s checkpoint (${checkpoint}) is ahead of the event log's head (${head}): events it acted on were lost`);
    this.name = 'ConsumerCheckpointAheadError';
  }
}
const CHECKPOINTS = '_consumers';

export interface EventLogSourceOptions {
  /** How long a failed consumer waits before it resumes from its checkpoint (ms); default 1000. */
  retryMs?: number;
  /** After how many events a consumer's inbox entries before its checkpoint are deleted; default FORGET_EVERY. */
  forgetEvery?: number;
  /**
   * A consumer that has caught up with the head it started behind by at least this many of its events compacts
   * the heap (its events, read in batches, lived long enough to be promoted and then died: see compactHeap);
   * default 100,000, 0: never.
   */
  compactAfterEvents?: number;
  compactHeap?: () => Compaction;
}
/** A consumer's inbox entries before its checkpoint are deleted after this many events (so it holds about that many). */
const FORGET_EVERY = 1_000;

/**
 * The embedded default's event source: each named consumer follows the event log itself from a checkpoint
 * kept in the read store. A failing handler stops the subscription; it resumes from the checkpoint later, and
 * keeps trying while the read store cannot be reached. The consumer has handled every event of its own at or
 * before its saved checkpoint, so its inbox keeps a mark of that instead of their entries (see `forgetDelivered`).
 */
export class EventLogSource implements EventSource {
  private readonly retryMs: number;
  private readonly forgetEvery: number;
  private readonly compactAfterEvents: number;
  private readonly compactHeap: () => Compaction;

  constructor(
    private readonly eventStore: EventStore,
    private readonly readStore: ReadStore,
    private readonly logger: Logger,
    options: EventLogSourceOptions = {},
  ) {
    this.retryMs = options.retryMs ?? 1000;
    this.forgetEvery = options.forgetEvery ?? FORGET_EVERY;
    this.compactAfterEvents = options.compactAfterEvents ?? 100_000;
    this.compactHeap = options.compactHeap ?? compactHeap;
  }

  /** The consumers this process runs. */
  private readonly groups = new Set<string>();

  async lag(): Promise<{ group: string; events: number }[]> {
    const head = Number(await this.eventStore.headPosition());
    const checkpoints = this.readStore.collection<ConsumerCheckpoint>(CHECKPOINTS);
    return Promise.all([...this.groups].map(async (group) => ({ group, events: Math.max(0, head - ((await checkpoints.findOne({ _id: group }))?.position ?? 0)) })));
  }

  async consume(group: string, categories: readonly string[], handler: EventHandler): Promise<EventConsumer> {
    const checkpoints = this.readStore.collection<ConsumerCheckpoint>(CHECKPOINTS);
    this.groups.add(group);
    let subscription: Subscription | undefined;
    let retry: NodeJS.Timeout | undefined;
    let closed = false;
    let sinceForgetting = 0;
    // Until the consumer is closed, a failure (of the handler, or of the read store holding the checkpoint, even
    // while resuming) is followed by another try from the checkpoint.
    const retryLater = () => {
      if (!closed)
        retry = setTimeout(
          () =>
            void follow().catch((error: unknown) => {
              this.logger.warn('consumer could not resume; retrying', { consumer: group, error });
              retryLater();
            }),
          this.retryMs,
        );
    };
    const follow = async () => {
      const saved = await checkpoints.findOne({ _id: group });
      if (closed) return;
      const head = await this.eventStore.headPosition();
      if (BigInt(saved?.position ?? 0) > head) {
        // Its checkpoint has seen events the log lost; new events would take their positions and be skipped.
        closed = true;
        this.logger.error('consumer halted: its checkpoint is ahead of the event log (events were lost); reset it after checking what it acted on', { consumer: group, checkpoint: saved?.position, head });
        throw new ConsumerCheckpointAheadError(group, BigInt(saved!.position), head);
      }
      // A log that lost its last events gives their positions to new ones; then what an earlier run left (an
      // earlier version kept every entry) goes before the consumer goes on.
      await keepHandledWithin(this.readStore, group, head);
      if (saved) await forgetDelivered(this.readStore, group, BigInt(saved.position));
      /** The events handled since this start behind `head`, until the consumer reaches it. */
      let backlog: { head: bigint; events: number } | undefined = { head, events: 0 };
      const reached = (position: bigint) => {
        if (!backlog || position < backlog.head) return;
        if (this.compactAfterEvents > 0 && backlog.events >= this.compactAfterEvents) this.logger.info('heap compacted after a consumer caught up with the log', { consumer: group, events: backlog.events, ...this.compactHeap() });
        backlog = undefined;
      };
      subscription = this.eventStore.subscribeToAll(
        { after: BigInt(saved?.position ?? 0), filter: { categories } },
        {
          onEvent: async (event) => {
            await handler(event);
            await checkpoints.updateOne({ _id: group }, { $set: { position: Number(event.position) } }, { upsert: true });
            if (++sinceForgetting >= this.forgetEvery) {
              sinceForgetting = 0;
              await forgetDelivered(this.readStore, group, event.position);
            }
            if (backlog) backlog.events++;
            reached(event.position);
          },
          onCheckpoint: reached,
          onError: (error) => {
            this.logger.warn('consumer failed; retrying from its checkpoint', { consumer: group, error });
            void subscription?.close();
            retryLater();
          },
        },
      );
    };
    await follow();
    return {
      close: async () => {
        closed = true;
        this.groups.delete(group);
        clearTimeout(retry);
        await subscription?.close();
      },
    };
  }
}
