import { erpLinkCategory, type ErpLinkEvent, type FieldConflict } from '../domain/erp/link.ts';
import { erpFactCategory, type ErpFactEvent } from '../domain/erp/facts.ts';
import type { Money } from '../domain/shared/money.ts';
import { categoryOf, type RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { alreadyApplied, type Projection } from './projection.ts';

export const ERP_CONFLICTS = 'erp_conflicts';
export const ERP_LINKS = 'erp_links';
export const ERP_INVENTORY = 'erp_inventory';
export const ERP_RECEIVABLES = 'erp_receivables';
export const ERP_ACKS = 'erp_acks';

/** A sync conflict of the ERP bridge, open until settled (or replaced by a newer one). */
export type ErpConflictDoc = Doc & {
  id: string;
  linkId: string;
  kind: string;
  erpCode: string;
  recordId: string;
  erpVersion: number;
  reason: 'edited' | 'identity';
  fields: FieldConflict[];
  status: 'open' | 'resolved' | 'superseded';
  raisedAt: string;
  supersedes?: string;
  take?: string;
  resolvedAt?: string;
  resolvedBy?: string;
  _position: number;
};

/** One ERP record's link: the CRM record it feeds and the last ERP version synced. */
export type ErpLinkDoc = Doc & { kind: string; erpCode: string; recordId: string | null; erpVersion: number | null; syncedAt: string; openConflictId: string | null; _position: number };

/** A product's stock in one warehouse, as the ERP last reported it (found by the product's erpCode). */
export type ErpInventoryDoc = Doc & { productErpCode: string; warehouse: string; quantity: number; available?: number; asOf: string; erpVersion: number; _position: number };
/** The ERP's last answer under one of its document numbers (`_id`); `known`: the CRM had the order. */
export type ErpAckDoc = Doc & { orderId: string; orderVersion: number; status: 'accepted' | 'rejected'; reason?: string; at: string; known: boolean; erpVersion: number; receivedAt: string; _position: number };
/** A customer's receivables in the ERP (`_id`: the customer's erpCode). */
export type ErpReceivableDoc = Doc & { balance: Money; overdue?: Money; asOf: string; erpVersion: number; _position: number };

/**
 * The ERP bridge's read models: the conflicts to settle, every link with its last version (the bridge's status), and
 * the facts the ERP reports: stock per product and warehouse, receivables per customer.
 */
export const erpProjection: Projection = {
  name: 'erp',
  version: 3,
  categories: [erpLinkCategory, erpFactCategory],
  collections: [ERP_CONFLICTS, ERP_LINKS, ERP_INVENTORY, ERP_RECEIVABLES, ERP_ACKS],
  async setup(store) {
    await store.collection(ERP_CONFLICTS).createIndex({ status: 1, raisedAt: -1 });
    await store.collection(ERP_CONFLICTS).createIndex({ recordId: 1 });
    await store.collection(ERP_LINKS).createIndex({ recordId: 1 });
    await store.collection(ERP_INVENTORY).createIndex({ productErpCode: 1 });
    await store.collection(ERP_ACKS).createIndex({ known: 1 });
  },
  async apply(recorded, store) {
    if (categoryOf(recorded.streamId) === erpFactCategory) return applyFact(recorded as RecordedEvent & ErpFactEvent, store);
    const event = recorded as RecordedEvent & ErpLinkEvent;
    const links = store.collection<ErpLinkDoc>(ERP_LINKS);
    const link = await links.findOne({ _id: event.data.linkId });
    if (alreadyApplied(link, recorded)) return;
    const { linkId, kind, erpCode } = event.data;
    const at = recorded.metadata.at;
    const base: ErpLinkDoc = link ?? { _id: linkId, kind, erpCode, recordId: null, erpVersion: null, syncedAt: at, openConflictId: null, _position: 0 };
    const conflicts = store.collection<ErpConflictDoc>(ERP_CONFLICTS);
    let next: ErpLinkDoc = { ...base, _position: Number(recorded.position) };
    switch (event.type) {
      case 'ErpRecordLinked':
      case 'ErpRecordSynced':
        next = { ...next, recordId: event.data.recordId, erpVersion: event.data.erpVersion, syncedAt: at };
        break;
      case 'ErpRecordUnlinked':
        next = { ...next, recordId: null };
        break;
      case 'SyncConflict': {
        const { conflictId, recordId, erpVersion, reason, fields, supersedes } = event.data;
        await conflicts.replaceOne(
          { _id: conflictId },
          { _id: conflictId, id: conflictId, linkId, kind, erpCode, recordId, erpVersion, reason, fields, status: 'open', raisedAt: at, ...(supersedes ? { supersedes } : {}), _position: Number(recorded.position) },
          { upsert: true },
        );
        next = { ...next, erpVersion: Math.max(erpVersion, next.erpVersion ?? 0), openConflictId: conflictId };
        break;
      }
      case 'SyncConflictResolved': {
        const { conflictId, take } = event.data;
        await conflicts.updateOne({ _id: conflictId }, { $set: { status: take === 'superseded' ? 'superseded' : 'resolved', take, resolvedAt: at, resolvedBy: recorded.metadata.actor, _position: Number(recorded.position) } });
        if (next.openConflictId === conflictId) next = { ...next, openConflictId: null };
        break;
      }
    }
    await links.replaceOne({ _id: linkId }, next, { upsert: true });
  },
};

async function applyFact(event: RecordedEvent & ErpFactEvent, store: ReadStore): Promise<void> {
  const position = Number(event.position);
  if (event.type === 'ErpInventoryReported') {
    const { productErpCode, warehouse, ...rest } = event.data;
    const id = `${productErpCode}\u0000${warehouse}`;
    const docs = store.collection<ErpInventoryDoc>(ERP_INVENTORY);
    if (alreadyApplied(await docs.findOne({ _id: id }), event)) return;
    await docs.replaceOne({ _id: id }, { _id: id, productErpCode, warehouse, ...rest, _position: position }, { upsert: true });
  } else if (event.type === 'ErpOrderAckReceived') {
    const { erpDocumentNumber, ...rest } = event.data;
    const docs = store.collection<ErpAckDoc>(ERP_ACKS);
    if (alreadyApplied(await docs.findOne({ _id: erpDocumentNumber }), event)) return;
    await docs.replaceOne({ _id: erpDocumentNumber }, { _id: erpDocumentNumber, ...rest, receivedAt: event.metadata.at, _position: position }, { upsert: true });
  } else {
    const { customerErpCode, ...rest } = event.data;
    const docs = store.collection<ErpReceivableDoc>(ERP_RECEIVABLES);
    if (alreadyApplied(await docs.findOne({ _id: customerErpCode }), event)) return;
    await docs.replaceOne({ _id: customerErpCode }, { _id: customerErpCode, ...rest, _position: position }, { upsert: true });
  }
}

/** A product's stock per warehouse as the ERP reports it (none for a product not linked to the ERP). */
export async function inventoryOf(store: ReadStore, productErpCode: string | null | undefined) {
  if (!productErpCode) return [];
  const rows = await store.collection<ErpInventoryDoc>(ERP_INVENTORY).find({ productErpCode }, { sort: { warehouse: 1 } });
  return rows.map(({ warehouse, quantity, available, asOf }) => ({ warehouse, quantity, ...(available !== undefined ? { available } : {}), asOf }));
}

/** A customer's receivables as the ERP reports them; null when the ERP has reported none. */
export async function receivableOf(store: ReadStore, customerErpCode: string | null | undefined) {
  if (!customerErpCode) return null;
  const doc = await store.collection<ErpReceivableDoc>(ERP_RECEIVABLES).findOne({ _id: customerErpCode });
  return doc ? { balance: doc.balance, ...(doc.overdue ? { overdue: doc.overdue } : {}), asOf: doc.asOf } : null;
}
