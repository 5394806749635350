import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';

/**
 * The link between one ERP record (a kind and its erpCode) and the CRM record it feeds: which record, the last
 * ERP version applied, and the values that version had (the base of a three-way merge). A CRM edit made since the
 * last sync is never overwritten silently: where the ERP changed a field the CRM changed too, to another value, the
 * field is in conflict until someone settles it (`take: erp | crm`) or both sides come to agree.
 */
export const erpKinds = ['customer', 'product', 'contact', 'employee'] as const;
export type ErpKind = (typeof erpKinds)[number];
export const erpLinkCategory = 'erplink';
export const erpLinkId = (kind: ErpKind, erpCode: string): string => `${kind}.${encodeURIComponent(erpCode)}`;
export const erpLinkStream = (kind: ErpKind, erpCode: string): string => `${erpLinkCategory}-${erpLinkId(kind, erpCode)}`;

/** Field values as the CRM record holds them (absent and null are the same: empty). */
export type Values = Record<string, unknown>;

const Kind = z.enum(erpKinds);
const FieldConflict = z.object({ field: z.string(), erp: z.unknown(), crm: z.unknown(), base: z.unknown() });
export type FieldConflict = z.infer<typeof FieldConflict>;
const key = { linkId: z.string(), kind: Kind, erpCode: z.string() };

/** An ERP record was linked to a CRM record: one it created, one holding its tax number or name, or one chosen when a conflict was settled. */
export const ErpRecordLinked = z.object({ ...key, recordId: z.string(), erpVersion: z.number().int(), values: z.record(z.string(), z.unknown()), how: z.enum(['created', 'matched', 'relinked']) });
/** A newer ERP version was synced: `changes` are what it wrote to the CRM record (possibly nothing). */
export const ErpRecordSynced = z.object({ ...key, recordId: z.string(), erpVersion: z.number().int(), values: z.record(z.string(), z.unknown()), changes: z.record(z.string(), z.unknown()) });
/** The link was given up: its CRM record was linked to another ERP record when a conflict was settled. */
export const ErpRecordUnlinked = z.object({ ...key, recordId: z.string(), reason: z.string() });
/**
 * The ERP and the CRM disagree: `edited`, fields both changed since the last sync; `identity`, the CRM record
 * holding the ERP record's tax number (or name) is linked to another ERP record. Nothing conflicting was written.
 */
export const SyncConflict = z.object({
  ...key,
  conflictId: z.string(),
  recordId: z.string(),
  erpVersion: z.number().int(),
  reason: z.enum(['edited', 'identity']),
  fields: z.array(FieldConflict),
  values: z.record(z.string(), z.unknown()),
  /** The open conflict this one replaces (a newer ERP version arrived before it was settled). */
  supersedes: z.string().optional(),
});
/** A conflict settled: `erp` wrote the ERP's values, `crm` kept the CRM's, `converged` found both sides agreeing, `superseded` was replaced by a newer conflict. */
export const SyncConflictResolved = z.object({ ...key, conflictId: z.string(), recordId: z.string(), take: z.enum(['erp', 'crm', 'converged', 'superseded']), changes: z.record(z.string(), z.unknown()) });

/** A product linked to an ERP record (its event type predates schemas for the other product events). */
export const ProductErpLinked = z.object({ productId: z.string(), erpCode: z.string().min(1).max(40).nullable(), fromErpCode: z.string().nullable() });

export const erpLinkEventSchemas = { ErpRecordLinked, ErpRecordSynced, ErpRecordUnlinked, SyncConflict, SyncConflictResolved };
export type ErpLinkEvent = EventsOf<typeof erpLinkEventSchemas>;

export interface OpenConflict {
  conflictId: string;
  reason: 'edited' | 'identity';
  recordId: string;
  erpVersion: number;
  fields: FieldConflict[];
  values: Values;
}

export type ErpLinkState =
  | { status: 'none'; kind?: ErpKind; erpCode?: string; erpVersion?: number; open?: OpenConflict }
  | { status: 'linked'; kind: ErpKind; erpCode: string; recordId: string; erpVersion: number; base: Values; open?: OpenConflict };

