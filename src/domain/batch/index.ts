import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';

/**
 * A batch (批量操作): one bulk operation (an import run, a merge, a handover, a pool return run, a mass update or
 * assign, an undo), stream `batch-<id>`. Every event the operation writes to a record carries the batch id in its
 * metadata, so the batch can be listed, audited and undone: an undo is a batch of its own (`undoes` names the
 * batch it reverts), so it can be undone too.
 */
export const BATCH_KINDS = ['import', 'merge', 'handover', 'pool-return', 'mass-update', 'mass-assign', 'undo'] as const;
export type BatchKind = (typeof BATCH_KINDS)[number];

export const batchKindLabels: Record<BatchKind, { 'zh-CN': string; en: string }> = {
  import: { 'zh-CN': '数据导入', en: 'Import' },
  merge: { 'zh-CN': '合并重复客户', en: 'Merge duplicates' },
  handover: { 'zh-CN': '离职交接', en: 'Handover' },
  'pool-return': { 'zh-CN': '自动退回公海', en: 'Return to the pool' },
  'mass-update': { 'zh-CN': '批量修改', en: 'Mass update' },
  'mass-assign': { 'zh-CN': '批量分配', en: 'Mass assign' },
  undo: { 'zh-CN': '撤销', en: 'Undo' },
};

/** A record an undo left alone, and why. */
export const BatchConflict = z.object({
  resource: z.string(),
  recordId: z.string(),
  reason: z.enum(['changed_after_batch', 'not_in_scope', 'not_undoable', 'value_taken', 'refused']).describe(
    'changed_after_batch: someone changed it after the batch (undo with force to overwrite); not_in_scope: outside your data scope; not_undoable: a record type an undo cannot revert; value_taken: its earlier name or code is held by another record now; refused: the change was refused for this record (`code` says why)',
  ),
  /** The error code of a refused change (e.g. customer.duplicate). */
  code: z.string().optional(),
  /** Who changed it after the batch (changed_after_batch). */
  changedBy: z.string().optional(),
});
export type BatchConflict = z.infer<typeof BatchConflict>;

/** The conflicts a completion keeps (the count is exact; the list stops here). */
export const MAX_LISTED_CONFLICTS = 1_000;

export const BatchStarted = z.object({
  batchId: z.string(),
  kind: z.enum(BATCH_KINDS),
  /** The record type it works on (an undo: the undone batch's). */
  resource: z.string(),
  /** What it was asked to do (a filter and the values set, the handover's two people…), as the list shows it. */
  summary: z.record(z.string(), z.unknown()),
  /** An undo: the batch it reverts, and whether it overwrites later changes. */
  undoes: z.string().optional(),
  force: z.boolean().optional(),
});
export const BatchCompleted = z.object({
  batchId: z.string(),
  /** Records it changed. */
  records: z.number().int().min(0),
  /** Records it left alone (an undo's conflicts; an update refused for a record). */
  skipped: z.number().int().min(0),
  conflicts: z.array(BatchConflict).max(MAX_LISTED_CONFLICTS).optional(),
});
/** The records a mass update or assign works on, as its filter matched them when it was asked (in parts of at most 1,000). */
export const BatchTargeted = z.object({ batchId: z.string(), ids: z.array(z.string()).max(1_000) });
/** An undo of this batch began (at most one: a batch is undone once; its undo can be undone in turn). */
export const BatchUndone = z.object({ batchId: z.string(), undoBatchId: z.string() });

export const batchEventSchemas = { BatchStarted, BatchTargeted, BatchCompleted, BatchUndone };
export type BatchEvent = EventsOf<typeof batchEventSchemas>;

export const batchCategory = 'batch';
export const batchStream = (batchId: string): string => `${batchCategory}-${batchId}`;

export type BatchState =
  | { status: 'none' }
  | { status: 'running' | 'completed'; batchId: string; kind: BatchKind; resource: string; undoes?: string; force?: boolean; undoneBy?: string; summary: Record<string, unknown> };

export type BatchCommand = { type: 'UndoBatch'; batchId: string; undoBatchId: string };

export const initialState: BatchState = { status: 'none' };

export function evolve(state: BatchState, event: BatchEvent): BatchState {
  if (event.type === 'BatchStarted') {
    const { batchId, kind, resource, summary, undoes, force } = event.data;
    return { status: 'running', batchId, kind, resource, summary, ...(undoes ? { undoes } : {}), ...(force ? { force } : {}) };
  }
  if (state.status === 'none') return state;
  if (event.type === 'BatchCompleted') return { ...state, status: 'completed' };
  if (event.type === 'BatchTargeted') return state;
  return { ...state, undoneBy: event.data.undoBatchId };
}

export function decide(command: BatchCommand, state: BatchState): BatchEvent[] {
  if (state.status === 'none') throw new DomainError('batch.not_found', `Batch ${command.batchId} does not exist`, { batchId: command.batchId });
  if (state.undoneBy) throw new DomainError('batch.already_undone', `Batch ${command.batchId} was undone already (by batch ${state.undoneBy})`, { batchId: command.batchId, undoBatchId: state.undoneBy });
  if (state.status === 'running') throw new DomainError('batch.running', `Batch ${command.batchId} is still running; undo it once it has completed`, { batchId: command.batchId });
  return [{ type: 'BatchUndone', data: { batchId: command.batchId, undoBatchId: command.undoBatchId } }];
}

export const batchDecider = { initialState, evolve, decide };
