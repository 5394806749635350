import { erpLinkCategory, type ErpLinkEvent, type FieldConflict } from '../domain/erp/link.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc } from '../infra/readstore/port.ts';
import { alreadyApplied, type Projection } from './projection.ts';

export const ERP_CONFLICTS = 'erp_conflicts';
export const ERP_LINKS = 'erp_links';

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

/** The ERP bridge's read models: the conflicts to settle, and every link with its last version (the bridge's status). */
export const erpProjection: Projection = {
  name: 'erp',
  version: 1,
  categories: [erpLinkCategory],
  collections: [ERP_CONFLICTS, ERP_LINKS],
  async setup(store) {
    await store.collection(ERP_CONFLICTS).createIndex({ status: 1, raisedAt: -1 });
    await store.collection(ERP_CONFLICTS).createIndex({ recordId: 1 });
    await store.collection(ERP_LINKS).createIndex({ recordId: 1 });
  },
  async apply(recorded, store) {
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
