import type { BatchConflict } from '../domain/batch/index.ts';
import { batchDecider, batchStream } from '../domain/batch/index.ts';
import { resourceNames, type ResourceSpec, specOf } from '../domain/customization/resources.ts';
import { type DomainEvent, fold } from '../domain/shared/decider.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { referenceOf } from '../domain/shared/revert.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { BATCH_RECORDS, type BatchRecordDoc } from '../projections/batches.ts';
import { completeBatch, loadBatch, startBatch } from './batches.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { customerRules } from './customers.ts';
import { execute, requestEvents } from './pipeline.ts';
import { productRules } from './products.ts';
import type { RecordRules, UniqueField } from './record-handler.ts';
import { loadRecord, recordVisible, stateInScope } from './references.ts';
import { claim, isHeld, releaseQuietly, type ReservationHolderCheck } from './reservations.ts';

/** What an undo needs from the services: the read model of the records each batch wrote to. */
export interface UndoDeps extends CommandDeps {
  readStore: ReadStore;
  /** Waits until the read models have applied a position. */
  waitFor(position: bigint): Promise<void>;
}

/** The rules of the record types with company-wide unique values (their claims are put back with their values). */
const rulesOf: Partial<Record<string, RecordRules<never, { status: string }>>> = { customers: customerRules as never, products: productRules as never };

const specsByCategory = new Map<string, ResourceSpec>(resourceNames.map((name) => [specOf(name).category, specOf(name)]));

/**
 * Starts undoing a batch: the batch notes its undo (once: a second undo is refused), and the undo opens as a batch
 * of its own. The records are reverted by `runUndo`, in the background.
 */
export async function startUndo(deps: CommandDeps, batchId: string, force: boolean, actor: Actor, meta: RequestMeta): Promise<{ undoBatchId: string; position: bigint }> {
  const undoBatchId = meta.ids.newId();
  const { state } = await loadBatch(deps, batchId);
  await execute(deps, batchDecider, batchStream(batchId), { type: 'UndoBatch', batchId, undoBatchId }, actor, meta);
  const resource = state.status === 'none' ? 'none' : state.resource;
  const kind = state.status === 'none' ? 'undo' : state.kind;
  const started = await startBatch(deps, { kind: 'undo', resource, summary: { undoes: batchId, kind }, undoes: batchId, force }, actor, meta, undoBatchId);
  return { undoBatchId, position: started.position };
}

/**
 * Reverts every record the undone batch wrote to, each with its own record type's events (see `Revert`), appended
 * at the revision it read, so a change made meanwhile is never overwritten. A record someone changed after the
 * batch is left alone and reported, unless the undo was forced; so is one outside the actor's data scope then and
 * before. Safe to run again (after a crash): a record already reverted by this undo is recognised by its events.
 */
export async function runUndo(deps: UndoDeps, undoBatchId: string, actor: Actor, meta: RequestMeta): Promise<{ records: number; skipped: number; conflicts: BatchConflict[] }> {
  const undo = await loadBatch(deps, undoBatchId);
  if (undo.state.status !== 'running' || !undo.state.undoes) return { records: 0, skipped: 0, conflicts: [] };
  const undone = undo.state.undoes;
  const force = undo.state.force ?? false;
  await deps.waitFor((await loadBatch(deps, undone)).position);
  const conflicts: BatchConflict[] = [];
  let records = 0;
  const touched = deps.readStore.collection<BatchRecordDoc>(BATCH_RECORDS).findInBatches({ batchId: undone }, { sort: { firstPosition: -1, _id: 1 }, batchSize: 500 });
  for await (const batch of touched) {
    for (const record of batch) {
      const outcome = await revertRecord(deps, record, { undone, undoBatchId, force }, actor, meta);
      if (outcome === 'reverted') records += 1;
      else if (outcome !== 'unchanged') conflicts.push(outcome);
    }
  }
  await completeBatch(deps, undoBatchId, { records, skipped: conflicts.length, conflicts }, actor, meta);
  return { records, skipped: conflicts.length, conflicts };
}

interface UndoRun {
  undone: string;
  undoBatchId: string;
  force: boolean;
}

