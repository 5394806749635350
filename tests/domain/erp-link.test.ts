import { describe, expect, it } from 'vitest';
import { type ErpLinkEvent, erpLinkDecider, erpLinkId, erpLinkStream, mergeErpValues } from '../../src/domain/erp/link.ts';
import { specFor } from '../support/spec.ts';

const spec = specFor(erpLinkDecider);
const kind = 'customer' as const;
const erpCode = 'C-001';
const linkId = erpLinkId(kind, erpCode);
const v1 = { name: '上海精工', phone: '021-1111', address: '浦东' };
const linked: ErpLinkEvent = { type: 'ErpRecordLinked', data: { linkId, kind, erpCode, recordId: 'c1', erpVersion: 1, values: v1, how: 'created' } };
const sync = (erpVersion: number, values: Record<string, unknown>, current: Record<string, unknown>) => ({ type: 'SyncErpRecord' as const, erpVersion, values, current, conflictId: `k${erpVersion}` });
const conflict = (erpVersion: number, fields: { field: string; erp: unknown; crm: unknown; base: unknown }[], values: Record<string, unknown>, supersedes?: string): ErpLinkEvent => ({
  type: 'SyncConflict',
  data: { linkId, kind, erpCode, conflictId: `k${erpVersion}`, recordId: 'c1', erpVersion, reason: 'edited', fields, values, ...(supersedes ? { supersedes } : {}) },
});
const synced = (erpVersion: number, values: Record<string, unknown>, changes: Record<string, unknown>): ErpLinkEvent => ({ type: 'ErpRecordSynced', data: { linkId, kind, erpCode, recordId: 'c1', erpVersion, values, changes } });

describe('the three-way merge of an ERP version', () => {
  it('writes what only the ERP changed, keeps what only the CRM changed, and reports what both changed differently', () => {
    const base = { name: 'A', phone: '1', address: 'x', shortName: null };
    const current = { name: 'A', phone: '2', address: 'y', shortName: 'S' };
    const incoming = { name: 'B', phone: '1', address: 'z', shortName: 'S' };
    expect(mergeErpValues(base, current, incoming)).toEqual({ changes: { name: 'B' }, conflicts: [{ field: 'address', erp: 'z', crm: 'y', base: 'x' }] });
  });

  it('treats absent and null alike, and compares structured values (money) by value', () => {
    const price = { amount: 100, currency: 'CNY' };
    expect(mergeErpValues({ standardPrice: price, spec: null }, { standardPrice: { amount: 100, currency: 'CNY' } }, { standardPrice: { amount: 120, currency: 'CNY' } })).toEqual({ changes: { standardPrice: { amount: 120, currency: 'CNY' } }, conflicts: [] });
  });

  it('keeps a field in conflict until both sides agree on it', () => {
    const open = [{ field: 'phone', erp: '3', crm: '2', base: '1' }];
    expect(mergeErpValues({ phone: '3' }, { phone: '2' }, { phone: '3' }, open).conflicts).toEqual([{ field: 'phone', erp: '3', crm: '2', base: '1' }]);
    expect(mergeErpValues({ phone: '3' }, { phone: '2' }, { phone: '2' }, open)).toEqual({ changes: {}, conflicts: [] });
  });
});

