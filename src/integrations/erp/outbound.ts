import type { Actor, CommandDeps, RequestMeta } from '../../commands/context.ts';
import { execute } from '../../commands/pipeline.ts';
import { customerDecider, type CustomerEvent, type CustomerState, customerStream } from '../../domain/customer/index.ts';
import { erpOutboundDecider, erpOutCategory, erpOutStream } from '../../domain/erp/outbound.ts';
import { orderDecider, type OrderEvent, type OrderState } from '../../domain/order/index.ts';
import { productDecider, productStream, type ProductState } from '../../domain/product/index.ts';
import { fold } from '../../domain/shared/decider.ts';
import { categoryOf, type EventStore, type RecordedEvent } from '../../infra/eventstore/port.ts';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../../infra/logger.ts';
import { EventLogSource } from '../event-log-source.ts';
import { ensureNamedTopics, type TopicSettings } from '../kafka/topics.ts';
import type { ErpBridgeStatus } from './status.ts';
import { derivedIds } from '../../infra/ids.ts';
import type { EventConsumer, EventSource } from '../event-source.ts';
import { onceByEventId } from '../once.ts';
import type { ReadStore } from '../../infra/readstore/port.ts';
import { erpContract } from './contract.ts';
import { erpBridgeActor } from './inbound-kinds.ts';

/** The consumer group that turns CRM events into messages for the ERP. */
export const ERP_OUTBOUND_GROUP = 'erp-bridge-out';

/** The customer fields the ERP keeps: a change of another field (its owner, its level) is no new version for the ERP. */
const ERP_CUSTOMER_FIELDS = ['name', 'shortName', 'taxNumber', 'address', 'phone'];

type Message = { topic: 'crm.erp.customer' | 'crm.erp.order' | 'crm.erp.payment'; key: string; messageId: string; value: Record<string, unknown> };

/** A record's state as it was at `revision` (the version a message describes), from its stream's events. */
const stateAt = <S>(decider: { initialState: S; evolve(state: S, event: never): S }, events: readonly RecordedEvent[], revision: bigint): S =>
  fold(decider as never, events.filter((event) => event.revision <= revision).map((event) => ({ type: event.type, data: event.data })) as never) as S;

/** The message of a customer version, checked against its schema (a message that breaks the contract is never sent). */
export function customerMessage(state: Extract<CustomerState, { customerId: string }>, version: bigint, at: string): Message {
  const fields = state.fields as Record<string, unknown>;
  const value = {
    messageId: `crm.erp.customer:${state.customerId}:v${version}`,
    version: Number(version),
    at,
    crmId: state.customerId,
    erpCode: state.erpCode,
    name: state.fields.name,
    ...Object.fromEntries(['shortName', 'taxNumber', 'address', 'phone'].filter((key) => fields[key] !== undefined).map((key) => [key, fields[key]])),
    status: state.status === 'archived' || (state.status === 'merged' && state.statusBeforeMerge === 'archived') ? 'archived' : 'active',
  };
  return { topic: 'crm.erp.customer', key: state.customerId, messageId: value.messageId, value: erpContract['crm.erp.customer'].schema.parse(value) as Record<string, unknown> };
}

const customerRef = (state: CustomerState, customerId: string) => ({ crmId: customerId, erpCode: state.status === 'none' ? null : state.erpCode, name: state.status === 'none' ? '' : state.fields.name });

/** Whether a customer event makes a version the ERP must have. */
function customerVersionChanges(event: RecordedEvent & CustomerEvent): boolean {
  switch (event.type) {
    case 'CustomerRegistered':
    case 'CustomerReinstated':
    case 'CustomerArchived':
    case 'CustomerRestored':
    case 'CustomerErpLinked':
      return true;
    case 'CustomerChanged':
      return Object.keys(event.data.changes).some((key) => ERP_CUSTOMER_FIELDS.includes(key));
    default:
      return false;
  }
}

/**
 * The messages one CRM event makes for the ERP (none for most): a customer's new version; a confirmed order, with
 * its lines, tax and the customer's ERP code; a payment as a receipt.
 */
