import type { IHeaders, Kafka, KafkaMessage, Message } from 'kafkajs';
import type { CommandDeps } from '../../commands/context.ts';
import { DEFAULT_ERP_REFERENCE_WAIT_MS } from '../../infra/config.ts';
import { derivedIds } from '../../infra/ids.ts';
import type { Logger } from '../../infra/logger.ts';
import type { ReadStore } from '../../infra/readstore/port.ts';
import { groupLagByTopic } from '../kafka/lag.ts';
import { ensureNamedTopics, type TopicSettings } from '../kafka/topics.ts';
import { inboundTopics } from './contract.ts';
import { applyInbound, type InboundResult } from './inbound.ts';
import { DEFAULT_OWNER_MISSING, erpBridgeActor, REFERENCE_NOT_SYNCED } from './inbound-kinds.ts';
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

/** How often a wait (for a default owner, for a record a message names) is logged (the status route and /readyz show it all the time). */
const WAIT_LOG_EVERY_MS = 60_000;

/** The most a request to the dead-letter topic carries: well under the broker's default limit (1 MiB) per batch. */
const DLQ_REQUEST_BYTES = 256 * 1024;

/** `messages` in runs of at most about `bytes` each (a larger message alone), in order. */
export function bySize(messages: readonly Message[], bytes: number): Message[][] {
  const runs: Message[][] = [];
  let run: Message[] = [];
  let size = 0;
  for (const message of messages) {
    const length = String(message.value ?? '').length + String(message.key ?? '').length + JSON.stringify(message.headers ?? {}).length;
    if (run.length && size + length > bytes) {
      runs.push(run);
      run = [];
      size = 0;
    }
    run.push(message);
    size += length;
  }
  if (run.length) runs.push(run);
  return runs;
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

/** The inbound group's lag per topic, asked of the broker by an instance that does not run the group itself (an API instance). */
export async function inboundLagVia(kafka: Kafka, group = ERP_INBOUND_GROUP): Promise<Record<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await groupLagByTopic(admin, group, inboundTopics);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The inbound side over Kafka: the consumer group `erp-bridge-in` on the ERP's topics. Each message is applied as
 * `POST /api/v1/integrations/erp/inbound` applies it (idempotent by erpCode and erpVersion, so a redelivery changes
 * nothing); one that is rejected goes to `crm.erp.dlq` before its offset is committed. A failure of the stores is
 * retried (the message is delivered again after a pause), and nothing after it is committed first.
 *
 * The ERP's topics come in no order between them, so a contact may come before its customer. Such a message waits
 * (delivered again after a pause, like a store failure, its partition held) until the record it names is synced,
 * for at most `referenceWaitMs` from when this bridge first saw it; only then does it go to the dead-letter topic.
 */
export async function startErpInbound(
  kafka: Kafka,
  topicSettings: TopicSettings,
  services: ErpBridgeServices,
  group = ERP_INBOUND_GROUP,
  options: { referenceWaitMs?: number } = {},
): Promise<{ close(): Promise<void> }> {
  const referenceWaitMs = options.referenceWaitMs ?? DEFAULT_ERP_REFERENCE_WAIT_MS;
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
  /** When each kind of wait was last logged (by its log message): at most once a minute each. */
  const waitLoggedAt = new Map<string, number>();
  /** A message not at fault waits: its topic's status says why, and it is delivered again after a pause. */
  const waitFor = (topic: string, reason: string, log: string, fields: Record<string, unknown>): never => {
    const error = new Error(reason);
    erp.failed(topic, error);
    if (Date.now() - (waitLoggedAt.get(log) ?? -Infinity) >= WAIT_LOG_EVERY_MS) {
      waitLoggedAt.set(log, Date.now());
      logger.warn(log, fields);
    }
    throw error;
  };
  /** When this bridge first found each waiting message's reference missing (by topic, partition and offset). */
  const waitingSince = new Map<string, number>();
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
    if (result.status === 'rejected' && result.reason?.startsWith(`${DEFAULT_OWNER_MISSING}:`)) {
      // Not the message's fault: the bridge waits for its settings (the message comes again after a pause), so
      // that a sync started before the administrator set a default owner does not end in the dead-letter topic.
      waitFor(topic, result.reason, 'the ERP bridge waits for a default owner (PUT /api/v1/settings/erp); its messages will be delivered again', { topic, partition, offset: message.offset });
    }
    const id = `${topic}:${partition}:${message.offset}`;
    if (result.status === 'rejected' && result.reason?.startsWith(`${REFERENCE_NOT_SYNCED}:`)) {
      const since = waitingSince.get(id) ?? performance.now();
      waitingSince.set(id, since);
      const waited = performance.now() - since;
      if (waited < referenceWaitMs) waitFor(topic, result.reason, 'an ERP message waits for a record it names; it will be delivered again', { topic, partition, offset: message.offset, reason: result.reason, waitedMs: Math.round(waited) });
      result = { ...result, reason: `${result.reason} (waited ${Math.round(waited / 1000)} s for it)` };
    }
    waitingSince.delete(id);
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
            // A message that needs no I/O (a rejection, an unchanged version on the synchronous SQLite log) would
            // otherwise keep the event loop until the whole batch is done, and the leader's lease is renewed by a timer.
            await new Promise((resolve) => setImmediate(resolve));
          }
      };
      await Promise.all(Array.from({ length: Math.min(KEYS_AT_ONCE, queues.length) }, worker));
      for (const chunk of bySize(dead, DLQ_REQUEST_BYTES)) await producer.send({ topic: ERP_DLQ_TOPIC, messages: chunk });
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