async function revertRecord(deps: UndoDeps, record: BatchRecordDoc, run: UndoRun, actor: Actor, meta: RequestMeta, attempt = 0): Promise<'reverted' | 'unchanged' | BatchConflict> {
  const spec = specsByCategory.get(record.category);
  const conflict = (reason: BatchConflict['reason'], changedBy?: string): BatchConflict => ({ resource: spec?.name ?? record.category, recordId: record.recordId, reason, ...(changedBy ? { changedBy } : {}) });
  if (!spec?.revert) return conflict('not_undoable');
  const events = await deps.eventStore.readStream(record.streamId);
  if (events.some((event) => event.metadata.batchId === run.undoBatchId)) return 'reverted'; // a resumed undo did this one already
  const first = events.findIndex((event) => event.metadata.batchId === run.undone);
  if (first < 0) return 'unchanged';
  const later = laterChange(events.slice(first), run.undone);
  if (later && !run.force) return conflict('changed_after_batch', later.metadata.actor);
  const before = foldStates(spec, events.slice(0, first));
  const now = foldStates(spec, events);
  if (!(await stateInScope(deps, actor, spec, now)) && !(await stateInScope(deps, actor, spec, before)) && !(await movedWithParentInScope(deps, actor, spec, before, now))) return conflict('not_in_scope');
  let reverted: DomainEvent[];
  try {
    reverted = spec.revert(before as never, now as never);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'batch.not_undoable') return conflict('not_undoable');
    throw error;
  }
  if (reverted.length === 0) return 'unchanged';
  const step: RequestMeta = { ...meta, requestId: `undo:${run.undoBatchId}:${record.streamId}`, batchId: run.undoBatchId, undoes: run.undone, ...(later ? { undoForced: true } : {}) };
  const unique = uniqueChanges(spec, before, now);
  const claimed: UniqueKey[] = [];
  try {
    for (const key of unique.claims) {
      await claim(deps, key.scope, key.value, record.recordId, holderCheck(deps, spec, key), actor, step);
      claimed.push(key);
    }
  } catch (error) {
    for (const key of claimed) await releaseQuietly(deps, key.scope, key.value, record.recordId, actor, step);
    if (isHeld(error)) return conflict('value_taken');
    throw error;
  }
  try {
    await deps.eventStore.append(record.streamId, requestEvents(deps, step, actor.userId, record.streamId, reverted), events[events.length - 1]!.revision);
  } catch (error) {
    for (const key of claimed) await releaseQuietly(deps, key.scope, key.value, record.recordId, actor, step);
    if (!(error instanceof WrongExpectedRevisionError)) throw error;
    if (attempt >= 2) throw new DomainError('batch.busy', `Record ${record.recordId} kept changing while it was being undone`, { recordId: record.recordId });
    return revertRecord(deps, record, run, actor, meta, attempt + 1);
  }
  for (const key of unique.releases) await releaseQuietly(deps, key.scope, key.value, record.recordId, actor, step);
  return 'reverted';
}

/** The record type a reference field of a moved record names. */
const parents: Readonly<Record<string, ResourceSpec>> = { customerId: specOf('customers'), contactId: specOf('contacts') };

/**
 * A record that moved with its customer or contact (a merge) goes back with it: whoever has that one in scope moves
 * it back, as the merge moved it, whoever owns it.
 */
async function movedWithParentInScope(deps: UndoDeps, actor: Actor, spec: ResourceSpec, before: { status: string }, now: { status: string }): Promise<boolean> {
  for (const field of Object.keys(spec.moves ?? {})) {
    const was = referenceOf(before, field);
    const parent = parents[field];
    if (parent && was !== undefined && was !== referenceOf(now, field) && (await recordVisible(deps, actor, parent, was))) return true;
  }
  return false;
}

/**
 * The first change to a record after a batch by someone else: a later batch that was undone in turn (its events and
 * its undo's on this record) changed nothing in the end, and is not one (a merge and its unmerge after an import).
 */
function laterChange(since: readonly RecordedEvent[], undone: string): RecordedEvent | undefined {
  const undoneBy = new Map<string, string>();
  for (const { metadata } of since) if (metadata.undoes && metadata.batchId && metadata.undoes !== undone) undoneBy.set(metadata.undoes, metadata.batchId);
  // A batch is cancelled when it was undone and that undo was not undone in turn.
  const cancelled = (batchId: string | undefined, depth = 0): boolean => {
    const undo = batchId === undefined ? undefined : undoneBy.get(batchId);
    return undo !== undefined && depth < 50 && !cancelled(undo, depth + 1);
  };
  return since.find(({ metadata }) => metadata.batchId !== undone && !cancelled(metadata.batchId) && !cancelled(metadata.undoes));
}

const foldStates = (spec: ResourceSpec, events: readonly RecordedEvent[]) => fold(spec.decider, events.map((event) => ({ type: event.type, data: event.data }) as DomainEvent as never));

/** A record's values as its rules read them (a merged customer holds none). */
const fieldsOf = (spec: ResourceSpec, state: { status: string }) => {
  const rules = rulesOf[spec.name];
  if (rules?.fieldsOf) return rules.fieldsOf(state as never);
  return state.status === 'none' ? undefined : (state as { fields?: Record<string, unknown> }).fields;
};

/** Whether another record still holds a value (a claim its holder gave up is taken over). */
const holderCheck = (deps: CommandDeps, spec: ResourceSpec, key: UniqueKey): ReservationHolderCheck => ({
  holds: async (holder) => key.unique.normalize(fieldsOf(spec, (await loadRecord(deps, spec, holder)).state)?.[key.unique.field]) === key.value,
  exists: async (holder) => (await loadRecord(deps, spec, holder)).state.status !== 'none',
});

interface UniqueKey {
  unique: UniqueField;
  scope: string;
  value: string;
}

/** The unique values the revert takes back (claimed again) and gives up (released after), by comparing the two states' fields. */
function uniqueChanges(spec: ResourceSpec, before: { status: string }, now: { status: string }) {
  const claims: UniqueKey[] = [];
  const releases: UniqueKey[] = [];
  for (const unique of rulesOf[spec.name]?.uniqueFields ?? []) {
    const was = unique.normalize(fieldsOf(spec, before)?.[unique.field]);
    const is = unique.normalize(fieldsOf(spec, now)?.[unique.field]);
    if (was === is) continue;
    if (was !== undefined) claims.push({ unique, scope: unique.scope, value: was });
    if (is !== undefined) releases.push({ unique, scope: unique.scope, value: is });
  }
  return { claims, releases };
}
