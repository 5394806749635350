import { parseArgs } from 'node:util';
import { openServices } from '../app/wiring.ts';
import { erpOutCategory } from '../domain/erp/outbound.ts';
import { loadConfig } from '../infra/config.ts';
import type { EventStore, RecordedEvent } from '../infra/eventstore/port.ts';
import { jsonLogger } from '../infra/logger.ts';
import { kafkaMessageOf } from '../integrations/erp/outbound.ts';

/** The outbound log from a position (inclusive) or from the first message recorded at or after an instant. */
export async function* outboundFrom(eventStore: EventStore, from: string, page = 1000): AsyncGenerator<RecordedEvent> {
  const byPosition = /^\d+$/.test(from);
  if (!byPosition && Number.isNaN(Date.parse(from))) throw new Error(`--from must be a log position (digits) or an ISO-8601 time, not ${from}`);
  let after = byPosition ? BigInt(from) - 1n : 0n;
  if (after < 0n) after = 0n;
  const since = byPosition ? undefined : new Date(from).toISOString();
  for (;;) {
    const events = await eventStore.readAll({ after, filter: { categories: [erpOutCategory] }, maxCount: page });
    for (const event of events) if (!since || event.metadata.at >= since) yield event;
    if (events.length < page) return;
    after = events[events.length - 1]!.position;
  }
}

/**
 * `npm run erp:replay -- --from <position|time> [--topic crm.erp.order]`: sends the outbound messages again, with
 * their own message ids (the ERP ignores those it has). With KAFKA_BROKERS to their topics; otherwise as JSON lines
 * on standard output (for an ERP fed by file).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { from: { type: 'string' }, topic: { type: 'string' } } });
  if (!values.from) throw new Error('Usage: npm run erp:replay -- --from <position|ISO time> [--topic crm.erp.customer|crm.erp.order|crm.erp.payment]');
  const config = loadConfig();
  // Its log goes to standard error: standard output carries the messages when there is no Kafka.
  const services = await openServices(config, { logger: jsonLogger(config.LOG_LEVEL, (line) => process.stderr.write(`${line}\n`)), startProjections: false, purpose: 'erp-replay' });
  const producer = services.kafka?.client.producer({ idempotent: true, maxInFlightRequests: 1 });
  let sent = 0;
  try {
    await producer?.connect();
    for await (const event of outboundFrom(services.eventStore, values.from)) {
      const { topic, message } = kafkaMessageOf(event);
      if (values.topic && topic !== values.topic) continue;
      if (producer) await producer.send({ topic, messages: [message] });
      else process.stdout.write(`${JSON.stringify({ position: event.position.toString(), topic, key: message.key, messageId: message.headers['message-id'], value: JSON.parse(message.value) as unknown })}\n`);
      sent++;
    }
  } finally {
    await producer?.disconnect();
    await services.close();
  }
  console.error(`re-sent ${sent} outbound messages from ${values.from}${producer ? ' to Kafka' : ''}`);
}

if (process.argv[1]?.endsWith('erp-replay.ts')) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