export type ErpLinkCommand =
  /** Link to a CRM record (new, or matched), applying `values` (version `erpVersion`). */
  | { type: 'LinkErpRecord'; kind: ErpKind; erpCode: string; recordId: string; erpVersion: number; values: Values; how: 'created' | 'matched' }
  /** Sync a newer version onto the linked record, whose values are `current` now: decides what to write and what is in conflict. */
  | { type: 'SyncErpRecord'; erpVersion: number; values: Values; current: Values; conflictId: string }
  /** The record holding the ERP record's unique value is linked to another ERP record. */
  | { type: 'RaiseIdentityConflict'; kind: ErpKind; erpCode: string; erpVersion: number; values: Values; holderId: string; holderErpCode: string; field: string; conflictId: string }
  /** Settle the open conflict `conflictId`; `current` is the CRM record's values now (for `edited`). */
  | { type: 'ResolveSyncConflict'; conflictId: string; take: 'erp' | 'crm'; current: Values }
  /** Its CRM record was linked to another ERP record. */
  | { type: 'UnlinkErpRecord'; reason: string };

export const initialState: ErpLinkState = { status: 'none' };

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const valueOf = (values: Values, field: string): unknown => values[field] ?? null;

/**
 * The three-way merge of one ERP version onto the CRM record: per field, `base` is what the ERP said last time,
 * `current` what the CRM holds, `incoming` what the ERP says now. Changed only by the ERP: written. Changed by both
 * to different values: a conflict. A field already in conflict stays there (with the newest values) until both
 * sides agree on it.
 */
export function mergeErpValues(base: Values, current: Values, incoming: Values, inConflict: readonly FieldConflict[] = []): { changes: Values; conflicts: FieldConflict[] } {
  const changes: Values = {};
  const conflicts: FieldConflict[] = [];
  const sticky = new Map(inConflict.map((conflict) => [conflict.field, conflict]));
  for (const field of Object.keys(incoming).sort()) {
    const erp = valueOf(incoming, field);
    const crm = valueOf(current, field);
    const was = sticky.get(field);
    if (was) {
      if (!same(erp, crm)) conflicts.push({ field, erp, crm, base: was.base });
      continue;
    }
    const before = valueOf(base, field);
    const erpChanged = !same(erp, before);
    const crmChanged = !same(crm, before);
    if (!erpChanged || same(erp, crm)) continue;
    if (crmChanged) conflicts.push({ field, erp, crm, base: before });
    else changes[field] = erp;
  }
  return { changes, conflicts };
}

export function evolve(state: ErpLinkState, event: ErpLinkEvent): ErpLinkState {
  switch (event.type) {
    case 'ErpRecordLinked': {
      const { kind, erpCode, recordId, erpVersion, values } = event.data;
      return { status: 'linked', kind, erpCode, recordId, erpVersion, base: values };
    }
    case 'ErpRecordSynced':
      return state.status === 'linked' ? { ...state, erpVersion: event.data.erpVersion, base: event.data.values } : state;
    case 'ErpRecordUnlinked': {
      const { kind, erpCode } = event.data;
      return { status: 'none', kind, erpCode, ...(state.erpVersion !== undefined ? { erpVersion: state.erpVersion } : {}) };
    }
    case 'SyncConflict': {
      const { conflictId, reason, recordId, erpVersion, fields, values, kind, erpCode } = event.data;
      const open: OpenConflict = { conflictId, reason, recordId, erpVersion, fields, values };
      // An identity conflict leaves the ERP record unlinked, but its version counts as seen (a redelivery changes nothing).
      return state.status === 'linked' ? { ...state, open } : { status: 'none', kind, erpCode, erpVersion, open };
    }
    case 'SyncConflictResolved': {
      if (state.open?.conflictId !== event.data.conflictId) return state;
      const { open: _settled, ...rest } = state;
      return rest as ErpLinkState;
    }
  }
}

const noConflict = (conflictId: string) => new DomainError('erp.conflict_closed', `Sync conflict ${conflictId} is not open (settled or replaced by a newer one)`, { conflictId });