export async function messagesFor(deps: CommandDeps, delivered: RecordedEvent): Promise<Message[]> {
  const category = categoryOf(delivered.streamId);
  if (category !== 'customer' && category !== 'order') return [];
  // The event as the store has it (what Kafka delivers has its personal data sealed), with the stream it is part of.
  const events = await deps.eventStore.readStream(delivered.streamId);
  const event = events.find((candidate) => candidate.revision === delivered.revision);
  if (!event) return [];
  if (category === 'customer') {
    if (!customerVersionChanges(event as RecordedEvent & CustomerEvent)) return [];
    const state = stateAt(customerDecider, events, event.revision);
    return state.status === 'none' ? [] : [customerMessage(state, event.revision, event.metadata.at)];
  }
  const orderEvent = event as RecordedEvent & OrderEvent;
  if (orderEvent.type !== 'OrderConfirmed' && orderEvent.type !== 'PaymentReceived' && orderEvent.type !== 'OrderCancelled') return [];
  const order = stateAt<OrderState>(orderDecider, events, event.revision);
  if (order.status === 'none') return [];
  const customerOf = async () => fold(customerDecider, (await deps.eventStore.readStream(customerStream(order.customerId))) as never) as CustomerState;
  if (orderEvent.type === 'PaymentReceived') {
    const customer = await customerOf();
    const { paymentId, amount, currency, receivedAt, method } = orderEvent.data;
    const value = { messageId: `crm.erp.payment:${paymentId}`, version: Number(event.revision), at: event.metadata.at, paymentId, orderId: order.orderId, orderNumber: order.number, customer: customerRef(customer, order.customerId), amount: { amount, currency }, receivedAt, method };
    return [{ topic: 'crm.erp.payment', key: order.orderId, messageId: value.messageId, value: erpContract['crm.erp.payment'].schema.parse(value) as Record<string, unknown> }];
  }
  // The confirmation (this event, or the one before a cancellation): a draft cancelled was never the ERP's.
  const confirmation = events.find((candidate): candidate is RecordedEvent & Extract<OrderEvent, { type: 'OrderConfirmed' }> => candidate.type === 'OrderConfirmed' && candidate.revision <= event.revision);
  if (!confirmation) return [];
  const customer = await customerOf();
  const lines = [];
  for (const [index, line] of order.lines.entries()) {
    const product = fold(productDecider, (await deps.eventStore.readStream(productStream(line.productId))) as never) as ProductState;
    lines.push({
      lineNo: index + 1,
      productId: line.productId,
      productCode: product.status === 'none' ? line.productId.slice(0, 40) : product.fields.code,
      productErpCode: product.status === 'none' ? null : (product.erpCode ?? null),
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      discountPercent: line.discountPercent,
      taxRate: line.taxRate,
      net: line.net,
      tax: line.tax,
      total: line.total,
    });
  }
  const value = {
    messageId: `crm.erp.order:${order.orderId}:v${event.revision}`,
    version: Number(event.revision),
    at: event.metadata.at,
    orderId: order.orderId,
    number: order.number,
    customer: customerRef(customer, order.customerId),
    currency: order.currency,
    status: orderEvent.type === 'OrderCancelled' ? 'cancelled' : 'confirmed',
    ...(orderEvent.type === 'OrderCancelled' ? { cancelReason: orderEvent.data.reason } : {}),
    confirmedOn: confirmation.data.confirmedOn,
    dueDate: confirmation.data.dueDate,
    lines,
    totals: order.totals,
  };
  return [{ topic: 'crm.erp.order', key: order.orderId, messageId: value.messageId, value: erpContract['crm.erp.order'].schema.parse(value) as Record<string, unknown> }];
}

const recordOf = (message: Message): ['customer' | 'order', string] => (message.topic === 'crm.erp.customer' ? ['customer', message.key] : ['order', message.key]);

/** Records a message in the outbound log, once per message id. */
async function publish(deps: CommandDeps, message: Message, actor: Actor, meta: RequestMeta): Promise<void> {
  const [record, id] = recordOf(message);
  await execute(deps, erpOutboundDecider, erpOutStream(record, id), { type: 'PublishErpMessage', message }, actor, { ...meta, requestId: `${meta.requestId}/${message.messageId}` });
}

