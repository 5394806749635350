import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';

/**
 * What the CRM hands the ERP, kept as events: one stream per CRM record (`erpout-customer.<id>`,
 * `erpout-order.<id>`), one `ErpMessagePublished` per message, each message id at most once. This log is the
 * outbound side's truth: Kafka gets it from here (and again on a replay), and without Kafka the ERP pulls it
 * (GET /api/v1/integrations/erp/outbound?after=<position>).
 */
export const erpOutCategory = 'erpout';
export const erpOutStream = (record: 'customer' | 'order', id: string): string => `${erpOutCategory}-${record}.${id}`;

export const ErpMessagePublished = z.object({
  /** The outbound topic: crm.erp.customer, crm.erp.order, crm.erp.payment. */
  topic: z.string(),
  /** The Kafka message key: the CRM record's id (one record's messages keep their order). */
  key: z.string(),
  messageId: z.string(),
  /** The message as its topic's schema says. */
  value: z.record(z.string(), z.unknown()),
});
export const erpOutboundEventSchemas = { ErpMessagePublished };
export type ErpOutboundEvent = EventsOf<typeof erpOutboundEventSchemas>;

export type ErpOutboundState = { sent: ReadonlySet<string> };
export type ErpOutboundCommand = { type: 'PublishErpMessage'; message: z.infer<typeof ErpMessagePublished> };

/** A message id already sent is not sent again: a redelivered input publishes nothing new. */
export const erpOutboundDecider = {
  initialState: { sent: new Set<string>() } as ErpOutboundState,
  evolve: (state: ErpOutboundState, event: ErpOutboundEvent): ErpOutboundState => ({ sent: new Set([...state.sent, event.data.messageId]) }),
  decide: (command: ErpOutboundCommand, state: ErpOutboundState): ErpOutboundEvent[] => (state.sent.has(command.message.messageId) ? [] : [{ type: 'ErpMessagePublished', data: command.message }]),
};
