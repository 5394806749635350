import type { OrderEvent } from '../domain/order/index.ts';
import type { Money } from '../domain/shared/money.ts';
import type { PricedLine } from '../domain/shared/totals.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { COMPANY, companyZone } from './company.ts';
import { CounterDeltas, monthOf } from './counters.ts';
import { ownedStart, recordProjection, searchText, stamp, type RecordDoc } from './owned.ts';

export const ORDERS = 'orders';
export const SALES_MONTHLY = 'report_sales_monthly';

export type OrderDoc = RecordDoc & {
  ownerId: string;
  currency: string;
  status: string;
  total: Money;
  paid: Money;
  receivable: Money;
  lines: (PricedLine & { shippedQuantity: number })[];
  confirmedOn?: string;
};

/** Orders with shipped quantities, paid and receivable; and monthly sales counters per salesperson for the ranking. */
export const ordersProjection = recordProjection<OrderDoc>({
  name: 'orders',
  // 2: day and month counters in the company's time zone (was UTC).
  version: 2,
  reads: [COMPANY],
  category: 'order',
  collection: ORDERS,
  owned: true,
  collections: [SALES_MONTHLY],
  idOf: (event) => (event.data as { orderId: string }).orderId,
  async setup(store) {
    await store.collection(ORDERS).createIndex({ customerId: 1 });
    await store.collection(ORDERS).createIndex({ number: 1 }, { unique: true });
  },
  async evolve(doc, event, ownerPath) {
    const e = event as RecordedEvent & OrderEvent;
    const money = (amount: number, currency: string) => ({ amount, currency });
    let next: OrderDoc | null = doc;
    switch (e.type) {
      case 'OrderCreated':
        next = {
          _id: e.data.orderId,
          id: e.data.orderId,
          number: e.data.number,
          customerId: e.data.customerId,
          ...(e.data.quoteId ? { quoteId: e.data.quoteId } : {}),
          currency: e.data.currency,
          lines: e.data.lines.map((line) => ({ ...line, shippedQuantity: 0 })),
          totals: e.data.totals,
          total: money(e.data.totals.total, e.data.currency),
          paid: money(0, e.data.currency),
          receivable: money(e.data.totals.total, e.data.currency),
          paymentTermsDays: e.data.paymentTermsDays,
          shipments: [],
          payments: [],
          status: 'draft',
          ...(await ownedStart(event, e.data.ownerId, ownerPath, e.data.custom)),
        };
        break;
      case 'OrderConfirmed':
        next = doc && { ...doc, status: 'confirmed', confirmedOn: e.data.confirmedOn, dueDate: e.data.dueDate };
        break;
      case 'OrderShipped':
        if (doc) {
          const lines = doc.lines.map((line) => {
            const shipped = e.data.lines.filter((l) => l.lineId === line.id).reduce((sum, l) => sum + Math.round(l.quantity * 1000), 0);
            return { ...line, shippedQuantity: (Math.round(line.shippedQuantity * 1000) + shipped) / 1000 };
          });
          const full = lines.every((line) => Math.round(line.shippedQuantity * 1000) >= Math.round(line.quantity * 1000));
          next = { ...doc, lines, status: full ? 'shipped' : 'partially_shipped', shipments: [...(doc.shipments as unknown[]), { id: e.data.shipmentId, shippedAt: e.data.shippedAt, lines: e.data.lines }] };
        }
        break;
      case 'PaymentReceived':
        if (doc) {
          const paid = doc.paid.amount + e.data.amount;
          next = { ...doc, paid: money(paid, doc.currency), receivable: money(doc.total.amount - paid, doc.currency), payments: [...(doc.payments as unknown[]), { id: e.data.paymentId, amount: money(e.data.amount, e.data.currency), receivedAt: e.data.receivedAt, method: e.data.method }] };
        }
        break;
      case 'OrderCompleted':
        next = doc && { ...doc, status: 'completed' };
        break;
      case 'OrderCancelled':
        next = doc && { ...doc, status: 'cancelled', cancelledReason: e.data.reason, receivable: money(0, doc.currency) };
        break;
      case 'OrderOwnerChanged':
        next = doc && { ...doc, ownerId: e.data.ownerId, departmentPath: await ownerPath(e.data.ownerId) };
        break;
    }
    return next && { ...next, ...stamp(event), _search: searchText(next.number) };
  },
  async beforeWrite(before, after, event, store) {
    // The ranking credits whoever owned the order when it was confirmed (orders) or paid (collections).
    const deltas = new CounterDeltas();
    const e = event as RecordedEvent & OrderEvent;
    const key = (month: string, doc: OrderDoc) => ({ month, ownerId: doc.ownerId, currency: doc.currency });
    if (e.type === 'OrderConfirmed' && after) deltas.add(SALES_MONTHLY, key(e.data.confirmedOn.slice(0, 7), after), { orders: 1, orderAmount: after.total.amount, collected: 0 });
    if (e.type === 'OrderCancelled' && before?.confirmedOn) deltas.add(SALES_MONTHLY, key(before.confirmedOn.slice(0, 7), before), { orders: -1, orderAmount: -before.total.amount, collected: 0 });
    if (e.type === 'PaymentReceived' && before) deltas.add(SALES_MONTHLY, key(monthOf(e.data.receivedAt, await companyZone(store)), before), { orders: 0, orderAmount: 0, collected: e.data.amount });
    await deltas.apply(store, event);
  },
});
