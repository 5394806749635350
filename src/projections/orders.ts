import { nextDay } from '../domain/company/index.ts';
import type { OrderEvent } from '../domain/order/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Money } from '../domain/shared/money.ts';
import type { PricedLine } from '../domain/shared/totals.ts';
import { COMPANY, companyZone } from './company.ts';
import { balanceCollections, CounterDeltas, dayOf, monthly, monthOf, yearly } from './counters.ts';
import { ownedStart, recordProjection, searchText, stamp, type RecordDoc, registered } from './owned.ts';
import { resourceSpecs } from '../domain/customization/resources.ts';
import { keyed } from './projection.ts';

export const ORDERS = 'orders';
export const SALES_MONTHLY = 'report_sales_monthly';
/** What each customer bought (confirmed orders, by the month confirmed) and paid (by the month received): member levels. */
export const CUSTOMER_SALES_MONTHLY = 'report_customer_sales_monthly';

/**
 * Receivables as a balance: per day, owner and currency, the change that day's events made to what confirmed,
 * not yet shipped-and-completed orders still have to collect. The receivables at the start of a day are the sum
 * of every change before it.
 */
export const RECEIVABLES = 'report_order_receivables';
/**
 * Overdue receivables as a balance, the same changes keyed by the later of the event's day and the day after the
 * order is due: a change counts as overdue from the first day both have passed, so the overdue at the start of a
 * day is again the sum of every change keyed before it.
 */
export const OVERDUE = 'report_order_overdue';
/** The orders whose money still to collect is a receivable (as the receivables report counts them). */
export const RECEIVABLE_STATUSES: readonly string[] = ['confirmed', 'partially_shipped', 'shipped'];

export type OrderDoc = RecordDoc & {
  ownerId: string;
  currency: string;
  status: string;
  total: Money;
  paid: Money;
  receivable: Money;
  lines: (PricedLine & { shippedQuantity: number })[];
  confirmedOn?: string;
  dueDate?: string;
  /** The last version of the order sent to the ERP (its confirmation, or its cancellation after one), and when. */
  _erpVersion?: number;
  _erpSentAt?: string;
  /** The highest order version the ERP has answered (accepted or rejected). */
  _erpAnsweredVersion?: number;
  /** The ERP has not answered the last version sent to it (the reconciliation's unacknowledged orders). */
  _erpAwaiting?: boolean;
};

/** The order after a version of it was sent to the ERP (`event` is the version): awaiting its answer unless it has one. */
function sentToErp(doc: OrderDoc, event: Pick<RecordedEvent, 'revision' | 'metadata'>): OrderDoc {
  const version = Number(event.revision);
  return { ...doc, _erpVersion: version, _erpSentAt: event.metadata.at, _erpAwaiting: (doc._erpAnsweredVersion ?? -1) < version };
}

/** What an order adds to the receivable balances while it is as it is, changed on the event's day. */
function receivableContribution(deltas: CounterDeltas, doc: OrderDoc | null, day: string, sign: number): void {
  if (!doc || !RECEIVABLE_STATUSES.includes(doc.status) || doc.receivable.amount === 0) return;
  const key = { ownerId: doc.ownerId, currency: doc.currency };
  deltas.addBalance(RECEIVABLES, { day, ...key }, { receivable: doc.receivable.amount }, sign);
  const overdueFrom = doc.dueDate ? nextDay(doc.dueDate) : day;
  deltas.addBalance(OVERDUE, { day: overdueFrom > day ? overdueFrom : day, ...key }, { overdue: doc.receivable.amount }, sign);
}

