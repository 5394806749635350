import type { IHeaders, Kafka, KafkaMessage, Message } from 'kafkajs';
import type { CommandDeps } from '../../commands/context.ts';
import { derivedIds } from '../../infra/ids.ts';
import type { Logger } from '../../infra/logger.ts';
import type { ReadStore } from '../../infra/readstore/port.ts';
import { groupLagByTopic } from '../kafka/lag.ts';
import { ensureNamedTopics, type TopicSettings } from '../kafka/topics.ts';
import { inboundTopics } from './contract.ts';
import { applyInbound, type InboundResult } from './inbound.ts';
import { erpBridgeActor } from './inbound-kinds.ts';
import { erpSettings } from './settings.ts';
import type { ErpBridgeStatus } from './status.ts';

/** How many keys of one fetched batch are applied at once (their appends share SQLite commits). */
const KEYS_AT_ONCE = 16;

/** The consumer group that reads the ERP's topics. */
export const ERP_INBOUND_GROUP = 'erp-bridge-in';
/** Where a message that fails its schema or its mapping goes, with the reason: the bridge goes on with the next. */
export const ERP_DLQ_TOPIC = 'crm.erp.dlq';

export interface ErpBridgeServices {
  deps: CommandDeps;
  readStore: ReadStore;
  logger: Logger;
  erp: ErpBridgeStatus;
}

/** A dead letter: the original message as it came (value, key, headers) and why it was not taken. */
export function deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string, at: string): Message {
  const id = `${topic}:${partition}:${message.offset}`;
  const value = { id, topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null, value: message.value?.toString('utf8') ?? null, reason, at };
  const headers: IHeaders = { ...(message.headers ?? {}), 'dlq-id': id, 'dlq-reason': reason.slice(0, 1000), 'dlq-original-topic': topic };
  return { key: message.key ?? id, value: JSON.stringify(value), headers };
}

/** A message's value as JSON, or why it is not. */
function parsed(message: KafkaMessage): { value: unknown } | { reason: string } {
  if (!message.value) return { reason: 'The message has no value' };
  try {
    return { value: JSON.parse(message.value.toString('utf8')) as unknown };
  } catch {
    return { reason: 'The message value is not JSON' };
  }
}

/**
 * The inbound side over Kafka: the consumer group `erp-bridge-in` on the ERP's topics. Each message is applied as
 * `POST /api/v1/integrations/erp/inbound` applies it (idempotent by erpCode and erpVersion, so a redelivery changes
 * nothing); one that is rejected goes to `crm.erp.dlq` before its offset is committed. A failure of the stores is
 * retried (the message is delivered again after a pause), and nothing after it is committed first.
 */
export async function startErpInbound(kafka: Kafka, topicSettings: TopicSettings, services: ErpBridgeServices, group = ERP_INBOUND_GROUP): Promise<{ close(): Promise<void> }> {
  const { deps, readStore, logger, erp } = services;
  await ensureNamedTopics(kafka, [...inboundTopics, ERP_DLQ_TOPIC], topicSettings, logger);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: group, allowAutoTopicCreation: false, maxWaitTimeInMs: 1000, sessionTimeout: 10_000, rebalanceTimeout: 20_000, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5000 } });
  const admin = kafka.admin();
  try {
    await consumer.connect();
    await admin.connect();
    await consumer.subscribe({ topics: [...inboundTopics], fromBeginning: true });
  } catch (error) {
    await Promise.allSettled([producer.disconnect(), consumer.disconnect(), admin.disconnect()]);
    throw error;
  }
  erp.lagOf = async () => groupLagByTopic(admin, group, inboundTopics);
  /** One message: applied, its outcome counted; a rejected one's dead letter returned. A store failure is thrown. */
  const handle = async (topic: string, partition: number, message: KafkaMessage): Promise<Message | undefined> => {
    const input = parsed(message);
    let result: InboundResult;
    if ('reason' in input) result = { status: 'rejected', reason: input.reason };
    else {
      try {
        const { value: settings } = await erpSettings(deps);
        const correlationId = `erp:${topic}:${partition}:${message.offset}`;
        result = await applyInbound({ deps, readStore, actor: erpBridgeActor, meta: { correlationId, requestId: correlationId, ids: derivedIds(correlationId) }, defaultOwnerId: settings.defaultOwnerId }, topic, input.value);
      } catch (error) {
        erp.failed(topic, error);
        logger.warn('an ERP message could not be applied; it will be delivered again', { topic, partition, offset: message.offset, error });
        throw error;
      }
    }
    erp.handled(topic, result);
    if (result.status !== 'rejected') return undefined;
    logger.warn('an ERP message was rejected; it goes to the dead-letter topic', { topic, partition, offset: message.offset, reason: result.reason });
    return deadLetter(topic, partition, message, result.reason ?? 'rejected', deps.clock.now().toISOString());
  };
  await consumer.run({
    // Partitions are independent, and so are the keys within one (an ERP record's messages share its key): a
    // fetched batch is applied key by key in parallel, each key's messages in order. Its offsets are committed
    // only once all of it is applied and its dead letters are sent; a failure delivers the batch again.
    partitionsConsumedConcurrently: 4,
    eachBatchAutoResolve: false,
    autoCommit: true,
    autoCommitInterval: 1000,
    autoCommitThreshold: 100,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const byKey = new Map<string, KafkaMessage[]>();
      for (const message of batch.messages) {
        const key = message.key?.toString('utf8') ?? `offset:${message.offset}`;
        byKey.set(key, [...(byKey.get(key) ?? []), message]);
      }
      const dead: Message[] = [];
      const queues = [...byKey.values()];
      const worker = async () => {
        for (let queue = queues.shift(); queue; queue = queues.shift())
          for (const message of queue) {
            const letter = await handle(batch.topic, batch.partition, message);
            if (letter) dead.push(letter);
            await heartbeat();
          }
      };
      await Promise.all(Array.from({ length: Math.min(KEYS_AT_ONCE, queues.length) }, worker));
      if (dead.length) await producer.send({ topic: ERP_DLQ_TOPIC, messages: dead });
      if (batch.messages.length) resolveOffset(batch.lastOffset());
      await heartbeat();
    },
  });
  return {
    async close() {
      erp.lagOf = undefined;
      await consumer.disconnect();
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    },
  };
}
