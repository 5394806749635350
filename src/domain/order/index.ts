import { formatNumber } from '../shared/document-number.ts';
import type { Money } from '../shared/money.ts';
import { askGate, decideGate, type Gate, gateDecided, type GateDecided, gateOpen, gateRequested, type GateRequested } from '../approval/gate.ts';
import { DomainError } from '../shared/errors.ts';
import type { PricedLine, Totals } from '../shared/totals.ts';

/**
 * A sales order (订单): numbered SO-<year>-<6 digits>, priced lines, payment terms. Shipments never exceed what
 * was ordered per line; payments never exceed the total. Receivable = total − paid, due `paymentTermsDays`
 * after confirmation. Fully shipped and fully paid → completed.
 */
export type OrderStatus = 'draft' | 'confirmed' | 'partially_shipped' | 'shipped' | 'completed' | 'cancelled';

export type OrderEvent =
  | { type: 'OrderCreated'; data: { orderId: string; number: string; customerId: string; quoteId?: string; ownerId: string; currency: string; lines: PricedLine[]; totals: Totals; paymentTermsDays: number; custom?: Record<string, unknown> } }
  | { type: 'OrderConfirmed'; data: { orderId: string; confirmedOn: string; dueDate: string } }
  | { type: 'OrderShipped'; data: { orderId: string; shipmentId: string; shippedAt: string; lines: { lineId: string; quantity: number }[] } }
  | { type: 'PaymentReceived'; data: { orderId: string; paymentId: string; amount: number; currency: string; receivedAt: string; method: string } }
  | { type: 'OrderCompleted'; data: { orderId: string } }
  | { type: 'OrderCancelled'; data: { orderId: string; reason: string } }
  | { type: 'OrderOwnerChanged'; data: { orderId: string; fromOwnerId: string; ownerId: string } }
  /** Its customer was merged into another one: the order moved with it. */
  | { type: 'OrderMoved'; data: { orderId: string; fromCustomerId: string; customerId: string } }
  /** The number this order had taken went to another order, because this one was never written in time. */
  | { type: 'OrderNumberWithdrawn'; data: { orderId: string; number: string } }
  | { type: 'OrderApprovalRequested'; data: GateRequested }
  | { type: 'OrderApprovalDecided'; data: GateDecided }
  /** The ERP answered the order it was sent (erp.order-ack): accepted as its document `erpDocumentNumber`, or rejected. */
  | { type: 'OrderErpAcknowledged'; data: ErpAcknowledgement & { orderId: string } };

export type ErpAcknowledgement = { erpDocumentNumber: string; erpVersion: number; orderVersion: number; status: 'accepted' | 'rejected'; reason?: string; at: string };

export type OrderState =
  /** Not created; `withdrawn` lists numbers it had taken that went to other orders. */
  | { status: 'none'; withdrawn?: string[] }
  | {
      status: OrderStatus;
      orderId: string;
      number: string;
      customerId: string;
      ownerId: string;
      currency: string;
      lines: PricedLine[];
      totals: Totals;
      paymentTermsDays: number;
      /** Shipped quantity per line, in thousandths (exact). */
      shipped: Record<string, number>;
      paid: number;
      /** The custom field values it was created with. */
      custom?: Record<string, unknown>;
      dueDate?: string;
      /** The approval a confirmation over the customer's credit asked for. */
      approval?: Gate;
      /** The ERP's last answer to it. */
      erpAcknowledgement?: ErpAcknowledgement;
    };

/** What confirming an order over its customer's credit limit (信用额度) answers: the figures. */
export type CreditCheck = { creditLimit: Money; openReceivables: Money; orderAmount: Money };
/** Whether the order's amount plus the customer's open receivables exceeds the limit (a limit in another currency is not compared). */
export const overCredit = (check: CreditCheck | null | undefined): check is CreditCheck =>
  !!check && check.creditLimit.currency === check.orderAmount.currency && check.openReceivables.amount + check.orderAmount.amount > check.creditLimit.amount;
/** An order's content never changes once made: its approval is bound to this version. */
export const ORDER_VERSION = 1;

export type OrderCommand =
  | { type: 'CreateOrder'; orderId: string; number: string; customerId: string; quoteId?: string; ownerId: string; currency: string; lines: PricedLine[]; totals: Totals; paymentTermsDays: number; custom?: Record<string, unknown> }
  /** `credit`: the customer's limit and open receivables, when it has a limit. */
  | { type: 'ConfirmOrder'; orderId: string; today: string; credit?: CreditCheck | null }
  | { type: 'RequestOrderApproval'; orderId: string; credit: CreditCheck | null; request: Omit<GateRequested, 'supersedes' | 'documentVersion'> }
  | { type: 'ApplyApprovalOutcome'; orderId: string; approvalId: string; outcome: 'approved' | 'rejected' }
  | { type: 'ShipOrder'; orderId: string; shipmentId: string; shippedAt: string; lines: { lineId: string; quantity: number }[] }
  | { type: 'ReceivePayment'; orderId: string; paymentId: string; amount: number; currency: string; receivedAt: string; method: string }
  | { type: 'CancelOrder'; orderId: string; reason: string }
  | { type: 'ChangeOrderOwner'; orderId: string; ownerId: string }
  | { type: 'WithdrawOrderNumber'; orderId: string; number: string }
  | { type: 'RecordErpAcknowledgement'; orderId: string; acknowledgement: ErpAcknowledgement };

