import { type BatchConflict, batchStream } from '../domain/batch/index.ts';
import type { CustomerFields } from '../domain/customer/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { seededIds } from '../infra/ids.ts';
import { type BatchOutcome, completeBatch, inBatch, loadBatch, startBatch } from './batches.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { assertOwner, changeCustomer, changeCustomerOwner, customerHandler } from './customers.ts';
import { factEvent } from './pipeline.ts';

/** A mass change of customers (批量修改 / 批量分配): fields set on each, or each given to one owner. */
export type MassChange = { set: Partial<Record<keyof CustomerFields, unknown>> } | { assign: { ownerId: string } };

/** Ids a targeting event holds at most. */
const TARGET_PART = 1_000;

/**
 * Opens a mass change as a batch, with the ids its filter matched (kept in the batch, so a run resumed after a crash
 * works on the same records). The records are changed by `runMassChange`.
 */
export async function startMassChange(deps: CommandDeps, ids: readonly string[], change: MassChange, summary: Record<string, unknown>, actor: Actor, meta: RequestMeta): Promise<{ batchId: string; position: bigint }> {
  if ('assign' in change) await assertOwner(deps, change.assign.ownerId);
  const kind = 'assign' in change ? 'mass-assign' : 'mass-update';
  const started = await startBatch(deps, { kind, resource: 'customers', summary: { ...summary, ...change, matched: ids.length } }, actor, meta);
  const parts = [];
  for (let i = 0; i < ids.length; i += TARGET_PART) parts.push(factEvent(deps, meta, actor.userId, { type: 'BatchTargeted', data: { batchId: started.batchId, ids: ids.slice(i, i + TARGET_PART) } }));
  if (!parts.length) return started;
  const result = await deps.eventStore.append(batchStream(started.batchId), parts, 0n);
  return { batchId: started.batchId, position: result.position };
}

/** Changes each targeted customer (a refused one is skipped and reported), then completes the batch; safe to run again. */
export async function runMassChange(deps: CommandDeps, batchId: string, actor: Actor, meta: RequestMeta): Promise<BatchOutcome> {
  const { state } = await loadBatch(deps, batchId);
  if (state.status !== 'running' || (state.kind !== 'mass-update' && state.kind !== 'mass-assign')) return { records: 0, skipped: 0 };
  const summary = state.summary as { set?: Record<string, unknown>; assign?: { ownerId: string } };
  const events = await deps.eventStore.readStream(batchStream(batchId));
  const ids = events.flatMap((event) => (event.type === 'BatchTargeted' ? (event.data as { ids: string[] }).ids : []));
  let records = 0;
  const conflicts: BatchConflict[] = [];
  for (const id of ids) {
    const requestId = `batch:${batchId}:${id}`;
    const step: RequestMeta = { ...inBatch(meta, batchId), requestId, correlationId: meta.correlationId, ids: seededIds(requestId, deps.clock.now().getTime()) };
    try {
      const { state: customer } = await customerHandler(deps, actor, step).load(id);
      // A customer in the pool is changed only by someone who sees everything (as one at a time).
      if (customer.status !== 'none' && customer.ownerId === null && actor.dataScope !== 'all') throw new DomainError('customer.in_pool', 'This customer is in the pool; claim it first');
      const result = summary.assign ? await changeCustomerOwner(deps, id, summary.assign.ownerId, actor, step) : await changeCustomer(deps, id, summary.set ?? {}, actor, step);
      if (result.changed) records += 1;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      conflicts.push({ resource: 'customers', recordId: id, reason: 'refused', code: error.code });
    }
  }
  const outcome = { records, skipped: conflicts.length, conflicts };
  await completeBatch(deps, batchId, outcome, actor, meta);
  return outcome;
}
