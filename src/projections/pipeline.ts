import type { LeadEvent } from '../domain/lead/index.ts';
import { type OpportunityEvent, opportunityCategory } from '../domain/opportunity/index.ts';
import type { OrderEvent } from '../domain/order/index.ts';
import type { ProductEvent } from '../domain/product/index.ts';
import type { QuoteEvent, QuoteVersion } from '../domain/quote/index.ts';
import type { PricedLine } from '../domain/shared/totals.ts';
import { applyChanges } from '../domain/shared/normalize.ts';
import type { Money } from '../domain/shared/money.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc } from '../infra/readstore/port.ts';
import { CounterDeltas, dayOf } from './counters.ts';
import { ownedStart, recordProjection, searchText, stamp } from './owned.ts';

export const PRODUCTS = 'products';
export const LEADS = 'leads';
export const OPPORTUNITIES = 'opportunities';
export const FUNNEL = 'report_opportunity_funnel';
export const STAGE_EXITS = 'report_opportunity_stage_exits';
export const CLOSES = 'report_opportunity_closes';

type Record_ = Doc & Record<string, unknown> & { revision: number; createdAt: string; updatedAt: string; _search: string };

export const productsProjection = recordProjection<Record_>({
  name: 'products',
  version: 1,
  category: 'product',
  collection: PRODUCTS,
  owned: false,
  idOf: (event) => (event.data as { productId: string }).productId,
  async setup(store) {
    await store.collection(PRODUCTS).createIndex({ code: 1 });
  },
  evolve(doc, event) {
    const e = event as RecordedEvent & ProductEvent;
    const next: Record_ | null =
      e.type === 'ProductCreated'
        ? { _id: e.data.productId, id: e.data.productId, ...e.data.fields, createdAt: event.metadata.at, ...stamp(event), _search: '' }
        : doc && { ...(applyChanges(doc, e.data.changes) as Record_), ...stamp(event) };
    return next && { ...next, _search: searchText(next.code, next.name, next.specification, next.category) };
  },
});

export const leadsProjection = recordProjection<Record_>({
  name: 'leads',
  version: 1,
  category: 'lead',
  collection: LEADS,
  owned: true,
  idOf: (event) => (event.data as { leadId: string }).leadId,
  async evolve(doc, event, ownerPath) {
    const e = event as RecordedEvent & LeadEvent;
    let next: Record_ | null = doc;
    switch (e.type) {
      case 'LeadCreated':
        next = { _id: e.data.leadId, id: e.data.leadId, ...e.data.fields, status: 'new', ...(await ownedStart(event, e.data.ownerId, ownerPath)) };
        break;
      case 'LeadChanged':
        next = doc && (applyChanges(doc, e.data.changes) as Record_);
        break;
      case 'LeadStatusChanged':
        next = doc && { ...doc, status: e.data.status };
        break;
      case 'LeadDisqualified':
        next = doc && { ...doc, status: 'disqualified', disqualifiedReason: e.data.reason };
        break;
      case 'LeadConverted': {
        const { leadId: _id, ...converted } = e.data;
        next = doc && { ...doc, status: 'converted', converted, convertedAt: event.metadata.at };
        break;
      }
      case 'LeadOwnerChanged':
        next = doc && { ...doc, ownerId: e.data.ownerId, departmentPath: await ownerPath(e.data.ownerId) };
        break;
    }
    return next && { ...next, ...stamp(event), _search: searchText(next.company, next.person, next.phone, next.email) };
  },
});

type OpportunityDoc = Record_ & {
  ownerId: string;
  stage: string;
  status: 'open' | 'won' | 'lost';
  amount: Money;
  stageEnteredAt: string;
  stageHistory: { stage: string; enteredAt: string; leftAt?: string }[];
  closedAt?: string;
};

/** The funnel counter an opportunity contributes to: created day, current stage, owner, currency. */
function funnelContribution(deltas: CounterDeltas, doc: OpportunityDoc | null, sign: number): void {
  if (!doc) return;
  deltas.add(FUNNEL, { day: dayOf(doc.createdAt), stage: doc.stage, ownerId: doc.ownerId, currency: doc.amount.currency }, { count: 1, amount: doc.amount.amount }, sign);
}

function closeContribution(deltas: CounterDeltas, doc: OpportunityDoc, sign: number): void {
  if (doc.status === 'open' || !doc.closedAt) return;
  const won = doc.status === 'won';
  deltas.add(
    CLOSES,
    { day: dayOf(doc.closedAt), ownerId: doc.ownerId, currency: doc.amount.currency },
    { won: won ? 1 : 0, lost: won ? 0 : 1, wonAmount: won ? doc.amount.amount : 0, wonCycleMs: won ? new Date(doc.closedAt).getTime() - new Date(doc.createdAt).getTime() : 0 },
    sign,
  );
}

