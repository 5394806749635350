import { type Fence, FencedError, fencedFilter, fenceField, fencedWrite } from '../../infra/readstore/fencing.ts';
import type { Kafka, Message } from 'kafkajs';
import { categoryOf, type EventStore, type RecordedEvent, type Subscription } from '../../infra/eventstore/port.ts';
import type { Logger } from '../../infra/logger.ts';
import { type Doc, type ReadStore, ReadStoreUnavailableError } from '../../infra/readstore/port.ts';
import { PUBLISHED_CATEGORIES, toMessage, topicFor } from './messages.ts';
import { type BatchProducer, relayProducerConfig } from './producer-thread.ts';
import { ensureTopics, type TopicSettings } from './topics.ts';

export interface RelayOptions extends TopicSettings {
  /** Events read and sent per batch. */
  batchSize?: number;
  /** Longest wait for new events when the log is idle (appends in this process wake it at once). */
  idleMs?: number;
  /**
   * Makes the producer a batch is sent with (a new one after a failure): by default kafkajs's, in process, with
   * `relayProducerConfig`; the service's is a `ThreadedProducer` with the same settings.
   */
  createProducer?: () => BatchProducer;
}

export interface RelayStatus {
  /** Global position up to which every published event has been acknowledged by Kafka. */
  position: bigint;
  /** When the batch now being sent was first tried, if that was more than a moment ago (ISO-8601). */
  waitingSince?: string;
  /** Events published since this process started. */
  published: number;
  /** Set while the relay cannot reach Kafka; cleared by the next successful batch. */
  lastError?: string;
  /**
   * Set when the relay refused to start: its checkpoint is past the log's head, so the log lost events Kafka
   * already has. It publishes nothing until an operator has looked (see the README, "Checkpoints ahead of the log").
   */
  halted?: string;
}

type RelayCheckpoint = Doc & { position: number; fence?: number };
const CHECKPOINTS = '_relay';
const CHECKPOINT_ID = 'kafka';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes the event log to Kafka: topic `crm.<category>`, key = stream id, value = the event as JSON, headers
 * with event type, event id, global position and correlation id. It reads the log in order from a durable
 * checkpoint, sends a batch with the idempotent producer (acks from all in-sync replicas, one request in
 * flight, so order per key holds), and moves the checkpoint only after Kafka acknowledged the batch. If
 * Kafka is unreachable it keeps retrying the same batch with backoff, so nothing is skipped; after a crash it
 * re-sends from the checkpoint (at least once: consumers deduplicate by event id).
 */
export class KafkaRelay {
  private position = 0n;
  /** The position last written to the checkpoint (behind `position` while the read store cannot be reached). */
  private saved = 0n;
  private published = 0;
  private lastError: string | undefined;
  private sendingSince: number | undefined;
  private stopped = false;
  private producer: BatchProducer | undefined;
  private topicsReady = false;
  private loop: Promise<void> | undefined;
  private halted: string | undefined;
  private doorbell: Subscription | undefined;
  private ring: () => void = () => {};

  constructor(
    private readonly kafka: Kafka,
    private readonly eventStore: EventStore,
    private readonly readStore: ReadStore,
    private readonly logger: Logger,
    private readonly options: RelayOptions,
  ) {}

  private checkpoints() {
    return this.readStore.collection<RelayCheckpoint>(CHECKPOINTS);
  }

  /** The lease a leader-elected worker's relay is fenced by: nothing is published or saved past it. */
  private fence: Fence | undefined;
  fenceWith(fence: Fence): void {
    this.fence = fence;
  }

  async start(): Promise<void> {
    const saved = await this.checkpoints().findOne({ _id: CHECKPOINT_ID });
    this.position = BigInt(saved?.position ?? 0);
    this.saved = this.position;
    const head = await this.eventStore.headPosition();
    if (this.position > head) {
      // New events would take positions Kafka has already seen and be skipped; consumers may hold events the log
      // lost. Never guess: stop and say so.
      this.halted = `the relay's checkpoint (${this.position}) is ahead of the event log's head (${head}): the log lost events that Kafka already has; publishing is halted until an operator resets the checkpoint`;
      this.logger.error('kafka relay halted: checkpoint ahead of the event log', { checkpoint: this.position, head });
      return;
    }
    await this.ringOnAppends();
    this.loop = this.run();
  }

