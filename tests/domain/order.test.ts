import { describe, expect, it } from 'vitest';
import { fold } from '../../src/domain/shared/decider.ts';
import { formatOrderNumber, orderDecider, type OrderEvent, type OrderState, orderStream } from '../../src/domain/order/index.ts';
import { type PricedLine, priceLine, sumLines } from '../../src/domain/shared/totals.ts';
import { specFor } from '../support/spec.ts';

const line = (id: string, quantity: number, unitPrice: number): PricedLine => priceLine({ id, productId: 'p', quantity, unitPrice, discountPercent: 0, taxRate: 13 });
const lines = [line('l1', 2, 1000), line('l2', 1.5, 2000)];
const total = sumLines(lines).total;
const base = { orderId: 'o', number: 'SO-2026-000001', customerId: 'c', ownerId: 'u', currency: 'CNY', lines, totals: sumLines(lines), paymentTermsDays: 30 };
const created: OrderEvent = { type: 'OrderCreated', data: base };
const confirmed: OrderEvent = { type: 'OrderConfirmed', data: { orderId: 'o', confirmedOn: '2026-11-10', dueDate: '2026-12-10' } };
const ship = (quantities: Record<string, number>, shipmentId = 's') => ({ type: 'ShipOrder' as const, orderId: 'o', shipmentId, shippedAt: 't', lines: Object.entries(quantities).map(([lineId, quantity]) => ({ lineId, quantity })) });
const shipped = (quantities: Record<string, number>, shipmentId = 's'): OrderEvent => ({ type: 'OrderShipped', data: { orderId: 'o', shipmentId, shippedAt: 't', lines: Object.entries(quantities).map(([lineId, quantity]) => ({ lineId, quantity })) } });
const pay = (amount: number, currency = 'CNY') => ({ type: 'ReceivePayment' as const, orderId: 'o', paymentId: 'p', amount, currency, receivedAt: 't', method: 'bank' });
const paid = (amount: number): OrderEvent => ({ type: 'PaymentReceived', data: { orderId: 'o', paymentId: 'p', amount, currency: 'CNY', receivedAt: 't', method: 'bank' } });
const completed: OrderEvent = { type: 'OrderCompleted', data: { orderId: 'o' } };
const state = (events: OrderEvent[]) => fold(orderDecider, events) as Extract<OrderState, { orderId: string }>;