export function decide(command: ErpLinkCommand, state: ErpLinkState): ErpLinkEvent[] {
  switch (command.type) {
    case 'LinkErpRecord': {
      const { kind, erpCode, recordId, erpVersion, values, how } = command;
      if (state.erpVersion !== undefined && erpVersion <= state.erpVersion) return [];
      const linkId = erpLinkId(kind, erpCode);
      const settled: ErpLinkEvent[] = state.open ? [{ type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: state.open.conflictId, recordId: state.open.recordId, take: 'superseded', changes: {} } }] : [];
      return [...settled, { type: 'ErpRecordLinked', data: { linkId, kind, erpCode, recordId, erpVersion, values, how } }];
    }
    case 'SyncErpRecord': {
      if (state.status !== 'linked') throw new DomainError('erp.not_linked', 'The ERP record is not linked to a CRM record');
      if (command.erpVersion <= state.erpVersion) return [];
      const { kind, erpCode, recordId } = state;
      const linkId = erpLinkId(kind, erpCode);
      const open = state.open?.reason === 'edited' ? state.open : undefined;
      const { changes, conflicts } = mergeErpValues(state.base, command.current, command.values, open?.fields);
      const events: ErpLinkEvent[] = [{ type: 'ErpRecordSynced', data: { linkId, kind, erpCode, recordId, erpVersion: command.erpVersion, values: command.values, changes } }];
      if (state.open && conflicts.length === 0) events.push({ type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: state.open.conflictId, recordId: state.open.recordId, take: 'converged', changes: {} } });
      if (conflicts.length > 0) {
        if (state.open) events.push({ type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: state.open.conflictId, recordId: state.open.recordId, take: 'superseded', changes: {} } });
        events.push({
          type: 'SyncConflict',
          data: { linkId, kind, erpCode, conflictId: command.conflictId, recordId, erpVersion: command.erpVersion, reason: 'edited', fields: conflicts, values: command.values, ...(state.open ? { supersedes: state.open.conflictId } : {}) },
        });
      }
      return events;
    }
    case 'RaiseIdentityConflict': {
      const { kind, erpCode, erpVersion, values, holderId, holderErpCode, field, conflictId } = command;
      if (state.status === 'linked') throw new DomainError('erp.already_linked', 'The ERP record is linked already');
      if (state.erpVersion !== undefined && erpVersion <= state.erpVersion) return [];
      const linkId = erpLinkId(kind, erpCode);
      const events: ErpLinkEvent[] = state.open ? [{ type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: state.open.conflictId, recordId: state.open.recordId, take: 'superseded', changes: {} } }] : [];
      events.push({
        type: 'SyncConflict',
        data: { linkId, kind, erpCode, conflictId, recordId: holderId, erpVersion, reason: 'identity', fields: [{ field: 'erpCode', erp: erpCode, crm: holderErpCode, base: null }, { field, erp: values[field] ?? null, crm: values[field] ?? null, base: null }], values, ...(state.open ? { supersedes: state.open.conflictId } : {}) },
      });
      return events;
    }
    case 'ResolveSyncConflict': {
      const open = state.open;
      if (!open || open.conflictId !== command.conflictId || state.kind === undefined || state.erpCode === undefined) throw noConflict(command.conflictId);
      const linkId = erpLinkId(state.kind, state.erpCode);
      const { kind, erpCode } = state;
      if (open.reason === 'identity') {
        const resolved: ErpLinkEvent = { type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: open.conflictId, recordId: open.recordId, take: command.take, changes: {} } };
        if (command.take === 'crm') return [resolved];
        // The ERP is right: its record takes over the CRM record (whose old link the caller gives up).
        return [resolved, { type: 'ErpRecordLinked', data: { linkId, kind, erpCode, recordId: open.recordId, erpVersion: open.erpVersion, values: open.values, how: 'relinked' } }];
      }
      const changes: Values = {};
      if (command.take === 'erp') for (const { field, erp } of open.fields) if (!same(erp, command.current[field])) changes[field] = erp;
      return [{ type: 'SyncConflictResolved', data: { linkId, kind, erpCode, conflictId: open.conflictId, recordId: open.recordId, take: command.take, changes } }];
    }
    case 'UnlinkErpRecord': {
      if (state.status !== 'linked') return [];
      const { kind, erpCode, recordId } = state;
      return [{ type: 'ErpRecordUnlinked', data: { linkId: erpLinkId(kind, erpCode), kind, erpCode, recordId, reason: command.reason } }];
    }
  }
}

export const erpLinkDecider = { initialState, evolve, decide };