  /**
   * Wakes the loop when a published event is appended (the loop also looks every `idleMs`). A doorbell the event
   * store drops (a server restart) is put back after a pause; meanwhile the loop polls.
   */
  private async ringOnAppends(): Promise<void> {
    // A store that rings without reading the events spares each one a second read and decoding (the loop reads
    // them anyway); it rings for any append, so the loop may find nothing to publish, which costs one query.
    if (this.eventStore.watchAppends) {
      this.doorbell = this.eventStore.watchAppends(() => this.ring());
      return;
    }
    this.doorbell = this.eventStore.subscribeToAll(
      { after: await this.eventStore.headPosition(), filter: { categories: PUBLISHED_CATEGORIES } },
      {
        onEvent: () => this.ring(),
        onError: (error) => {
          this.logger.warn('kafka relay: the event store dropped its subscription; polling until it is back', { error });
          void this.doorbell?.close().catch(() => {});
          this.doorbellLater();
        },
      },
    );
  }

  private doorbellLater(): void {
    setTimeout(() => {
      if (!this.stopped) this.ringOnAppends().catch(() => this.doorbellLater());
    }, this.options.idleMs ?? 1000).unref();
  }

  status(): RelayStatus {
    const waiting = this.sendingSince !== undefined && Date.now() - this.sendingSince > 2000;
    return {
      position: this.position,
      published: this.published,
      ...(this.halted ? { halted: this.halted } : {}),
      ...(waiting ? { waitingSince: new Date(this.sendingSince!).toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private async run(): Promise<void> {
    let backoffMs = 250;
    while (!this.stopped) {
      try {
        const batchSize = this.options.batchSize ?? 500;
        const head = await this.eventStore.headPosition();
        const events = await this.eventStore.readAll({ after: this.position, filter: { categories: PUBLISHED_CATEGORIES }, maxCount: batchSize });
        // A short batch holds every published event up to the head read before it: the checkpoint may move there.
        const reached = events.length < batchSize && head > (events[events.length - 1]?.position ?? 0n) ? head : events[events.length - 1]?.position;
        if (events.length) {
          if (this.fence && !this.fence.valid()) throw new FencedError('publishing');
          this.sendingSince ??= Date.now();
          await this.send(events);
          this.sendingSince = undefined;
          this.published += events.length;
        }
        if (reached !== undefined && reached > this.position) this.position = reached;
        if (this.position > this.saved) {
          const position = this.position;
          await fencedWrite(this.fence, 'the relay checkpoint', () =>
            this.checkpoints().updateOne(fencedFilter(CHECKPOINT_ID, this.fence), { $set: { position: Number(position), ...fenceField(this.fence) } }, { upsert: true }),
          );
          this.saved = position;
        }
        if (this.lastError) this.logger.info('relay going on again', { position: this.position });
        this.lastError = undefined;
        backoffMs = 250;
        if (events.length === 0) await this.idle();
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof FencedError) {
          // Deposed: the new leader's relay publishes from the checkpoint it finds (consumers deduplicate by event id).
          this.logger.warn('kafka relay stops: another worker leads', { error: error.message });
          break;
        }
        // The read store holds the checkpoint: when it is away, Kafka is not to blame and the producer is kept.
        const checkpoint = error instanceof ReadStoreUnavailableError;
        if (!this.lastError) this.logger.warn(checkpoint ? 'cannot save the relay checkpoint; retrying' : 'cannot publish to Kafka; retrying the same events', { position: this.position, error });
        this.lastError = error instanceof Error ? error.message : String(error);
        if (!checkpoint) await this.dropProducer();
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  private async idle(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.options.idleMs ?? 1000);
      this.ring = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.ring = () => {};
  }

  private async send(events: RecordedEvent[]): Promise<void> {
    const producer = await this.connectedProducer();
    const byTopic = new Map<string, Message[]>();
    for (const event of events) {
      const topic = topicFor(categoryOf(event.streamId));
      let messages = byTopic.get(topic);
      if (!messages) byTopic.set(topic, (messages = []));
      messages.push(toMessage(event));
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  }

  private async connectedProducer(): Promise<BatchProducer> {
    if (!this.topicsReady) {
      await ensureTopics(this.kafka, this.options, this.logger);
      this.topicsReady = true;
    }
    if (!this.producer) {
      const producer = this.options.createProducer?.() ?? this.kafka.producer(relayProducerConfig);
      try {
        await producer.connect();
      } catch (error) {
        await producer.disconnect().catch(() => {});
        throw error;
      }
      this.producer = producer;
    }
    return this.producer;
  }

  /** After a failure: a new producer (with a new producer id) for the retry. */
  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ring();
    await this.doorbell?.close();
    await this.dropProducer();
    await this.loop;
  }
}
