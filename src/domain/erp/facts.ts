import { z } from 'zod';
import { Money } from '../shared/money.ts';
import type { EventsOf } from '../shared/decider.ts';

/**
 * Facts the ERP reports and the CRM only shows (a product's stock per warehouse, a customer's receivables): one
 * stream per thing reported, taking each newer version once. An older or repeated version changes nothing.
 */
export const erpFactCategory = 'erpfact';
export const inventoryStream = (productErpCode: string, warehouse: string): string => `${erpFactCategory}-inventory.${encodeURIComponent(productErpCode)}.${encodeURIComponent(warehouse)}`;
export const receivableStream = (customerErpCode: string): string => `${erpFactCategory}-receivable.${encodeURIComponent(customerErpCode)}`;

export const ErpInventoryReported = z.object({
  productErpCode: z.string(),
  warehouse: z.string(),
  erpVersion: z.number().int(),
  quantity: z.number(),
  available: z.number().optional(),
  asOf: z.string(),
});
export const ErpReceivableReported = z.object({ customerErpCode: z.string(), erpVersion: z.number().int(), balance: Money, overdue: Money.optional(), asOf: z.string() });
/** The ERP answered an order (erp.order-ack); `known`: the order exists in the CRM (an unknown one is for the reconciliation). */
export const ErpOrderAckReceived = z.object({
  erpDocumentNumber: z.string(),
  erpVersion: z.number().int(),
  orderId: z.string(),
  orderVersion: z.number().int(),
  status: z.enum(['accepted', 'rejected']),
  reason: z.string().optional(),
  at: z.string(),
  known: z.boolean(),
});
export const orderAckStream = (erpDocumentNumber: string): string => `${erpFactCategory}-orderack.${encodeURIComponent(erpDocumentNumber)}`;
export const erpFactEventSchemas = { ErpInventoryReported, ErpReceivableReported, ErpOrderAckReceived };
export type ErpFactEvent = EventsOf<typeof erpFactEventSchemas>;

export type ErpFactState = { erpVersion: number | null };
export type ErpFactCommand = { type: 'ReportErpFact'; event: ErpFactEvent };

export const erpFactDecider = {
  initialState: { erpVersion: null } as ErpFactState,
  evolve: (_state: ErpFactState, event: ErpFactEvent): ErpFactState => ({ erpVersion: event.data.erpVersion }),
  decide: (command: ErpFactCommand, state: ErpFactState): ErpFactEvent[] => (state.erpVersion !== null && command.event.data.erpVersion <= state.erpVersion ? [] : [command.event]),
};
