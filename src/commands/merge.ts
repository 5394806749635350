import type { BatchConflict } from '../domain/batch/index.ts';
import type { CustomerState } from '../domain/customer/index.ts';
import { type RecordState, recordStream, resourceNames, type ResourceSpec, specOf } from '../domain/customization/resources.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import { seededIds } from '../infra/ids.ts';
import { completeBatch, inBatch, loadBatch, startBatch } from './batches.ts';
import type { Actor, RequestMeta } from './context.ts';
import { changeCustomer, customerHandler } from './customers.ts';
import { requestEvents } from './pipeline.ts';
import { loadRecord, stateInScope } from './references.ts';
import type { UndoDeps } from './undo.ts';

/**
 * A merge of duplicate customers (合并重复客户): the victims' records move to the survivor, the survivor takes the
 * field values chosen from them, and each victim is left pointing at the survivor (`status: merged`).
 * `fieldChoices` maps a field (`phone`, `custom.<key>`) to the customer whose value the survivor keeps.
 */
export interface MergeRequest {
  victimIds: string[];
  fieldChoices: Record<string, string>;
}

/** The record types that belong to a customer and follow it into a merge (contacts, activities, opportunities…). */
export const mergedResources: readonly ResourceSpec[] = resourceNames.map(specOf).filter((spec) => spec.customerReference && spec.customerReference !== 'self' && spec.moveToCustomer);

const customers = specOf('customers');
type Existing = Exclude<CustomerState, { status: 'none' }>;

/** The same answer for a customer that does not exist and one outside the caller's scope. */
const notFound = (customerId: string, field: string) =>
  new DomainError('customer.not_found', `${field}: customer ${customerId} does not exist or is outside your data scope`, { errors: [{ path: field, message: 'No customer with this id in your data scope' }] });

/** A customer the caller may merge: in their scope, not in the pool (unless they see everything), not merged already. */
async function mergeable(deps: UndoDeps, actor: Actor, customerId: string, field: string): Promise<Existing> {
  const { state } = await loadRecord(deps, customers, customerId);
  if (state.status === 'none' || !(await stateInScope(deps, actor, customers, state))) throw notFound(customerId, field);
  const customer = state as Existing;
  if (customer.ownerId === null && actor.dataScope !== 'all') throw new DomainError('customer.in_pool', `${field}: customer ${customerId} is in the pool; claim it first`, { customerId });
  if (customer.status === 'merged') throw new DomainError('customer.merged', `${field}: customer ${customerId} was merged into ${customer.mergedInto} already`, { customerId, mergedInto: customer.mergedInto });
  return customer;
}

/**
 * Checks a merge (every customer in the caller's scope and mergeable, each field choice naming one of them) and opens
 * it as a batch; `runMerge` does the work, in the background. The survivor must be active (restore it first).
 */
export async function startMerge(deps: UndoDeps, survivorId: string, request: MergeRequest, actor: Actor, meta: RequestMeta): Promise<{ batchId: string; position: bigint }> {
  const survivor = await mergeable(deps, actor, survivorId, 'survivorId');
  if (survivor.status === 'archived') throw new DomainError('customer.archived', 'An archived customer cannot take a merge; restore it first', { customerId: survivorId });
  if (request.victimIds.includes(survivorId)) throw new DomainError('customer.merge_self', 'victimIds: a customer cannot be merged into itself', { customerId: survivorId });
  for (const [i, victimId] of request.victimIds.entries()) await mergeable(deps, actor, victimId, `victimIds[${i}]`);
  const candidates = new Set([survivorId, ...request.victimIds]);
  for (const [field, customerId] of Object.entries(request.fieldChoices)) {
    if (!candidates.has(customerId)) throw new DomainError('merge.choice_unknown', `fieldChoices.${field}: ${customerId} is neither the survivor nor one of victimIds`, { field, customerId });
  }
  return startBatch(deps, { kind: 'merge', resource: 'customers', summary: { survivorId, victimIds: request.victimIds, fieldChoices: request.fieldChoices } }, actor, meta);
}

/**
 * Runs a merge: each victim marked merged (so nothing new is attached to it), every record of each victim moved to
 * the survivor (each with its record type's own move event, at the revision read), then the chosen values written to
 * the survivor, which notes the merge. Every event carries the batch id, so an undo (an unmerge) puts everything back.
 * Safe to run again after a crash: what was done already is recognised and skipped.
 */