export const initialState: OrderState = { status: 'none' };
const thousandths = (quantity: number) => Math.round(quantity * 1000);

function fullyShipped(state: Extract<OrderState, { orderId: string }>, shipped: Record<string, number>): boolean {
  return state.lines.every((line) => (shipped[line.id] ?? 0) >= thousandths(line.quantity));
}

export function evolve(state: OrderState, event: OrderEvent): OrderState {
  if (event.type === 'OrderCreated') {
    const { quoteId: _q, ...data } = event.data;
    return { status: 'draft', ...data, shipped: {}, paid: 0 };
  }
  if (event.type === 'OrderNumberWithdrawn')
    return state.status === 'none' ? { status: 'none', withdrawn: [...(state.withdrawn ?? []), event.data.number] } : state;
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'OrderConfirmed':
      return { ...state, status: 'confirmed', dueDate: event.data.dueDate };
    case 'OrderShipped': {
      const shipped = { ...state.shipped };
      for (const line of event.data.lines) shipped[line.lineId] = (shipped[line.lineId] ?? 0) + thousandths(line.quantity);
      return { ...state, shipped, status: fullyShipped(state, shipped) ? 'shipped' : 'partially_shipped' };
    }
    case 'PaymentReceived':
      return { ...state, paid: state.paid + event.data.amount };
    case 'OrderErpAcknowledged': {
      const { orderId: _id, ...acknowledgement } = event.data;
      return { ...state, erpAcknowledgement: acknowledgement };
    }
    case 'OrderCompleted':
      return { ...state, status: 'completed' };
    case 'OrderCancelled':
      return { ...state, status: 'cancelled' };
    case 'OrderOwnerChanged':
      return { ...state, ownerId: event.data.ownerId };
    case 'OrderMoved':
      return { ...state, customerId: event.data.customerId };
    case 'OrderApprovalRequested':
      return { ...state, approval: gateRequested(event.data) };
    case 'OrderApprovalDecided':
      return { ...state, approval: gateDecided(state.approval ?? null, event.data) };
  }
}

const addDays = (date: string, days: number) => new Date(new Date(`${date}T00:00:00Z`).getTime() + days * 86_400_000).toISOString().slice(0, 10);

