import type { QuoteEvent, QuoteVersion } from '../domain/quote/index.ts';
import { ownedStart, recordProjection, searchText, stamp, type RecordDoc, registered } from './owned.ts';
import { resourceSpecs } from '../domain/customization/resources.ts';
import { keyed } from './projection.ts';

export const quotesProjection = recordProjection<RecordDoc, QuoteEvent>({
  ...registered(resourceSpecs.quotes),
  version: 1,
  async evolve(doc, event, ownerPath) {
    let next: RecordDoc | null = doc;
    const version = (current: QuoteVersion) => ({ version: current.version, lines: current.lines, totals: current.totals, total: { amount: current.totals.total, currency: (doc?.currency as string) ?? '' }, validUntil: current.validUntil, notes: current.notes });
    switch (event.type) {
      case 'QuoteCreated':
        next = {
          ...keyed(event.data.quoteId),
          customerId: event.data.customerId,
          ...(event.data.opportunityId ? { opportunityId: event.data.opportunityId } : {}),
          currency: event.data.currency,
          ...version(event.data.current),
          total: { amount: event.data.current.totals.total, currency: event.data.currency },
          versions: [{ ...event.data.current }],
          status: 'draft',
          ...(await ownedStart(event, event.data.ownerId, ownerPath, event.data.custom)),
        };
        break;
      case 'QuoteRevised':
        next = doc && { ...doc, ...version(event.data.current), versions: [...(doc.versions as QuoteVersion[]), event.data.current], status: 'draft' };
        break;
      case 'QuoteSent':
        next = doc && { ...doc, status: 'sent', sentAt: event.metadata.at };
        break;
      case 'QuoteAccepted':
        next = doc && { ...doc, status: 'accepted', orderId: event.data.orderId };
        break;
      case 'QuoteRejected':
        next = doc && { ...doc, status: 'rejected', rejectedReason: event.data.reason };
        break;
      case 'QuoteMoved':
        next = doc && { ...doc, customerId: event.data.customerId };
        break;
      case 'QuoteOwnerChanged':
        next = doc && { ...doc, ownerId: event.data.ownerId, departmentPath: await ownerPath(event.data.ownerId) };
        break;
    }
    return next && { ...next, ...stamp(event), _search: searchText(next.notes) };
  },
});