export async function runMerge(deps: UndoDeps, batchId: string, actor: Actor, meta: RequestMeta): Promise<{ records: number; skipped: number; conflicts: BatchConflict[] }> {
  const batch = await loadBatch(deps, batchId);
  if (batch.state.status !== 'running' || batch.state.kind !== 'merge') return { records: 0, skipped: 0, conflicts: [] };
  const { survivorId, victimIds, fieldChoices } = batch.state.summary as unknown as { survivorId: string } & MergeRequest;
  await deps.waitFor(batch.position);
  const conflicts: BatchConflict[] = [];
  let records = 0;
  const step = (requestId: string): RequestMeta => ({ ...inBatch(meta, batchId), requestId, correlationId: meta.correlationId, ids: seededIds(requestId, deps.clock.now().getTime()) });
  const merged: string[] = [];
  for (const victimId of victimIds) {
    const handler = customerHandler(deps, actor, step(`merge:${batchId}:${victimId}`));
    const { state } = await handler.load(victimId);
    if (state.status === 'merged' && state.mergedInto === survivorId) {
      merged.push(victimId); // a resumed run did this one already
    } else {
      try {
        await handler.run(victimId, { type: 'MergeCustomerInto', customerId: victimId, survivorId });
        merged.push(victimId);
        records += 1;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        conflicts.push({ resource: 'customers', recordId: victimId, reason: 'refused', code: error.code });
        continue;
      }
    }
    for (const spec of mergedResources) {
      const field = spec.customerReference!;
      const ids = await deps.readStore.collection(spec.name).find({ [field]: victimId }, { projection: { _id: 1 } });
      for (const { _id } of ids) if (await moveRecord(deps, spec, String(_id), survivorId, actor, step(`merge:${batchId}:${recordStream(spec, String(_id))}`))) records += 1;
    }
  }
  if (merged.length) {
    const survivor = customerHandler(deps, actor, step(`merge:${batchId}:${survivorId}`));
    const changes = await chosenValues(deps, survivorId, fieldChoices, merged);
    if (Object.keys(changes).length) {
      try {
        if ((await changeCustomer(deps, survivorId, changes, actor, step(`merge:${batchId}:${survivorId}:values`))).changed) records += 1;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        conflicts.push({ resource: 'customers', recordId: survivorId, reason: 'refused', code: error.code });
      }
    }
    const noted = (await deps.eventStore.readStream(recordStream(customers, survivorId))).some((event) => event.type === 'CustomersMergedIn' && event.metadata.batchId === batchId);
    if (!noted) await survivor.run(survivorId, { type: 'NoteMergedIn', customerId: survivorId, mergedIds: merged });
  }
  await completeBatch(deps, batchId, { records, skipped: conflicts.length, conflicts }, actor, meta);
  return { records, skipped: conflicts.length, conflicts };
}

/** The values the survivor takes: each chosen field's value on the customer chosen for it (null: it had none). */
async function chosenValues(deps: UndoDeps, survivorId: string, choices: Record<string, string>, merged: readonly string[]): Promise<Record<string, unknown>> {
  const changes: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  for (const [field, customerId] of Object.entries(choices)) {
    if (customerId === survivorId || !merged.includes(customerId)) continue;
    const { state } = await loadRecord(deps, customers, customerId);
    const fields = (state as Existing).fields as Record<string, unknown> & { custom?: Record<string, unknown> };
    if (field.startsWith('custom.')) custom[field.slice('custom.'.length)] = fields.custom?.[field.slice('custom.'.length)] ?? null;
    else changes[field] = fields[field] ?? null;
  }
  return Object.keys(custom).length ? { ...changes, custom } : changes;
}

/** Moves one record to the survivor with its record type's own events, at the revision read (re-read on a race). */
async function moveRecord(deps: UndoDeps, spec: ResourceSpec, id: string, survivorId: string, actor: Actor, meta: RequestMeta, attempt = 0): Promise<boolean> {
  const { state, revision } = await loadRecord(deps, spec, id);
  if (state.status === 'none') return false;
  const events = spec.moveToCustomer!(state as RecordState as never, survivorId);
  if (!events.length) return false;
  const stream = recordStream(spec, id);
  try {
    await deps.eventStore.append(stream, requestEvents(deps, meta, actor.userId, stream, events), revision);
    return true;
  } catch (error) {
    if (!(error instanceof WrongExpectedRevisionError) || attempt >= 2) throw error;
    return moveRecord(deps, spec, id, survivorId, actor, meta, attempt + 1);
  }
}
