import type { BatchConflict } from '../domain/batch/index.ts';
import { type RecordState, recordStream, resourceNames, type ResourceSpec, specOf } from '../domain/customization/resources.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import { seededIds } from '../infra/ids.ts';
import { completeBatch, inBatch, loadBatch, startBatch } from './batches.ts';
import { changeContact, contactHandler } from './contacts.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { changeCustomer, customerHandler } from './customers.ts';
import { requestEvents } from './pipeline.ts';
import { loadRecord, stateInScope } from './references.ts';
import type { UndoDeps } from './undo.ts';

/**
 * A merge of duplicates (合并重复客户 / 联系人): the victims' records move to the survivor, the survivor takes the
 * field values chosen from them, and each victim is left pointing at the survivor (`status: merged`).
 * `fieldChoices` maps a field (`phone`, `custom.<key>`) to the record whose value the survivor keeps.
 */
export interface MergeRequest {
  victimIds: string[];
  fieldChoices: Record<string, string>;
}

export type MergedResource = 'customers' | 'contacts';

type Existing = RecordState & { ownerId?: string | null; mergedInto?: string; fields: Record<string, unknown> & { custom?: Record<string, unknown> } };

/** What merging records of a type takes: the command that merges one into another, the one that notes it on the survivor, its change of fields, and the field its records refer to it by. */
interface MergeTarget {
  spec: ResourceSpec;
  /** The reference field of the records that belong to one (`customerId`): they move to the survivor. */
  field: string;
  merge(deps: CommandDeps, victimId: string, survivorId: string, actor: Actor, meta: RequestMeta): Promise<unknown>;
  /** Notes the merge on the survivor (its history), if the record type does. */
  note?(deps: CommandDeps, survivorId: string, mergedIds: string[], actor: Actor, meta: RequestMeta): Promise<unknown>;
  change(deps: CommandDeps, id: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta): Promise<{ changed: boolean }>;
}

const targets: Record<MergedResource, MergeTarget> = {
  customers: {
    spec: specOf('customers'),
    field: 'customerId',
    merge: (deps, victimId, survivorId, actor, meta) => customerHandler(deps, actor, meta).run(victimId, { type: 'MergeCustomerInto', customerId: victimId, survivorId }),
    note: (deps, survivorId, mergedIds, actor, meta) => customerHandler(deps, actor, meta).run(survivorId, { type: 'NoteMergedIn', customerId: survivorId, mergedIds }),
    change: (deps, id, changes, actor, meta) => changeCustomer(deps, id, changes, actor, meta),
  },
  contacts: {
    spec: specOf('contacts'),
    field: 'contactId',
    merge: (deps, victimId, survivorId, actor, meta) => contactHandler(deps, actor, meta).run(victimId, { type: 'MergeContactInto', contactId: victimId, survivorId }),
    change: (deps, id, changes, actor, meta) => changeContact(deps, id, { changes }, actor, meta),
  },
};

/** The record types whose records follow a merged record of this type to its survivor (by their `moves`). */
export const followersOf = (resource: MergedResource): readonly ResourceSpec[] =>
  resourceNames.map(specOf).filter((spec) => spec.name !== resource && spec.moves?.[targets[resource].field] !== undefined);

/** The same answer for a record that does not exist and one outside the caller's scope. */
const notFound = (spec: ResourceSpec, id: string, field: string) =>
  new DomainError(`${spec.singular}.not_found`, `${field}: ${spec.singular} ${id} does not exist or is outside your data scope`, { errors: [{ path: field, message: `No ${spec.singular} with this id in your data scope` }] });

/** A record the caller may merge: in their scope, not in the pool (unless they see everything), active, not merged already. */
async function mergeable(deps: CommandDeps, actor: Actor, spec: ResourceSpec, id: string, field: string): Promise<Existing> {
  const { state } = await loadRecord(deps, spec, id);
  if (state.status === 'none' || state.status === 'removed' || !(await stateInScope(deps, actor, spec, state))) throw notFound(spec, id, field);
  const record = state as Existing;
  if (record.ownerId === null && actor.dataScope !== 'all') throw new DomainError(`${spec.singular}.in_pool`, `${field}: ${spec.singular} ${id} is in the pool; claim it first`, { [`${spec.singular}Id`]: id });
  if (record.status === 'merged') throw new DomainError(`${spec.singular}.merged`, `${field}: ${spec.singular} ${id} was merged into ${record.mergedInto} already`, { [`${spec.singular}Id`]: id, mergedInto: record.mergedInto });
  return record;
}

/**
 * Checks a merge (every record in the caller's scope and mergeable, each field choice naming one of them) and opens
 * it as a batch; `runMerge` does the work, in the background. The survivor must be active (a customer: restore it first).
 */
