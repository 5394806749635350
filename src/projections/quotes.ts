import type { QuoteEvent, QuoteVersion } from '../domain/quote/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { ownedStart, recordProjection, searchText, stamp, type RecordDoc } from './owned.ts';

export const QUOTES = 'quotes';

export const quotesProjection = recordProjection<RecordDoc>({
  name: 'quotes',
  version: 1,
  category: 'quote',
  collection: QUOTES,
  owned: true,
  idOf: (event) => (event.data as { quoteId: string }).quoteId,
  async evolve(doc, event, ownerPath) {
    const e = event as RecordedEvent & QuoteEvent;
    let next: RecordDoc | null = doc;
    const version = (current: QuoteVersion) => ({ version: current.version, lines: current.lines, totals: current.totals, total: { amount: current.totals.total, currency: (doc?.currency as string) ?? '' }, validUntil: current.validUntil, notes: current.notes });
    switch (e.type) {
      case 'QuoteCreated':
        next = {
          _id: e.data.quoteId,
          id: e.data.quoteId,
          customerId: e.data.customerId,
          ...(e.data.opportunityId ? { opportunityId: e.data.opportunityId } : {}),
          currency: e.data.currency,
          ...version(e.data.current),
          total: { amount: e.data.current.totals.total, currency: e.data.currency },
          versions: [{ ...e.data.current }],
          status: 'draft',
          ...(await ownedStart(event, e.data.ownerId, ownerPath, e.data.custom)),
        };
        break;
      case 'QuoteRevised':
        next = doc && { ...doc, ...version(e.data.current), versions: [...(doc.versions as QuoteVersion[]), e.data.current], status: 'draft' };
        break;
      case 'QuoteSent':
        next = doc && { ...doc, status: 'sent', sentAt: event.metadata.at };
        break;
      case 'QuoteAccepted':
        next = doc && { ...doc, status: 'accepted', orderId: e.data.orderId };
        break;
      case 'QuoteRejected':
        next = doc && { ...doc, status: 'rejected', rejectedReason: e.data.reason };
        break;
      case 'QuoteOwnerChanged':
        next = doc && { ...doc, ownerId: e.data.ownerId, departmentPath: await ownerPath(e.data.ownerId) };
        break;
    }
    return next && { ...next, ...stamp(event), _search: searchText(next.notes) };
  },
});