/** Orders with shipped quantities, paid and receivable; and monthly sales counters per salesperson for the ranking. */
export const ordersProjection = recordProjection<OrderDoc, OrderEvent>({
  ...registered(resourceSpecs.orders),
  // 2: day and month counters in the company's time zone (was UTC). 3: per-customer monthly counters.
  // 4: the receivable and overdue balances. 5: their totals twins. 6: their yearly twins. 7: the version sent to
  // the ERP and whether its answer is awaited (a cancellation is a version too).
  version: 7,
  reads: [COMPANY],
  collections: [SALES_MONTHLY, CUSTOMER_SALES_MONTHLY, ...[RECEIVABLES, OVERDUE].flatMap(balanceCollections)],
  // The number has a unique index of its own (below), which serves its sort too.
  sorts: resourceSpecs.orders.list.sorts.filter((field) => field !== 'number'),
  async setup(store) {
    await store.collection(ORDERS).createIndex({ customerId: 1 });
    await store.collection(ORDERS).createIndex({ number: 1 }, { unique: true });
    await store.collection(ORDERS).createIndex({ _erpAwaiting: 1 });
    await store.collection(CUSTOMER_SALES_MONTHLY).createIndex({ month: 1 });
    await store.collection(CUSTOMER_SALES_MONTHLY).createIndex({ customerId: 1 });
    for (const balance of [RECEIVABLES, OVERDUE]) {
      await store.collection(balance).createIndex({ day: 1 });
      await store.collection(monthly(balance)).createIndex({ month: 1 });
      await store.collection(yearly(balance)).createIndex({ year: 1 });
    }
  },
  async evolve(doc, event, ownerPath) {
    const money = (amount: number, currency: string) => ({ amount, currency });
    let next: OrderDoc | null = doc;
    switch (event.type) {
      case 'OrderCreated':
        next = {
          ...keyed(event.data.orderId),
          number: event.data.number,
          customerId: event.data.customerId,
          ...(event.data.quoteId ? { quoteId: event.data.quoteId } : {}),
          currency: event.data.currency,
          lines: event.data.lines.map((line) => ({ ...line, shippedQuantity: 0 })),
          totals: event.data.totals,
          total: money(event.data.totals.total, event.data.currency),
          paid: money(0, event.data.currency),
          receivable: money(event.data.totals.total, event.data.currency),
          paymentTermsDays: event.data.paymentTermsDays,
          shipments: [],
          payments: [],
          status: 'draft',
          ...(await ownedStart(event, event.data.ownerId, ownerPath, event.data.custom)),
        };
        break;
      case 'OrderConfirmed':
        next = doc && sentToErp({ ...doc, status: 'confirmed', confirmedOn: event.data.confirmedOn, confirmedAt: event.metadata.at, dueDate: event.data.dueDate }, event);
        break;
      case 'OrderShipped':
        if (doc) {
          const lines = doc.lines.map((line) => {
            const shipped = event.data.lines.filter((l) => l.lineId === line.id).reduce((sum, l) => sum + Math.round(l.quantity * 1000), 0);
            return { ...line, shippedQuantity: (Math.round(line.shippedQuantity * 1000) + shipped) / 1000 };
          });
          const full = lines.every((line) => Math.round(line.shippedQuantity * 1000) >= Math.round(line.quantity * 1000));
          next = { ...doc, lines, status: full ? 'shipped' : 'partially_shipped', shipments: [...(doc.shipments as unknown[]), { id: event.data.shipmentId, shippedAt: event.data.shippedAt, lines: event.data.lines }] };
        }
        break;
      case 'PaymentReceived':
        if (doc) {
          const paid = doc.paid.amount + event.data.amount;
          next = { ...doc, paid: money(paid, doc.currency), receivable: money(doc.total.amount - paid, doc.currency), payments: [...(doc.payments as unknown[]), { id: event.data.paymentId, amount: money(event.data.amount, event.data.currency), receivedAt: event.data.receivedAt, method: event.data.method }] };
        }
        break;
      case 'OrderCompleted':
        next = doc && { ...doc, status: 'completed' };
        break;
      case 'OrderCancelled':
        next = doc && { ...doc, status: 'cancelled', cancelledReason: event.data.reason, receivable: money(0, doc.currency) };
        // A draft cancelled was never the ERP's; a confirmed order's cancellation is a version the ERP must answer.
        if (next?.confirmedOn) next = sentToErp(next, event);
        break;
      case 'OrderOwnerChanged':
        next = doc && { ...doc, ownerId: event.data.ownerId, departmentPath: await ownerPath(event.data.ownerId) };
        break;
      case 'OrderErpAcknowledged': {
        const { orderId: _id, ...acknowledgement } = event.data;
        const answered = Math.max(doc?._erpAnsweredVersion ?? -1, acknowledgement.orderVersion);
        next = doc && { ...doc, erpAcknowledgement: acknowledgement, _erpAnsweredVersion: answered, _erpAwaiting: doc._erpVersion !== undefined && answered < doc._erpVersion };
        break;
      }
      case 'OrderMoved':
        next = doc && { ...doc, customerId: event.data.customerId };
        break;
    }
    return next && { ...next, ...stamp(event), _search: searchText(next.number) };
  },
  async beforeWrite(before, after, event, store) {
    // The ranking credits whoever owned the order when it was confirmed (orders) or paid (collections); the
    // customer's counters the same months.
    const deltas = new CounterDeltas();
    const zone = await companyZone(store);
    const count = (month: string, doc: OrderDoc, inc: { orders: number; orderAmount: number; collected: number }) => {
      deltas.add(SALES_MONTHLY, { month, ownerId: doc.ownerId, currency: doc.currency }, inc);
      deltas.add(CUSTOMER_SALES_MONTHLY, { month, customerId: doc.customerId as string, currency: doc.currency }, inc);
    };
    if (event.type === 'OrderMoved' && before && after) {
      // Moved by a merge of its customers: what it counted for the one it left now counts for the one it joined.
      const customerCount = (doc: OrderDoc, sign: number) => {
        if (doc.confirmedOn && doc.status !== 'cancelled') deltas.add(CUSTOMER_SALES_MONTHLY, { month: String(doc.confirmedOn).slice(0, 7), customerId: doc.customerId as string, currency: doc.currency }, { orders: 1, orderAmount: doc.total.amount, collected: 0 }, sign);
        for (const payment of doc.payments as { amount: { amount: number }; receivedAt: string }[])
          deltas.add(CUSTOMER_SALES_MONTHLY, { month: monthOf(payment.receivedAt, zone), customerId: doc.customerId as string, currency: doc.currency }, { orders: 0, orderAmount: 0, collected: payment.amount.amount }, sign);
      };
      customerCount(before, -1);
      customerCount(after, 1);
    }
    if (event.type === 'OrderConfirmed' && after) count(event.data.confirmedOn.slice(0, 7), after, { orders: 1, orderAmount: after.total.amount, collected: 0 });
    if (event.type === 'OrderCancelled' && before?.confirmedOn) count(before.confirmedOn.slice(0, 7), before, { orders: -1, orderAmount: -before.total.amount, collected: 0 });
    if (event.type === 'PaymentReceived' && before) count(monthOf(event.data.receivedAt, zone), before, { orders: 0, orderAmount: 0, collected: event.data.amount });
    const day = dayOf(event.metadata.at, zone);
    receivableContribution(deltas, before, day, -1);
    receivableContribution(deltas, after, day, +1);
    await deltas.apply(store, event);
  },
});