export async function startMerge(deps: UndoDeps, resource: MergedResource, survivorId: string, request: MergeRequest, actor: Actor, meta: RequestMeta): Promise<{ batchId: string; position: bigint }> {
  const { spec } = targets[resource];
  const survivor = await mergeable(deps, actor, spec, survivorId, 'survivorId');
  if (survivor.status === 'archived') throw new DomainError(`${spec.singular}.archived`, `An archived ${spec.singular} cannot take a merge; restore it first`, { [`${spec.singular}Id`]: survivorId });
  if (request.victimIds.includes(survivorId)) throw new DomainError(`${spec.singular}.merge_self`, `victimIds: a ${spec.singular} cannot be merged into itself`, { [`${spec.singular}Id`]: survivorId });
  for (const [i, victimId] of request.victimIds.entries()) await mergeable(deps, actor, spec, victimId, `victimIds[${i}]`);
  const candidates = new Set([survivorId, ...request.victimIds]);
  for (const [field, id] of Object.entries(request.fieldChoices)) {
    if (!candidates.has(id)) throw new DomainError('merge.choice_unknown', `fieldChoices.${field}: ${id} is neither the survivor nor one of victimIds`, { field, id });
  }
  return startBatch(deps, { kind: 'merge', resource, summary: { survivorId, victimIds: request.victimIds, fieldChoices: request.fieldChoices } }, actor, meta);
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
  const resource = batch.state.resource as MergedResource;
  const target = targets[resource];
  const { survivorId, victimIds, fieldChoices } = batch.state.summary as unknown as { survivorId: string } & MergeRequest;
  await deps.waitFor(batch.position);
  const conflicts: BatchConflict[] = [];
  let records = 0;
  const step = (requestId: string): RequestMeta => ({ ...inBatch(meta, batchId), requestId, correlationId: meta.correlationId, ids: seededIds(requestId, deps.clock.now().getTime()) });
  const merged: string[] = [];
  for (const victimId of victimIds) {
    const { state } = await loadRecord(deps, target.spec, victimId);
    if (state.status === 'merged' && (state as Existing).mergedInto === survivorId) {
      merged.push(victimId); // a resumed run did this one already
    } else {
      try {
        await target.merge(deps, victimId, survivorId, actor, step(`merge:${batchId}:${victimId}`));
        merged.push(victimId);
        records += 1;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        conflicts.push({ resource, recordId: victimId, reason: 'refused', code: error.code });
        continue;
      }
    }
    for (const spec of followersOf(resource)) {
      const ids = await deps.readStore.collection(spec.name).find({ [target.field]: victimId }, { projection: { _id: 1 } });
      for (const { _id } of ids) if (await moveRecord(deps, spec, target.field, String(_id), survivorId, actor, step(`merge:${batchId}:${recordStream(spec, String(_id))}`))) records += 1;
    }
  }
  if (merged.length) {
    const changes = await chosenValues(deps, target.spec, survivorId, fieldChoices, merged);
    if (Object.keys(changes).length) {
      try {
        if ((await target.change(deps, survivorId, changes, actor, step(`merge:${batchId}:${survivorId}:values`))).changed) records += 1;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        conflicts.push({ resource, recordId: survivorId, reason: 'refused', code: error.code });
      }
    }
    const noted = (await deps.eventStore.readStream(recordStream(target.spec, survivorId))).some((event) => event.metadata.batchId === batchId && event.metadata.requestId === `merge:${batchId}:${survivorId}`);
    if (target.note && !noted) await target.note(deps, survivorId, merged, actor, step(`merge:${batchId}:${survivorId}`));
  }
  await completeBatch(deps, batchId, { records, skipped: conflicts.length, conflicts }, actor, meta);
  return { records, skipped: conflicts.length, conflicts };
}

/** The values the survivor takes: each chosen field's value on the record chosen for it (null: it had none). */
async function chosenValues(deps: CommandDeps, spec: ResourceSpec, survivorId: string, choices: Record<string, string>, merged: readonly string[]): Promise<Record<string, unknown>> {
  const changes: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  for (const [field, id] of Object.entries(choices)) {
    if (id === survivorId || !merged.includes(id)) continue;
    const { fields } = (await loadRecord(deps, spec, id)).state as Existing;
    if (field.startsWith('custom.')) custom[field.slice('custom.'.length)] = fields.custom?.[field.slice('custom.'.length)] ?? null;
    else changes[field] = fields[field] ?? null;
  }
  return Object.keys(custom).length ? { ...changes, custom } : changes;
}

/** Points one record at the survivor with its record type's own events, at the revision read (re-read on a race). */
async function moveRecord(deps: UndoDeps, spec: ResourceSpec, field: string, id: string, survivorId: string, actor: Actor, meta: RequestMeta, attempt = 0): Promise<boolean> {
  const { state, revision } = await loadRecord(deps, spec, id);
  if (state.status === 'none') return false;
  const events = spec.moves![field]!(state as never, survivorId);
  if (!events.length) return false;
  const stream = recordStream(spec, id);
  try {
    await deps.eventStore.append(stream, requestEvents(deps, meta, actor.userId, stream, events), revision);
    return true;
  } catch (error) {
    if (!(error instanceof WrongExpectedRevisionError) || attempt >= 2) throw error;
    return moveRecord(deps, spec, field, id, survivorId, actor, meta, attempt + 1);
  }
}
