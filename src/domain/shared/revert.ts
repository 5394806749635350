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

/**
 * The revert of a record type whose batches only change owners (a handover moves leads, opportunities, quotes and
 * orders): its owner-change event back to the earlier owner. Any other difference is refused (`batch.not_undoable`),
 * never half reverted.
 */
export function revertOwner<S extends { status: string }>(type: string, idField: string): Revert<S, DomainEvent> {
  return (before, now) => {
    const id = String((now as Record<string, unknown>)[idField] ?? (before as Record<string, unknown>)[idField] ?? '');
    if (before.status === 'none' || now.status === 'none') throw notUndoable(id);
    const { ownerId: was, ...restBefore } = before as S & { ownerId: string };
    const { ownerId: is, ...restNow } = now as S & { ownerId: string };
    if (!same(restBefore, restNow)) throw notUndoable(id);
    return was === is ? [] : [{ type, data: { [idField]: id, fromOwnerId: is, ownerId: was } }];
  };
}