export function decide(command: OrderCommand, state: OrderState): OrderEvent[] {
  if (command.type === 'CreateOrder') {
    if (state.status !== 'none') throw new DomainError('order.already_exists', `Order ${command.orderId} already exists`);
    if (state.withdrawn?.includes(command.number))
      throw new DomainError('order.number_withdrawn', `Order number ${command.number} went to another order; take a new one`, { number: command.number });
    if (command.lines.length === 0) throw new DomainError('order.no_lines', 'An order needs at least one line');
    const { type: _t, custom, quoteId, ...data } = command;
    return [{ type: 'OrderCreated', data: { ...data, ...(quoteId ? { quoteId } : {}), ...(custom ? { custom } : {}) } }];
  }
  if (command.type === 'WithdrawOrderNumber') {
    if (state.status !== 'none') throw new DomainError('order.already_exists', `Order ${command.orderId} already exists`);
    return [{ type: 'OrderNumberWithdrawn', data: { orderId: command.orderId, number: command.number } }];
  }
  if (state.status === 'none') throw new DomainError('order.not_found', `Order ${command.orderId} does not exist`, { orderId: command.orderId });
  const { orderId } = state;
  const completes = (next: OrderState): OrderEvent[] =>
    next.status !== 'none' && (next.status === 'shipped' || fullyShipped(state, next.shipped)) && next.paid >= next.totals.total ? [{ type: 'OrderCompleted', data: { orderId } }] : [];
  switch (command.type) {
    case 'ConfirmOrder':
      if (state.status !== 'draft') throw new DomainError('order.not_draft', `Only a draft order can be confirmed; this one is ${state.status}`, { orderId });
      if (overCredit(command.credit) && !gateOpen(state.approval ?? null, ORDER_VERSION)) {
        const { creditLimit, openReceivables, orderAmount } = command.credit;
        const money = (m: Money) => `${(m.amount / 100).toFixed(2)} ${m.currency}`;
        throw new DomainError('order.credit_exceeded', `The order (${money(orderAmount)}) plus the customer's open receivables (${money(openReceivables)}) exceed its credit limit (${money(creditLimit)}) by ${money({ amount: openReceivables.amount + orderAmount.amount - creditLimit.amount, currency: creditLimit.currency })}: it is confirmed once approved${state.approval ? ` (approval ${state.approval.approvalId} is ${state.approval.status})` : ' (POST /api/v1/orders/:id/request-approval)'}`, {
          orderId,
          creditLimit,
          openReceivables,
          orderAmount,
          exceededBy: { amount: openReceivables.amount + orderAmount.amount - creditLimit.amount, currency: creditLimit.currency },
          approvalId: state.approval?.approvalId ?? null,
          approvalStatus: state.approval?.status ?? null,
        });
      }
      return [{ type: 'OrderConfirmed', data: { orderId, confirmedOn: command.today, dueDate: addDays(command.today, state.paymentTermsDays) } }];
    case 'RequestOrderApproval': {
      if (state.status !== 'draft') throw new DomainError('order.not_draft', `Only a draft order asks for approval; this one is ${state.status}`, { orderId });
      if (!overCredit(command.credit)) throw new DomainError('order.approval_not_needed', "The order stays within its customer's credit: confirm it", { orderId });
      const asked = askGate(state.approval ?? null, ORDER_VERSION, command.request);
      return asked ? [{ type: 'OrderApprovalRequested', data: asked }] : [];
    }
    case 'ApplyApprovalOutcome':
      return decideGate(state.approval ?? null, command.approvalId) ? [{ type: 'OrderApprovalDecided', data: { documentId: orderId, approvalId: command.approvalId, outcome: command.outcome } }] : [];
    case 'ShipOrder': {
      if (!['confirmed', 'partially_shipped'].includes(state.status)) throw new DomainError('order.not_shippable', `A ${state.status} order cannot be shipped`, { orderId });
      if (command.lines.length === 0) throw new DomainError('order.empty_shipment', 'A shipment needs at least one line');
      const shipping: Record<string, number> = {};
      for (const line of command.lines) {
        const ordered = state.lines.find((l) => l.id === line.lineId);
        if (!ordered) throw new DomainError('order.line_unknown', `The order has no line ${line.lineId}`, { lineId: line.lineId });
        shipping[line.lineId] = (shipping[line.lineId] ?? 0) + thousandths(line.quantity);
        const after = (state.shipped[line.lineId] ?? 0) + shipping[line.lineId]!;
        if (after > thousandths(ordered.quantity))
          throw new DomainError('order.over_shipment', `Line ${line.lineId}: shipping ${after / 1000} in all would exceed the ${ordered.quantity} ordered`, { lineId: line.lineId, ordered: ordered.quantity, alreadyShipped: (state.shipped[line.lineId] ?? 0) / 1000 });
      }
      const shipped: OrderEvent = { type: 'OrderShipped', data: { orderId, shipmentId: command.shipmentId, shippedAt: command.shippedAt, lines: command.lines } };
      return [shipped, ...completes(evolve(state, shipped))];
    }
    case 'ReceivePayment': {
      if (['draft', 'cancelled', 'completed'].includes(state.status)) throw new DomainError('order.not_payable', `A ${state.status} order takes no payments`, { orderId });
      if (command.currency !== state.currency) throw new DomainError('order.currency_mismatch', `The order is in ${state.currency}`, { orderId });
      if (state.paid + command.amount > state.totals.total)
        throw new DomainError('order.overpayment', `The payment exceeds the receivable of ${state.totals.total - state.paid}`, { orderId, receivable: state.totals.total - state.paid });
      const { type: _t, ...data } = command;
      const payment: OrderEvent = { type: 'PaymentReceived', data };
      return [payment, ...completes(evolve(state, payment))];
    }
    case 'CancelOrder':
      if (state.status === 'cancelled') throw new DomainError('order.already_cancelled', 'The order is cancelled already', { orderId });
      if (Object.keys(state.shipped).length > 0 || state.paid > 0) throw new DomainError('order.not_cancellable', 'An order with shipments or payments cannot be cancelled', { orderId });
      return [{ type: 'OrderCancelled', data: { orderId, reason: command.reason } }];
    case 'RecordErpAcknowledgement': {
      // Once per ERP version of the answer: a repeated or older one changes nothing.
      const last = state.erpAcknowledgement;
      if (last && last.erpDocumentNumber === command.acknowledgement.erpDocumentNumber && last.erpVersion >= command.acknowledgement.erpVersion) return [];
      return [{ type: 'OrderErpAcknowledged', data: { orderId, ...command.acknowledgement } }];
    }
    case 'ChangeOrderOwner':
      return command.ownerId === state.ownerId ? [] : [{ type: 'OrderOwnerChanged', data: { orderId, fromOwnerId: state.ownerId, ownerId: command.ownerId } }];
  }
}

export const orderDecider = { initialState, evolve, decide };
export const orderCategory = 'order';
export const orderStream = (id: string) => `${orderCategory}-${id}`;
export const formatOrderNumber = (year: number, sequence: number) => formatNumber('SO', year, sequence);