/**
 * Opportunities with their stage history, and three pre-aggregated report counters:
 * the funnel (by created day, stage, owner, currency), stage exits (time in stage, by the day the stage was
 * left) and closes (won/lost, won amount, cycle time, by close day). Reports sum counters, never scan records.
 */
export const opportunitiesProjection = recordProjection<OpportunityDoc>({
  name: 'opportunities',
  version: 1,
  category: opportunityCategory,
  collection: OPPORTUNITIES,
  owned: true,
  collections: [FUNNEL, STAGE_EXITS, CLOSES],
  idOf: (event) => (event.data as { opportunityId: string }).opportunityId,
  async setup(store) {
    await store.collection(OPPORTUNITIES).createIndex({ customerId: 1 });
    await store.collection(OPPORTUNITIES).createIndex({ stage: 1 });
  },
  async evolve(doc, event, ownerPath) {
    const e = event as RecordedEvent & OpportunityEvent;
    const at = event.metadata.at;
    const moveTo = (current: OpportunityDoc, stage: string, status: OpportunityDoc['status']): OpportunityDoc => ({
      ...current,
      stage,
      status,
      stageEnteredAt: at,
      stageHistory: [...current.stageHistory.map((h) => (h.leftAt ? h : { ...h, leftAt: at })), { stage, enteredAt: at }],
      ...(status === 'open' ? { closedAt: undefined } : { closedAt: at }),
    });
    let next: OpportunityDoc | null = doc;
    switch (e.type) {
      case 'OpportunityCreated':
        next = {
          _id: e.data.opportunityId,
          id: e.data.opportunityId,
          ...e.data.fields,
          stage: e.data.stage,
          status: 'open',
          stageEnteredAt: at,
          stageHistory: [{ stage: e.data.stage, enteredAt: at }],
          ...(await ownedStart(event, e.data.ownerId, ownerPath)),
        };
        break;
      case 'OpportunityChanged':
        next = doc && (applyChanges(doc, e.data.changes) as OpportunityDoc);
        break;
      case 'OpportunityStageChanged':
      case 'OpportunityReopened':
        next = doc && moveTo(doc, e.data.stage, 'open');
        break;
      case 'OpportunityWon':
        next = doc && moveTo(doc, e.data.stage, 'won');
        break;
      case 'OpportunityLost':
        next = doc && { ...moveTo(doc, e.data.stage, 'lost'), lostReason: e.data.reason, ...(e.data.competitor ? { lostTo: e.data.competitor } : {}) };
        break;
      case 'OpportunityOwnerChanged':
        next = doc && { ...doc, ownerId: e.data.ownerId, departmentPath: await ownerPath(e.data.ownerId) };
        break;
    }
    if (next && next.closedAt === undefined) delete next.closedAt;
    return next && { ...next, ...stamp(event), _search: searchText(next.name, next.competitors) };
  },
  async beforeWrite(before, after, event, store) {
    const deltas = new CounterDeltas();
    funnelContribution(deltas, before, -1);
    funnelContribution(deltas, after, +1);
    if (before && after && before.stage !== after.stage)
      deltas.add(STAGE_EXITS, { day: dayOf(event.metadata.at), stage: before.stage, ownerId: before.ownerId }, { exits: 1, totalMs: new Date(event.metadata.at).getTime() - new Date(before.stageEnteredAt).getTime() });
    if (before && before.status !== 'open' && (!after || after.status === 'open' || after.ownerId !== before.ownerId || after.closedAt !== before.closedAt)) closeContribution(deltas, before, -1);
    if (after && after.status !== 'open' && (!before || before.status === 'open' || after.ownerId !== before.ownerId || after.closedAt !== before.closedAt)) closeContribution(deltas, after, +1);
    await deltas.apply(store, event);
  },
});

export const QUOTES = 'quotes';
export const ORDERS = 'orders';
export const SALES_MONTHLY = 'report_sales_monthly';

export const quotesProjection = recordProjection<Record_>({
  name: 'quotes',
  version: 1,
  category: 'quote',
  collection: QUOTES,
  owned: true,
  idOf: (event) => (event.data as { quoteId: string }).quoteId,
  async evolve(doc, event, ownerPath) {
    const e = event as RecordedEvent & QuoteEvent;
    let next: Record_ | null = doc;
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

type OrderDoc = Record_ & {
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
  version: 1,
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
    if (e.type === 'PaymentReceived' && before) deltas.add(SALES_MONTHLY, key(e.data.receivedAt.slice(0, 7), before), { orders: 0, orderAmount: 0, collected: e.data.amount });
    await deltas.apply(store, event);
  },
});
