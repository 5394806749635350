import { Partitioners, type Message } from 'kafkajs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Logger } from '../../infra/logger.ts';
import { workerBootstrap } from '../../infra/threads.ts';
import { kafkaClient, type KafkaSettings } from './client.ts';

/** A batch of messages for several topics, as the relay sends it. */
export interface ProducerBatch {
  acks: number;
  topicMessages: { topic: string; messages: Message[] }[];
}

/** What the relay needs of a producer (a part of kafkajs's Producer, which is one). */
export interface BatchProducer {
  connect(): Promise<void>;
  sendBatch(batch: ProducerBatch): Promise<unknown>;
  disconnect(): Promise<void>;
}

/**
 * The relay's producer: idempotent, one request in flight (order per key holds), no topic created by accident,
 * Java's default partitioner (murmur2 of the key, so consumers in any language agree where a key lives), and
 * bounded retries (after a failed batch the relay starts a new producer and sends the batch again).
 */
export const relayProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: Partitioners.DefaultPartitioner,
  retry: { retries: 5 },
};

type Request = { id: number; op: 'connect' | 'disconnect' } | { id: number; op: 'sendBatch'; batch: ProducerBatch };
type LogLevel = 'debug' | 'info' | 'warn' | 'error';
type Reply = { ready: true } | { id: number; error?: { name: string; message: string } } | { log: { level: LogLevel; message: string; fields?: Record<string, unknown> } };

/**
 * The relay's producer in a worker thread of its own: encoding a batch (record batches, varints, CRC-32C, the
 * partitioner's hashes) and talking to the brokers is most of what publishing costs, and here it runs beside the
 * thread that serves requests and applies commands instead of on it. Each call is answered by the thread with
 * kafkajs's own outcome, so the relay's guarantees (the checkpoint moves only after Kafka acknowledged) are
 * unchanged. Where a thread cannot start or load (a runner that does not load TypeScript in threads), the
 * producer runs in process instead, as `inProcess` makes it.
 */
export class ThreadedProducer implements BatchProducer {
  private worker: Worker | undefined;
  private fallback: BatchProducer | undefined;
  private started: Promise<void> | undefined;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 0;

  constructor(
    private readonly settings: KafkaSettings,
    private readonly logger: Logger,
    private readonly inProcess: () => BatchProducer,
  ) {}

  /** Whether the producer runs in a thread of its own (false once it fell back to the process's thread). */
  get threaded(): boolean {
    return this.worker !== undefined;
  }

  async connect(): Promise<void> {
    await (this.started ??= this.start());
    if (this.fallback) return this.fallback.connect();
    return this.call({ id: this.nextId++, op: 'connect' });
  }

  async sendBatch(batch: ProducerBatch): Promise<void> {
    await (this.started ??= this.start());
    if (this.fallback) {
      await this.fallback.sendBatch(batch);
      return;
    }
    return this.call({ id: this.nextId++, op: 'sendBatch', batch });
  }

  async disconnect(): Promise<void> {
    if (this.fallback) return this.fallback.disconnect();
    const worker = this.worker;
    if (!worker) return;
    await this.call({ id: this.nextId++, op: 'disconnect' }).catch(() => {});
    this.worker = undefined;
    await worker.terminate();
  }

  /** Starts the thread; resolves once it has loaded kafkajs, or with the in-process producer where it could not. */
  private start(): Promise<void> {
    return new Promise((resolve) => {
      const instead = (reason: unknown) => {
        this.logger.warn('the Kafka producer thread could not start; publishing from the main thread', { error: reason instanceof Error ? reason.message : String(reason) });
        this.worker = undefined;
        this.fallback = this.inProcess();
        resolve();
      };
      let worker: Worker;
      try {
        worker = new Worker(workerBootstrap(import.meta.url), { eval: true, workerData: { kafkaProducer: true, settings: this.settings } });
      } catch (error) {
        instead(error);
        return;
      }
      // Never what keeps the process alive: the relay stops it, and a process that exits ends it.
      worker.unref();
      let ready = false;
      worker.on('message', (reply: Reply) => {
        if ('ready' in reply) {
          ready = true;
          this.worker = worker;
          resolve();
        } else if ('log' in reply) {
          this.logger[reply.log.level](reply.log.message, reply.log.fields);
        } else {
          const waiting = this.waiting.get(reply.id);
          this.waiting.delete(reply.id);
          if (reply.error) waiting?.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
          else waiting?.resolve();
        }
      });
      const ended = (reason: unknown) => {
        if (!ready) return instead(reason);
        if (this.worker === worker) this.worker = undefined;
        const error = new Error(`the Kafka producer thread ended: ${reason instanceof Error ? reason.message : String(reason)}`);
        for (const { reject } of this.waiting.values()) reject(error);
        this.waiting.clear();
      };
      // An uncaught error in the thread is followed by its exit: the exit settles, once, with that error as the reason.
      let failure: unknown;
      worker.once('error', (error) => (failure = error));
      worker.once('exit', (code) => ended(failure ?? `exit code ${code}`));
    });
  }

  private call(request: Request): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error('the Kafka producer thread is not running'));
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      worker.postMessage(request);
    });
  }
}

/** A log entry's fields as a thread can post them (plain data; anything else as text). */
function postable(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!fields) return undefined;
  try {
    return JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
  } catch {
    return { fields: String(fields) };
  }
}

/** The thread: one kafkajs producer, each request answered with its outcome, kafkajs's log lines sent to the main thread's logger. */
if (!isMainThread && parentPort && (workerData as { kafkaProducer?: unknown } | null)?.kafkaProducer === true) {
  const port = parentPort;
  const post = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => port.postMessage({ log: { level, message, fields: postable(fields) } } satisfies Reply);
  const logger: Logger = { debug: post('debug'), info: post('info'), warn: post('warn'), error: post('error'), child: () => logger };
  const producer = kafkaClient((workerData as { settings: KafkaSettings }).settings, logger).producer(relayProducerConfig);
  port.on('message', (request: Request) => {
    const outcome: Promise<unknown> = request.op === 'sendBatch' ? producer.sendBatch(request.batch) : request.op === 'connect' ? producer.connect() : producer.disconnect();
    outcome.then(
      () => port.postMessage({ id: request.id } satisfies Reply),
      (error: unknown) => port.postMessage({ id: request.id, error: { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) } } satisfies Reply),
    );
  });
  port.postMessage({ ready: true } satisfies Reply);
}