describe('an ERP link', () => {
  it('names its stream by kind and ERP code, whatever characters the code has', () => {
    expect(erpLinkStream('product', 'A/B 1')).toBe('erplink-product.A%2FB%201');
  });

  it('links once per version: the same or an older version changes nothing', () => {
    spec.given([]).when({ type: 'LinkErpRecord', kind, erpCode, recordId: 'c1', erpVersion: 1, values: v1, how: 'created' }).then([linked]);
    spec.given([linked]).when({ type: 'LinkErpRecord', kind, erpCode, recordId: 'c1', erpVersion: 1, values: v1, how: 'matched' }).thenNothing();
    spec.given([linked]).when(sync(1, { ...v1, name: 'X' }, v1)).thenNothing();
    spec.given([linked, synced(3, v1, {})]).when(sync(2, { ...v1, name: 'X' }, v1)).thenNothing();
  });

  it('syncs a newer version: the ERP-only change is written', () => {
    const v2 = { ...v1, phone: '021-2222' };
    spec.given([linked]).when(sync(2, v2, v1)).then([synced(2, v2, { phone: '021-2222' })]);
  });

  it('a CRM edit since the last sync and an ERP change of the same field become a conflict; the rest is written', () => {
    const v2 = { ...v1, phone: '021-2222', address: '浦西' };
    const current = { ...v1, phone: '021-9999' };
    spec
      .given([linked])
      .when(sync(2, v2, current))
      .then([synced(2, v2, { address: '浦西' }), conflict(2, [{ field: 'phone', erp: '021-2222', crm: '021-9999', base: '021-1111' }], v2)]);
  });

  it('a newer version supersedes an open conflict, and one on which both sides agree settles it', () => {
    const v2 = { ...v1, phone: '021-2222' };
    const open = conflict(2, [{ field: 'phone', erp: '021-2222', crm: '021-9999', base: '021-1111' }], v2);
    const v3 = { ...v2, phone: '021-3333' };
    spec
      .given([linked, synced(2, v2, {}), open])
      .when(sync(3, v3, { ...v1, phone: '021-9999' }))
      .then([
        synced(3, v3, {}),
        { type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: 'k2', recordId: 'c1', take: 'superseded', changes: {} } },
        conflict(3, [{ field: 'phone', erp: '021-3333', crm: '021-9999', base: '021-1111' }], v3, 'k2'),
      ]);
    const v4 = { ...v2, phone: '021-9999' };
    spec
      .given([linked, synced(2, v2, {}), open])
      .when(sync(4, v4, { ...v1, phone: '021-9999' }))
      .then([synced(4, v4, {}), { type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: 'k2', recordId: 'c1', take: 'converged', changes: {} } }]);
  });

  it('settling an edit conflict: erp writes the ERP values still different, crm writes nothing', () => {
    const v2 = { ...v1, phone: '021-2222' };
    const open = conflict(2, [{ field: 'phone', erp: '021-2222', crm: '021-9999', base: '021-1111' }], v2);
    spec.given([linked, synced(2, v2, {}), open]).when({ type: 'ResolveSyncConflict', conflictId: 'k2', take: 'erp', current: { phone: '021-9999' } }).then([{ type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: 'k2', recordId: 'c1', take: 'erp', changes: { phone: '021-2222' } } }]);
    spec.given([linked, synced(2, v2, {}), open]).when({ type: 'ResolveSyncConflict', conflictId: 'k2', take: 'crm', current: { phone: '021-9999' } }).then([{ type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: 'k2', recordId: 'c1', take: 'crm', changes: {} } }]);
    spec.given([linked, synced(2, v2, {}), open]).when({ type: 'ResolveSyncConflict', conflictId: 'k1', take: 'crm', current: {} }).thenThrows('erp.conflict_closed');
    spec.given([linked]).when({ type: 'ResolveSyncConflict', conflictId: 'k2', take: 'erp', current: {} }).thenThrows('erp.conflict_closed');
  });

  it('an identity conflict leaves the ERP record unlinked but its version seen; erp relinks the holder, crm leaves it', () => {
    const identity = { type: 'RaiseIdentityConflict' as const, kind, erpCode, erpVersion: 1, values: { ...v1, taxNumber: '91310000X' }, holderId: 'c9', holderErpCode: 'C-900', field: 'taxNumber', conflictId: 'i1' };
    const raised: ErpLinkEvent = {
      type: 'SyncConflict',
      data: { linkId, kind, erpCode, conflictId: 'i1', recordId: 'c9', erpVersion: 1, reason: 'identity', fields: [{ field: 'erpCode', erp: erpCode, crm: 'C-900', base: null }, { field: 'taxNumber', erp: '91310000X', crm: '91310000X', base: null }], values: identity.values },
    };
    spec.given([]).when(identity).then([raised]);
    spec.given([raised]).when(identity).thenNothing();
    spec.given([linked]).when(identity).thenThrows('erp.already_linked');
    spec
      .given([raised])
      .when({ type: 'ResolveSyncConflict', conflictId: 'i1', take: 'erp', current: {} })
      .then([
        { type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: 'i1', recordId: 'c9', take: 'erp', changes: {} } },
        { type: 'ErpRecordLinked', data: { linkId, kind, erpCode, recordId: 'c9', erpVersion: 1, values: identity.values, how: 'relinked' } },
      ]);
    spec.given([raised]).when({ type: 'ResolveSyncConflict', conflictId: 'i1', take: 'crm', current: {} }).then([{ type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: 'i1', recordId: 'c9', take: 'crm', changes: {} } }]);
    // A later version may link (the holder let go of the value) and supersedes the open conflict.
    spec
      .given([raised])
      .when({ type: 'LinkErpRecord', kind, erpCode, recordId: 'c2', erpVersion: 2, values: v1, how: 'created' })
      .then([
        { type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: 'i1', recordId: 'c9', take: 'superseded', changes: {} } },
        { type: 'ErpRecordLinked', data: { linkId, kind, erpCode, recordId: 'c2', erpVersion: 2, values: v1, how: 'created' } },
      ]);
  });

  it('unlinks a linked record only', () => {
    spec.given([linked]).when({ type: 'UnlinkErpRecord', reason: 'relinked' }).then([{ type: 'ErpRecordUnlinked', data: { linkId, kind, erpCode, recordId: 'c1', reason: 'relinked' } }]);
    spec.given([]).when({ type: 'UnlinkErpRecord', reason: 'relinked' }).thenNothing();
    spec.given([linked]).when(sync(2, v1, v1)).then([synced(2, v1, {})]);
    spec.given([]).when(sync(2, v1, v1)).thenThrows('erp.not_linked');
  });
});