describe('order decider: every decision pinned', () => {
  const { given } = specFor(orderDecider);

  it('creates an order with its lines; the quote and custom values only when given', () => {
    given([]).when({ type: 'CreateOrder', ...base }).then([created]);
    given([]).when({ type: 'CreateOrder', ...base, quoteId: 'q', custom: { po: 'X' } }).then([{ type: 'OrderCreated', data: { ...base, quoteId: 'q', custom: { po: 'X' } } }]);
    given([]).when({ type: 'CreateOrder', ...base, lines: [] }).thenThrows('order.no_lines');
    given([created]).when({ type: 'CreateOrder', ...base }).thenThrows('order.already_exists');
    expect(state([created])).toMatchObject({ status: 'draft', shipped: {}, paid: 0, number: 'SO-2026-000001' });
    expect(state([{ type: 'OrderCreated', data: { ...base, quoteId: 'q' } }])).not.toHaveProperty('quoteId');
  });

  it('a number withdrawn before the order was written cannot be used again; withdrawing from an order is refused', () => {
    const withdrawn: OrderEvent = { type: 'OrderNumberWithdrawn', data: { orderId: 'o', number: 'SO-2026-000001' } };
    given([]).when({ type: 'WithdrawOrderNumber', orderId: 'o', number: 'SO-2026-000001' }).then([withdrawn]);
    const refused = given([withdrawn]).when({ type: 'CreateOrder', ...base }).thenThrows('order.number_withdrawn');
    expect(refused.details).toEqual({ number: 'SO-2026-000001' });
    given([withdrawn]).when({ type: 'CreateOrder', ...base, number: 'SO-2026-000002' }).then([{ type: 'OrderCreated', data: { ...base, number: 'SO-2026-000002' } }]);
    given([created]).when({ type: 'WithdrawOrderNumber', orderId: 'o', number: 'SO-2026-000009' }).thenThrows('order.already_exists');
    expect(fold(orderDecider, [withdrawn, { ...withdrawn, data: { orderId: 'o', number: 'SO-2026-000003' } }])).toEqual({ status: 'none', withdrawn: ['SO-2026-000001', 'SO-2026-000003'] });
    expect(state([created, withdrawn])).toEqual(state([created]));
  });

  it('an unknown order is not found for every command on it', () => {
    for (const command of [{ type: 'ConfirmOrder' as const, orderId: 'o', today: '2026-11-10' }, ship({ l1: 1 }), pay(1), { type: 'CancelOrder' as const, orderId: 'o', reason: 'x' }, { type: 'ChangeOrderOwner' as const, orderId: 'o', ownerId: 'v' }])
      expect(given([]).when(command).thenThrows('order.not_found').details).toEqual({ orderId: 'o' });
  });

  it('confirms a draft only, due after the payment terms (across months and years)', () => {
    given([created]).when({ type: 'ConfirmOrder', orderId: 'o', today: '2026-12-20' }).then([{ type: 'OrderConfirmed', data: { orderId: 'o', confirmedOn: '2026-12-20', dueDate: '2027-01-19' } }]);
    given([{ type: 'OrderCreated', data: { ...base, paymentTermsDays: 0 } }]).when({ type: 'ConfirmOrder', orderId: 'o', today: '2026-11-10' }).then([{ type: 'OrderConfirmed', data: { orderId: 'o', confirmedOn: '2026-11-10', dueDate: '2026-11-10' } }]);
    expect(given([created, confirmed]).when({ type: 'ConfirmOrder', orderId: 'o', today: '2026-11-11' }).thenThrows('order.not_draft').details).toEqual({ orderId: 'o' });
    expect(state([created, confirmed])).toMatchObject({ status: 'confirmed', dueDate: '2026-12-10' });
  });

  it('ships part, then the rest: partially shipped until every line is, then shipped', () => {
    given([created, confirmed]).when(ship({ l1: 2 })).then([shipped({ l1: 2 })]);
    expect(state([created, confirmed, shipped({ l1: 2 })]).status).toBe('partially_shipped');
    expect(state([created, confirmed, shipped({ l1: 1, l2: 1.5 })]).status).toBe('partially_shipped');
    expect(state([created, confirmed, shipped({ l1: 1 }), shipped({ l1: 1, l2: 1.5 }, 's2')])).toMatchObject({ status: 'shipped', shipped: { l1: 2000, l2: 1500 } });
    given([created, confirmed, shipped({ l1: 2 })]).when(ship({ l2: 1.5 }, 's2')).then([shipped({ l2: 1.5 }, 's2')]);
    given([created, confirmed, shipped({ l1: 2, l2: 1.5 })]).when(ship({ l1: 0.001 }, 's3')).thenThrows('order.not_shippable');
    given([created, confirmed]).when({ ...ship({}), lines: [] }).thenThrows('order.empty_shipment');
  });

  it('says which line would be over-shipped, with what was ordered and shipped', () => {
    const over = given([created, confirmed, shipped({ l2: 1 })]).when(ship({ l2: 0.501 }, 's2')).thenThrows('order.over_shipment');
    expect(over.details).toEqual({ lineId: 'l2', ordered: 1.5, alreadyShipped: 1 });
    given([created, confirmed, shipped({ l2: 1 })]).when(ship({ l2: 0.5 }, 's2')).then([shipped({ l2: 0.5 }, 's2')]);
    expect(given([created, confirmed]).when(ship({ nope: 1 })).thenThrows('order.line_unknown').details).toEqual({ lineId: 'nope' });
  });

  it('takes payments while confirmed or shipping, up to the total, in its currency', () => {
    given([created, confirmed]).when(pay(total)).then([paid(total)]);
    given([created, confirmed, shipped({ l1: 2 })]).when(pay(1)).then([paid(1)]);
    const over = given([created, confirmed, paid(total - 10)]).when(pay(11)).thenThrows('order.overpayment');
    expect(over.details).toEqual({ orderId: 'o', receivable: 10 });
    given([created, confirmed, paid(total - 10)]).when(pay(10)).then([paid(10)]);
    given([created, confirmed]).when(pay(1, 'USD')).thenThrows('order.currency_mismatch');
    const cancelled: OrderEvent = { type: 'OrderCancelled', data: { orderId: 'o', reason: 'x' } };
    given([created, cancelled]).when(pay(1)).thenThrows('order.not_payable');
    expect(state([created, confirmed, paid(100), paid(50)]).paid).toBe(150);
  });

  it('completes when the last shipment or the last payment makes it both shipped and paid, not before', () => {
    given([created, confirmed, paid(total)]).when(ship({ l1: 2 })).then([shipped({ l1: 2 })]);
    given([created, confirmed, paid(total), shipped({ l1: 2 })]).when(ship({ l2: 1.5 }, 's2')).then([shipped({ l2: 1.5 }, 's2'), completed]);
    given([created, confirmed, shipped({ l1: 2, l2: 1.5 })]).when(pay(total - 1)).then([paid(total - 1)]);
    given([created, confirmed, shipped({ l1: 2, l2: 1.5 }), paid(total - 1)]).when(pay(1)).then([paid(1), completed]);
    given([created, confirmed, shipped({ l1: 2 })]).when(pay(total)).then([paid(total)]);
    const done = [created, confirmed, shipped({ l1: 2, l2: 1.5 }), paid(total), completed];
    expect(state(done).status).toBe('completed');
    given(done).when(pay(1)).thenThrows('order.not_payable');
  });

  it('cancels once, and not with shipments or payments', () => {
    const cancelled: OrderEvent = { type: 'OrderCancelled', data: { orderId: 'o', reason: 'x' } };
    given([created, confirmed]).when({ type: 'CancelOrder', orderId: 'o', reason: 'x' }).then([cancelled]);
    expect(state([created, cancelled]).status).toBe('cancelled');
    given([created, cancelled]).when({ type: 'CancelOrder', orderId: 'o', reason: 'y' }).thenThrows('order.already_cancelled');
    given([created, confirmed, shipped({ l1: 1 })]).when({ type: 'CancelOrder', orderId: 'o', reason: 'x' }).thenThrows('order.not_cancellable');
    given([created, confirmed, paid(1)]).when({ type: 'CancelOrder', orderId: 'o', reason: 'x' }).thenThrows('order.not_cancellable');
  });

  it('changes its owner only to someone else', () => {
    given([created]).when({ type: 'ChangeOrderOwner', orderId: 'o', ownerId: 'u' }).thenNothing();
    const moved: OrderEvent = { type: 'OrderOwnerChanged', data: { orderId: 'o', fromOwnerId: 'u', ownerId: 'v' } };
    given([created]).when({ type: 'ChangeOrderOwner', orderId: 'o', ownerId: 'v' }).then([moved]);
    expect(state([created, moved]).ownerId).toBe('v');
  });

  it('names its stream and formats its number', () => {
    expect(orderStream('o')).toBe('order-o');
    expect(formatOrderNumber(2026, 42)).toBe('SO-2026-000042');
    expect(formatOrderNumber(2027, 1_234_567)).toBe('SO-2027-1234567');
  });
});
