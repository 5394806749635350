import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold } from '../../src/domain/shared/decider.ts';
import { type OrderCommand, orderDecider, type OrderEvent, type OrderState } from '../../src/domain/order/index.ts';
import { type QuoteEvent, quoteDecider, type QuoteVersion } from '../../src/domain/quote/index.ts';
import { DomainError } from '../../src/domain/shared/errors.ts';
import { type PricedLine, priceLine, sumLines } from '../../src/domain/shared/totals.ts';
import { specFor } from '../support/spec.ts';

const line = (id: string, quantity: number, unitPrice: number, discountPercent = 0, taxRate = 13): PricedLine => priceLine({ id, productId: 'p', quantity, unitPrice, discountPercent, taxRate });

describe('totals: per line, half-up, in integer minor units', () => {
  it('rounds half up per line and sums lines', () => {
    expect(line('a', 3, 33_333)).toMatchObject({ net: 99_999, tax: 13_000, total: 112_999 }); // tax 12,999.87
    expect(line('b', 1, 1, 50, 0)).toMatchObject({ net: 1 }); // 0.5 → 1
    expect(line('c', 0.001, 100, 0, 0)).toMatchObject({ net: 0 }); // 0.1 → 0
    expect(sumLines([line('a', 3, 33_333), line('b', 2, 500)])).toEqual({ net: 100_999, tax: 13_130, total: 114_129 });
  });

  it('property: each line total is net + tax, within half a minor unit of the exact value; totals are the sums', () => {
    const lineArb = fc.record({
      quantity: fc.integer({ min: 1, max: 1_000_000 }).map((n) => n / 1000),
      unitPrice: fc.integer({ min: 0, max: 100_000_000 }),
      discountPercent: fc.integer({ min: 0, max: 10_000 }).map((n) => n / 100),
      taxRate: fc.integer({ min: 0, max: 3_000 }).map((n) => n / 100),
    });
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 20 }), (inputs) => {
        const lines = inputs.map((input, i) => priceLine({ id: String(i), productId: 'p', ...input }));
        for (const [i, l] of lines.entries()) {
          const input = inputs[i]!;
          expect(l.total).toBe(l.net + l.tax);
          expect(Number.isInteger(l.net) && Number.isInteger(l.tax)).toBe(true);
          const exactNet = input.quantity * input.unitPrice * (1 - input.discountPercent / 100);
          expect(Math.abs(l.net - exactNet)).toBeLessThanOrEqual(0.5 + 1e-6 * Math.max(1, exactNet));
          expect(Math.abs(l.tax - (l.net * input.taxRate) / 100)).toBeLessThanOrEqual(0.5 + 1e-9 * l.net);
        }
        const totals = sumLines(lines);
        expect(totals.total).toBe(lines.reduce((s, l) => s + l.total, 0));
        expect(totals.total).toBe(totals.net + totals.tax);
      }),
      { numRuns: 300 },
    );
  });
});

