import { describe, expect, it } from 'vitest';
import { fold } from '../../src/domain/shared/decider.ts';
import { effectiveStatus, quoteDecider, type QuoteEvent, type QuoteState, quoteStream, type QuoteVersion } from '../../src/domain/quote/index.ts';
import { priceLine, sumLines } from '../../src/domain/shared/totals.ts';
import { specFor } from '../support/spec.ts';

const lines = [priceLine({ id: 'a', productId: 'p', quantity: 1, unitPrice: 100, discountPercent: 0, taxRate: 13 })];
const v1: QuoteVersion = { version: 1, lines, totals: sumLines(lines), validUntil: '2026-11-30' };
const base = { quoteId: 'q', customerId: 'c', ownerId: 'u', currency: 'CNY', current: v1 };
const created: QuoteEvent = { type: 'QuoteCreated', data: base };
const sent: QuoteEvent = { type: 'QuoteSent', data: { quoteId: 'q', version: 1 } };
const accepted: QuoteEvent = { type: 'QuoteAccepted', data: { quoteId: 'q', version: 1, orderId: 'o' } };
const rejected: QuoteEvent = { type: 'QuoteRejected', data: { quoteId: 'q', version: 1, reason: 'price' } };
const revise = (validUntil: string, notes?: string) => ({ type: 'ReviseQuote' as const, quoteId: 'q', lines, totals: v1.totals, validUntil, ...(notes !== undefined ? { notes } : {}) });
const state = (events: QuoteEvent[]) => fold(quoteDecider, events) as Extract<QuoteState, { quoteId: string }>;

describe('quote decider: every decision pinned', () => {
  const { given } = specFor(quoteDecider);

  it('creates a draft once, with the opportunity and custom values only when given', () => {
    given([]).when({ type: 'CreateQuote', ...base }).then([created]);
    given([]).when({ type: 'CreateQuote', ...base, opportunityId: 'op', custom: { po: 'X' } }).then([{ type: 'QuoteCreated', data: { ...base, opportunityId: 'op', custom: { po: 'X' } } }]);
    given([created]).when({ type: 'CreateQuote', ...base }).thenThrows('quote.already_exists');
    expect(state([created])).toEqual({ status: 'draft', quoteId: 'q', customerId: 'c', ownerId: 'u', currency: 'CNY', current: v1, versions: [v1] });
  });

  it('an unknown quote is not found', () => {
    for (const command of [revise('2026-12-31'), { type: 'SendQuote' as const, quoteId: 'q', today: '2026-11-01' }, { type: 'RejectQuote' as const, quoteId: 'q', reason: 'x' }, { type: 'ChangeQuoteOwner' as const, quoteId: 'q', ownerId: 'v' }])
      expect(given([]).when(command).thenThrows('quote.not_found').details).toEqual({ quoteId: 'q' });
  });

  it('revises a draft or a sent quote into the next version (back to draft), keeping every version; notes only when given', () => {
    const v2: QuoteVersion = { ...v1, version: 2, validUntil: '2026-12-31', notes: 'v2' };
    given([created, sent]).when(revise('2026-12-31', 'v2')).then([{ type: 'QuoteRevised', data: { quoteId: 'q', current: v2 } }]);
    given([created]).when(revise('2026-12-31', '')).then([{ type: 'QuoteRevised', data: { quoteId: 'q', current: { ...v1, version: 2, validUntil: '2026-12-31' } } }]);
    const after = state([created, sent, { type: 'QuoteRevised', data: { quoteId: 'q', current: v2 } }]);
    expect(after).toMatchObject({ status: 'draft', current: v2, versions: [v1, v2] });
    given([created, sent, { type: 'QuoteRevised', data: { quoteId: 'q', current: v2 } }]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-12-31' }).then([{ type: 'QuoteSent', data: { quoteId: 'q', version: 2 } }]);
    expect(given([created, sent, accepted]).when(revise('2026-12-31')).thenThrows('quote.closed').details).toEqual({ quoteId: 'q' });
    given([created, sent, rejected]).when(revise('2026-12-31')).thenThrows('quote.closed');
  });

  it('sends a draft within its validity (the last day included)', () => {
    given([created]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-11-30' }).then([sent]);
    given([created]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-12-01' }).thenThrows('quote.expired');
    given([created, sent]).when({ type: 'SendQuote', quoteId: 'q', today: '2026-11-10' }).thenThrows('quote.not_draft');
    expect(state([created, sent]).status).toBe('sent');
  });

  it('accepts or rejects a sent quote only; acceptance within validity, naming the order', () => {
    given([created, sent]).when({ type: 'AcceptQuote', quoteId: 'q', orderId: 'o', today: '2026-11-30' }).then([accepted]);
    given([created, sent]).when({ type: 'AcceptQuote', quoteId: 'q', orderId: 'o', today: '2026-12-01' }).thenThrows('quote.expired');
    given([created]).when({ type: 'AcceptQuote', quoteId: 'q', orderId: 'o', today: '2026-11-10' }).thenThrows('quote.not_sent');
    given([created, sent, accepted]).when({ type: 'AcceptQuote', quoteId: 'q', orderId: 'o2', today: '2026-11-10' }).thenThrows('quote.not_sent');
    expect(state([created, sent, accepted])).toMatchObject({ status: 'accepted', orderId: 'o' });
    given([created, sent]).when({ type: 'RejectQuote', quoteId: 'q', reason: 'price' }).then([rejected]);
    given([created]).when({ type: 'RejectQuote', quoteId: 'q', reason: 'price' }).thenThrows('quote.not_sent');
    expect(state([created, sent, rejected]).status).toBe('rejected');
  });

  it('changes its owner only to someone else', () => {
    given([created]).when({ type: 'ChangeQuoteOwner', quoteId: 'q', ownerId: 'u' }).thenNothing();
    const moved: QuoteEvent = { type: 'QuoteOwnerChanged', data: { quoteId: 'q', fromOwnerId: 'u', ownerId: 'v' } };
    given([created]).when({ type: 'ChangeQuoteOwner', quoteId: 'q', ownerId: 'v' }).then([moved]);
    expect(state([created, moved]).ownerId).toBe('v');
    expect(fold(quoteDecider, [moved])).toEqual({ status: 'none' });
  });

  it('a sent quote past its date reads as expired; other statuses as they are', () => {
    expect(effectiveStatus('sent', '2026-11-30', '2026-11-30')).toBe('sent');
    expect(effectiveStatus('sent', '2026-11-30', '2026-12-01')).toBe('expired');
    expect(effectiveStatus('draft', '2026-11-30', '2026-12-01')).toBe('draft');
    expect(effectiveStatus('accepted', '2026-11-30', '2026-12-01')).toBe('accepted');
    expect(quoteStream('q')).toBe('quote-q');
  });
});