/** Whether the ERP has been sent any version of the customer. */
async function customerSent(deps: CommandDeps, customerId: string): Promise<boolean> {
  return (await deps.eventStore.readStream(erpOutStream('customer', customerId), { maxCount: 1 })).length > 0;
}

/**
 * Handles one CRM event for the ERP: its messages recorded in the outbound log (a redelivered event records nothing
 * new). An order's customer is sent first if the ERP has never had it, so the ERP knows the customer of every order.
 */
export async function sendToErp(deps: CommandDeps, event: RecordedEvent): Promise<number> {
  const messages = await messagesFor(deps, event);
  const meta: RequestMeta = { correlationId: event.metadata.correlationId, requestId: `erp-out:${event.id}`, ids: derivedIds(`erp-out:${event.id}`) };
  let sent = 0;
  for (const message of messages) {
    if (message.topic !== 'crm.erp.customer') {
      const customerId = (message.value.customer as { crmId: string }).crmId;
      if (!(await customerSent(deps, customerId))) {
        const customerEvents = await deps.eventStore.readStream(customerStream(customerId));
        const state = fold(customerDecider, customerEvents as never) as CustomerState;
        const last = customerEvents[customerEvents.length - 1];
        if (state.status !== 'none' && last) await publish(deps, customerMessage(state, last.revision, last.metadata.at), erpBridgeActor, meta);
      }
    }
    await publish(deps, message, erpBridgeActor, meta);
    sent++;
  }
  return sent;
}

/** The outbound side: the group `erp-bridge-out` on the customers and orders (Kafka topics, or the event log embedded). */
export function startErpOutbound(services: { deps: CommandDeps; eventSource: EventSource; integrationStore: ReadStore }, group = ERP_OUTBOUND_GROUP): Promise<EventConsumer> {
  return services.eventSource.consume(
    group,
    ['customer', 'order'],
    onceByEventId(services.integrationStore, group, async (event) => {
      await sendToErp(services.deps, event);
    }),
  );
}

/** The checkpointed follower that hands the outbound log to Kafka. */
export const ERP_PUBLISHER = 'erp-bridge-publisher';

/** An outbound log event as the Kafka message the ERP reads: its topic, key (the CRM record), value, and message id. */
export function kafkaMessageOf(event: RecordedEvent): { topic: string; message: { key: string; value: string; headers: Record<string, string> } } {
  const { topic, key, messageId, value } = event.data as { topic: string; key: string; messageId: string; value: Record<string, unknown> };
  return { topic, message: { key, value: JSON.stringify(value), headers: { 'message-id': messageId, 'content-type': 'application/json', 'global-position': event.position.toString() } } };
}

/**
 * In production, the outbound log goes to the crm.erp.* topics: a follower of the log's `erpout` events (its place
 * kept like any consumer's checkpoint) produces each; a crash between a send and its checkpoint sends it again, with
 * the same message id, which the ERP ignores.
 */
export async function startErpPublisher(kafka: Kafka, topicSettings: TopicSettings, services: { eventStore: EventStore; integrationStore: ReadStore; logger: Logger; erp: ErpBridgeStatus }): Promise<EventConsumer> {
  await ensureNamedTopics(kafka, OUTBOUND_TOPICS, topicSettings, services.logger);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const source = new EventLogSource(services.eventStore, services.integrationStore, services.logger);
  try {
    const consumer = await source.consume(ERP_PUBLISHER, [erpOutCategory], async (event) => {
      const { topic, message } = kafkaMessageOf(event);
      try {
        await producer.send({ topic, messages: [message] });
      } catch (error) {
        services.erp.failed(topic, error);
        throw error;
      }
      services.erp.handled(topic, { status: 'published' });
    });
    return {
      async close() {
        await consumer.close();
        await producer.disconnect();
      },
    };
  } catch (error) {
    await producer.disconnect();
    throw error;
  }
}

export const OUTBOUND_TOPICS = ['crm.erp.customer', 'crm.erp.order', 'crm.erp.payment'] as const;