describe('quote decider', () => {
  const { given } = specFor(quoteDecider);
  const v1: QuoteVersion = { version: 1, lines: [line('a', 1, 100)], totals: sumLines([line('a', 1, 100)]), validUntil: '2026-11-30' };
  const created: QuoteEvent = { type: 'QuoteCreated', data: { quoteId: 'q', customerId: 'c', ownerId: 'u', currency: 'CNY', current: v1 } };
  const sent: QuoteEvent = { type: 'QuoteSent', data: { quoteId: 'q', version: 1 } };
  it('drafts, revises to a new version, sends, accepts', () => {
    given([created]).when({ type: 'ReviseQuote', quoteId: 'q', lines: v1.lines, totals: v1.totals, validUntil: '2026-12-15' }).then([{ type: 'QuoteRevised', data: { quoteId: 'q', current: { ...v1, version: 2, validUntil: '2026-12-15' } } }]);
    given([created]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-11-10' }).then([sent]);
    given([created, sent]).when({ type: 'AcceptQuote', quoteId: 'q', orderId: 'o', today: '2026-11-10' }).then([{ type: 'QuoteAccepted', data: { quoteId: 'q', version: 1, orderId: 'o' } }]);
  });
  it('refuses accepting a draft, an expired quote, and anything after acceptance', () => {
    given([created]).when({ type: 'AcceptQuote', quoteId: 'q', orderId: 'o', today: '2026-11-10' }).thenThrows('quote.not_sent');
    given([created, sent]).when({ type: 'AcceptQuote', quoteId: 'q', orderId: 'o', today: '2026-12-01' }).thenThrows('quote.expired');
    given([created]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-12-01' }).thenThrows('quote.expired');
    const accepted: QuoteEvent = { type: 'QuoteAccepted', data: { quoteId: 'q', version: 1, orderId: 'o' } };
    given([created, sent, accepted]).when({ type: 'ReviseQuote', quoteId: 'q', lines: [], totals: v1.totals, validUntil: '2026-12-31' }).thenThrows('quote.closed');
    given([created, sent]).when({ type: 'RejectQuote', quoteId: 'q', reason: 'price' }).then([{ type: 'QuoteRejected', data: { quoteId: 'q', version: 1, reason: 'price' } }]);
  });
});

describe('order decider', () => {
  const { given } = specFor(orderDecider);
  const lines = [line('l1', 2, 1000), line('l2', 1.5, 2000)];
  const created: OrderEvent = { type: 'OrderCreated', data: { orderId: 'o', number: 'SO-2026-000001', customerId: 'c', ownerId: 'u', currency: 'CNY', lines, totals: sumLines(lines), paymentTermsDays: 30 } };
  const confirmed: OrderEvent = { type: 'OrderConfirmed', data: { orderId: 'o', confirmedOn: '2026-11-10', dueDate: '2026-12-10' } };
  it('confirms with a due date from the payment terms', () => given([created]).when({ type: 'ConfirmOrder', orderId: 'o', today: '2026-11-10' }).then([confirmed]));
  it('refuses shipping a draft, an unknown line, or more than ordered', () => {
    given([created]).when({ type: 'ShipOrder', orderId: 'o', shipmentId: 's', shippedAt: 't', lines: [{ lineId: 'l1', quantity: 1 }] }).thenThrows('order.not_shippable');
    given([created, confirmed]).when({ type: 'ShipOrder', orderId: 'o', shipmentId: 's', shippedAt: 't', lines: [{ lineId: 'x', quantity: 1 }] }).thenThrows('order.line_unknown');
    given([created, confirmed]).when({ type: 'ShipOrder', orderId: 'o', shipmentId: 's', shippedAt: 't', lines: [{ lineId: 'l2', quantity: 1 }, { lineId: 'l2', quantity: 0.501 }] }).thenThrows('order.over_shipment');
  });
  it('completes when fully shipped and fully paid, in either order', () => {
    const total = sumLines(lines).total;
    const paid: OrderEvent = { type: 'PaymentReceived', data: { orderId: 'o', paymentId: 'p', amount: total, currency: 'CNY', receivedAt: 't', method: 'bank' } };
    given([created, confirmed, paid])
      .when({ type: 'ShipOrder', orderId: 'o', shipmentId: 's', shippedAt: 't', lines: [{ lineId: 'l1', quantity: 2 }, { lineId: 'l2', quantity: 1.5 }] })
      .then([{ type: 'OrderShipped', data: { orderId: 'o', shipmentId: 's', shippedAt: 't', lines: [{ lineId: 'l1', quantity: 2 }, { lineId: 'l2', quantity: 1.5 }] } }, { type: 'OrderCompleted', data: { orderId: 'o' } }]);
  });
  it('refuses an overpayment, a foreign currency, and cancelling after a payment', () => {
    given([created, confirmed]).when({ type: 'ReceivePayment', orderId: 'o', paymentId: 'p', amount: sumLines(lines).total + 1, currency: 'CNY', receivedAt: 't', method: 'bank' }).thenThrows('order.overpayment');
    given([created, confirmed]).when({ type: 'ReceivePayment', orderId: 'o', paymentId: 'p', amount: 1, currency: 'USD', receivedAt: 't', method: 'bank' }).thenThrows('order.currency_mismatch');
    given([created]).when({ type: 'ReceivePayment', orderId: 'o', paymentId: 'p', amount: 1, currency: 'CNY', receivedAt: 't', method: 'bank' }).thenThrows('order.not_payable');
    const paid: OrderEvent = { type: 'PaymentReceived', data: { orderId: 'o', paymentId: 'p', amount: 1, currency: 'CNY', receivedAt: 't', method: 'bank' } };
    given([created, confirmed, paid]).when({ type: 'CancelOrder', orderId: 'o', reason: 'x' }).thenThrows('order.not_cancellable');
    given([created]).when({ type: 'CancelOrder', orderId: 'o', reason: 'x' }).then([{ type: 'OrderCancelled', data: { orderId: 'o', reason: 'x' } }]);
  });

  it('property: whatever shipments and payments are attempted, shipped ≤ ordered per line and paid ≤ total', () => {
    const commandArb = fc.oneof(
      fc.record({ kind: fc.constant('ship' as const), lineId: fc.constantFrom('l1', 'l2', 'nope'), quantity: fc.integer({ min: 1, max: 3000 }).map((n) => n / 1000) }),
      fc.record({ kind: fc.constant('pay' as const), amount: fc.integer({ min: 1, max: sumLines(lines).total }) }),
    );
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 40 }), (attempts) => {
        let events: OrderEvent[] = [created, confirmed];
        for (const [i, attempt] of attempts.entries()) {
          const command: OrderCommand =
            attempt.kind === 'ship'
              ? { type: 'ShipOrder', orderId: 'o', shipmentId: `s${i}`, shippedAt: 't', lines: [{ lineId: attempt.lineId, quantity: attempt.quantity }] }
              : { type: 'ReceivePayment', orderId: 'o', paymentId: `p${i}`, amount: attempt.amount, currency: 'CNY', receivedAt: 't', method: 'bank' };
          try {
            events = [...events, ...orderDecider.decide(command, fold(orderDecider, events))];
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
          }
          const state = fold(orderDecider, events) as Extract<OrderState, { orderId: string }>;
          for (const ordered of state.lines) expect(state.shipped[ordered.id] ?? 0).toBeLessThanOrEqual(Math.round(ordered.quantity * 1000));
          expect(state.paid).toBeLessThanOrEqual(state.totals.total);
          if (state.status === 'completed') expect(state.paid).toBe(state.totals.total);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the approval gates of quotes and orders', () => {
  const request = (approvalId: string) => ({ documentId: 'q', submittedBy: 'u', approval: { approvalId, policyId: 'p', policyVersion: 1, steps: [{ approverId: 'lead', rule: 'manager' as const }] }, at: 't' });
  const asked = (approvalId: string, version = 1, supersedes: string | null = null) => ({ ...request(approvalId), documentVersion: version, supersedes });

  describe('a discount over the role maximum', () => {
    const { given } = specFor(quoteDecider);
    const v1: QuoteVersion = { version: 1, lines: [line('a', 1, 100, 15)], totals: sumLines([line('a', 1, 100, 15)]), validUntil: '2099-12-31' };
    const created: QuoteEvent = { type: 'QuoteCreated', data: { quoteId: 'q', customerId: 'c', ownerId: 'u', currency: 'CNY', current: v1 } };
    const requested: QuoteEvent = { type: 'QuoteApprovalRequested', data: asked('ap-1') };
    const approved: QuoteEvent = { type: 'QuoteApprovalDecided', data: { documentId: 'q', approvalId: 'ap-1', outcome: 'approved' } };
    const revised: QuoteEvent = { type: 'QuoteRevised', data: { quoteId: 'q', current: { ...v1, version: 2 } } };

    it('is sent once its version is approved; within the maximum, or without one, at once', () => {
      given([created]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-11-10', maxDiscountPercent: 10 }).thenThrows('quote.approval_required');
      given([created]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-11-10', maxDiscountPercent: 15 }).then([{ type: 'QuoteSent', data: { quoteId: 'q', version: 1 } }]);
      given([created]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-11-10', maxDiscountPercent: null }).then([{ type: 'QuoteSent', data: { quoteId: 'q', version: 1 } }]);
      given([created, requested]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-11-10', maxDiscountPercent: 10 }).thenThrows('quote.approval_required');
      given([created, requested, approved]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-11-10', maxDiscountPercent: 10 }).then([{ type: 'QuoteSent', data: { quoteId: 'q', version: 1 } }]);
      given([created, requested, approved, revised]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-11-10', maxDiscountPercent: 10 }).thenThrows('quote.approval_required');
    });

    it('asks once per version, again after a rejection or a revision (naming the pending one it replaces)', () => {
      given([created]).when({ type: 'RequestQuoteApproval', quoteId: 'q', maxDiscountPercent: 10, request: request('ap-1') }).then([requested]);
      given([created]).when({ type: 'RequestQuoteApproval', quoteId: 'q', maxDiscountPercent: 20, request: request('ap-1') }).thenThrows('quote.approval_not_needed');
      given([created, requested]).when({ type: 'RequestQuoteApproval', quoteId: 'q', maxDiscountPercent: 10, request: request('ap-2') }).thenNothing();
      given([created, requested, approved]).when({ type: 'RequestQuoteApproval', quoteId: 'q', maxDiscountPercent: 10, request: request('ap-2') }).thenNothing();
      const rejected: QuoteEvent = { type: 'QuoteApprovalDecided', data: { documentId: 'q', approvalId: 'ap-1', outcome: 'rejected' } };
      given([created, requested, rejected]).when({ type: 'RequestQuoteApproval', quoteId: 'q', maxDiscountPercent: 10, request: request('ap-2') }).then([{ type: 'QuoteApprovalRequested', data: asked('ap-2') }]);
      given([created, requested, revised]).when({ type: 'RequestQuoteApproval', quoteId: 'q', maxDiscountPercent: 10, request: request('ap-2') }).then([{ type: 'QuoteApprovalRequested', data: asked('ap-2', 2, 'ap-1') }]);
      given([created, { type: 'QuoteSent', data: { quoteId: 'q', version: 1 } }]).when({ type: 'RequestQuoteApproval', quoteId: 'q', maxDiscountPercent: 10, request: request('ap-1') }).thenThrows('quote.not_draft');
    });

    it('takes the outcome of the request it waits on, once', () => {
      given([created, requested]).when({ type: 'ApplyApprovalOutcome', quoteId: 'q', approvalId: 'ap-1', outcome: 'approved' }).then([approved]);
      given([created, requested, approved]).when({ type: 'ApplyApprovalOutcome', quoteId: 'q', approvalId: 'ap-1', outcome: 'approved' }).thenNothing();
      given([created, requested]).when({ type: 'ApplyApprovalOutcome', quoteId: 'q', approvalId: 'ap-0', outcome: 'approved' }).thenNothing();
    });
  });

  describe('an order over credit', () => {
    const { given } = specFor(orderDecider);
    const lines = [line('l1', 2, 1000)];
    const created: OrderEvent = { type: 'OrderCreated', data: { orderId: 'o', number: 'SO-2026-000001', customerId: 'c', ownerId: 'u', currency: 'CNY', lines, totals: sumLines(lines), paymentTermsDays: 30 } };
    const confirmed: OrderEvent = { type: 'OrderConfirmed', data: { orderId: 'o', confirmedOn: '2026-11-10', dueDate: '2026-12-10' } };
    const CNY = (amount: number) => ({ amount, currency: 'CNY' });
    const over = { creditLimit: CNY(3000), openReceivables: CNY(1000), orderAmount: CNY(2260) };
    const within = { ...over, openReceivables: CNY(740) };
    const requested: OrderEvent = { type: 'OrderApprovalRequested', data: { ...asked('ap-1'), documentId: 'o' } };

    it('is confirmed over credit once approved, and the refusal names the figures', () => {
      given([created]).when({ type: 'ConfirmOrder', orderId: 'o', today: '2026-11-10', credit: within }).then([confirmed]);
      given([created]).when({ type: 'ConfirmOrder', orderId: 'o', today: '2026-11-10', credit: null }).then([confirmed]);
      given([created]).when({ type: 'ConfirmOrder', orderId: 'o', today: '2026-11-10', credit: { ...over, creditLimit: { amount: 1, currency: 'USD' } } }).then([confirmed]);
      expect(() => orderDecider.decide({ type: 'ConfirmOrder', orderId: 'o', today: '2026-11-10', credit: over }, fold(orderDecider, [created]) as OrderState)).toThrow(
        expect.objectContaining({ code: 'order.credit_exceeded', details: expect.objectContaining({ creditLimit: CNY(3000), openReceivables: CNY(1000), orderAmount: CNY(2260), exceededBy: CNY(260) }) }),
      );
      given([created, requested]).when({ type: 'ConfirmOrder', orderId: 'o', today: '2026-11-10', credit: over }).thenThrows('order.credit_exceeded');
      const approved: OrderEvent = { type: 'OrderApprovalDecided', data: { documentId: 'o', approvalId: 'ap-1', outcome: 'approved' } };
      given([created, requested, approved]).when({ type: 'ConfirmOrder', orderId: 'o', today: '2026-11-10', credit: over }).then([confirmed]);
    });

    it('asks only when over credit, for a draft', () => {
      given([created]).when({ type: 'RequestOrderApproval', orderId: 'o', credit: over, request: { ...request('ap-1'), documentId: 'o' } }).then([requested]);
      given([created]).when({ type: 'RequestOrderApproval', orderId: 'o', credit: within, request: { ...request('ap-1'), documentId: 'o' } }).thenThrows('order.approval_not_needed');
      given([created, confirmed]).when({ type: 'RequestOrderApproval', orderId: 'o', credit: over, request: { ...request('ap-1'), documentId: 'o' } }).thenThrows('order.not_draft');
      given([created, requested]).when({ type: 'ApplyApprovalOutcome', orderId: 'o', approvalId: 'ap-1', outcome: 'rejected' }).then([{ type: 'OrderApprovalDecided', data: { documentId: 'o', approvalId: 'ap-1', outcome: 'rejected' } }]);
    });
  });
});
