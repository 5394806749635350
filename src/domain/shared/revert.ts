import { z } from 'zod';
import type { DomainEvent } from './decider.ts';
import { DomainError } from './errors.ts';

/**
 * What an undo needs of every record type: the events that take a record from its state now back to its state
 * before a batch (pure; `[]` when they are equal). Each record type writes its own (see customer/revert.ts).
 */
export type Revert<S, E> = (before: S, now: S) => E[];

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The change set that turns the fields `now` back into `before`: each field that differs gets its earlier value,
 * a field that did not exist before is cleared (null). Custom values count as one field each (`custom.<key>`).
 */
export function revertFields(now: Record<string, unknown>, before: Record<string, unknown>): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  const nowCustom = (now.custom ?? {}) as Record<string, unknown>;
  const beforeCustom = (before.custom ?? {}) as Record<string, unknown>;
  for (const key of new Set([...Object.keys(now), ...Object.keys(before)])) {
    if (key === 'custom') continue;
    if (!same(now[key] ?? null, before[key] ?? null)) changes[key] = before[key] ?? null;
  }
  for (const key of new Set([...Object.keys(nowCustom), ...Object.keys(beforeCustom)])) {
    if (!same(nowCustom[key] ?? null, beforeCustom[key] ?? null)) changes[`custom.${key}`] = beforeCustom[key] ?? null;
  }
  return changes;
}

/** A record an undo cannot put back: its record type does not revert what the batch changed. */
export const notUndoable = (id: string) => new DomainError('batch.not_undoable', `Record ${id} was changed in a way an undo cannot revert`, { recordId: id });

/** Two states compared as data (key order aside). */
const sameState = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v));

/**
 * A record type's own way of pointing a record at another record it belongs to (a merge of customers or contacts):
 * the events, [] when it points there already.
 */
export type MoveTo = (state: never, targetId: string) => DomainEvent[];

/** A reference of a record (`customerId`, `contactId`): on the record (quotes, orders, contacts) or in its fields. */
export function referenceOf(state: unknown, field: string): string | undefined {
  const record = state as Record<string, unknown> & { fields?: Record<string, unknown> };
  const id = record[field] ?? record.fields?.[field];
  return typeof id === 'string' ? id : undefined;
}

const idOf = (state: unknown, idField: string): string => String((state as Record<string, unknown>)[idField] ?? '');

/** A move written as the record type's field change: `<Type>Changed { <idField>, changes: { <field>: target } }`. */
export const moveByChange = (type: string, idField: string, field = 'customerId'): MoveTo => (state, targetId) =>
  referenceOf(state, field) === targetId ? [] : [{ type, data: { [idField]: idOf(state, idField), changes: { [field]: targetId } } }];

/** The schema of a move event of its own (`QuoteMoved`): the record, the customer it left and the one it joined. */
export const RecordMoved = (idField: string) => z.object({ [idField]: z.string(), fromCustomerId: z.string(), customerId: z.string() });

/** A move to another customer written as an event of its own: `<Type>Moved { <idField>, fromCustomerId, customerId }`. */
export const moveByEvent = (type: string, idField: string): MoveTo => (state, customerId) => {
  const from = referenceOf(state, 'customerId');
  return from === customerId ? [] : [{ type, data: { [idField]: idOf(state, idField), fromCustomerId: from, customerId } }];
};

/** The schema of a creation undone (`ProductDiscarded`): the record is gone, as if never created; its history stays. */
export const RecordDiscarded = (idField: string) => z.object({ [idField]: z.string() });
/**
 * The schema of a discarded record brought back as it was (`ProductReinstated`, an undone undo): its fields (where
 * personal values are sealed, as in a creation) and the rest of its state.
 */
export const RecordReinstated = (idField: string) => z.object({ [idField]: z.string(), fields: z.record(z.string(), z.unknown()), state: z.record(z.string(), z.unknown()) });

/** The state a `<Type>Reinstated` event brings back. */
export const reinstatedState = <S>(data: { fields: unknown; state: Record<string, unknown> }): S => ({ ...data.state, fields: data.fields }) as S;

/** What a batch may have done to a record type's records, and so what its revert puts back (all optional). */
export interface RevertHow {
  /** Its owner-change event type: a handover or a mass assign gave the record to someone. */
  owner?: string;
  /** How a merge points it at another record, by reference field (`customerId`, `contactId`): the revert moves it back. */
  moves?: Readonly<Record<string, MoveTo>>;
  /** Its merge into another record of its type undone and redone (a contact): `Merged { <idField>, survivorId }`, `Unmerged { <idField> }`. */
  merged?: { merged: string; unmerged: string };
  /** Its field-change event type (`ProductChanged { <idField>, changes }`): an import's or a mass update's changes go back with it. */
  changed?: string;
  /** Its creation undone and redone (an import's records): `Discarded { <idField> }`, `Reinstated { <idField>, fields, state }`. */
  created?: { discarded: string; reinstated: string };
}

/**
 * The revert of a record type (see `Revert`), built from what its batches may do to it (`how`): the record is
 * discarded or reinstated, unmerged (or merged again), its fields changed back, moved back to its customer or contact,
 * given back to its owner. It must then be as it was before, or nothing is written and the record is reported
 * (`batch.not_undoable`), never half reverted. Spread into the record type's registry entry (with `moves`, which a
 * merge uses too).
 */
export function revertible<S extends { status: string }>(
  decider: { evolve(state: S, event: never): S },
  idField: string,
  how: RevertHow,
): { revert: Revert<S, DomainEvent>; moves?: Readonly<Record<string, MoveTo>> } {
  const revert: Revert<S, DomainEvent> = (before, now) => {
    const id = idOf(now, idField) || idOf(before, idField);
    if (before.status === 'none' && now.status === 'none') return [];
    const events: DomainEvent[] = [];
    if (before.status === 'none') {
      if (!how.created) throw notUndoable(id);
      events.push({ type: how.created.discarded, data: { [idField]: id } });
    } else if (now.status === 'none') {
      if (!how.created) throw notUndoable(id);
      const { fields, ...state } = before as S & { fields?: unknown };
      events.push({ type: how.created.reinstated, data: { [idField]: id, fields: fields ?? {}, state } });
    } else {
      const isMerged = (state: S) => state.status === 'merged';
      if (how.merged && isMerged(now) && !isMerged(before)) events.push({ type: how.merged.unmerged, data: { [idField]: id } });
      const fields = (state: S) => ((state as { fields?: Record<string, unknown> }).fields ?? {});
      const changes = how.changed ? revertFields(fields(now), fields(before)) : {};
      // (A merge's move is a change of a reference field for some record types: the move says it, not the changes.)
      const moved = Object.entries(how.moves ?? {}).flatMap(([field, move]) => {
        const was = referenceOf(before, field);
        return was !== undefined && was !== referenceOf(now, field) ? [{ field, move, was }] : [];
      });
      for (const { field } of moved) delete changes[field];
      if (Object.keys(changes).length) events.push({ type: how.changed!, data: { [idField]: id, changes } });
      for (const { move, was } of moved) events.push(...move(now as never, was));
      const owners = { was: (before as { ownerId?: unknown }).ownerId, is: (now as { ownerId?: unknown }).ownerId };
      if (how.owner && owners.was !== owners.is) events.push({ type: how.owner, data: { [idField]: id, fromOwnerId: owners.is, ownerId: owners.was } });
      if (how.merged && isMerged(before) && !isMerged(now)) events.push({ type: how.merged.merged, data: { [idField]: id, survivorId: (before as { mergedInto?: string }).mergedInto } });
    }
    const reached = events.reduce((state, event) => decider.evolve(state, event as never), now);
    if (!sameState(reached, before)) throw notUndoable(id);
    return events;
  };
  return how.moves ? { revert, moves: how.moves } : { revert };
}
