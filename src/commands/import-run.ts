import { recordStream, specOf } from '../domain/customization/resources.ts';
import { importStream } from '../domain/import/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { stableUuid } from '../domain/shared/stable-id.ts';
import type { Blobs } from '../infra/blobs/port.ts';
import { type EventStore, type EventToAppend, WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import { DeferredAppends, NotDeferrableError } from './deferred-appends.ts';
import { type Ids, orderedId, seededIds } from '../infra/ids.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { readTable } from '../infra/tabular/index.ts';
import { completeBatch, inBatch, startBatch } from './batches.ts';
import { companySettings } from './company.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { importKinds, type ImportKind } from './import-kinds.ts';
import { fieldsOf } from './custom-fields.ts';
import { type PlannedRow, planRows } from './import-rows.ts';
import { type ImportStatus, importStatus } from './imports.ts';
import { factEvent } from './pipeline.ts';

export interface ImportDeps extends CommandDeps {
  readStore: ReadStore;
  blobs: Blobs;
}

/** Rows written between two progress notes (each note is what a resumed run starts after). */
const PART = 500;
/** Rows of a part written at once: their appends share the store's group commits. */
const IN_FLIGHT = 64;
/** Rows whose writes one transaction commits (where the store can). */
const GROUP = 100;

const rowRequestId = (importId: string, line: number) => `import:${importId}:row:${line}`;

/**
 * The ids a row writes with, the same on every run, so a resumed run re-targets what it may have written: the
 * record it creates (`recordId`), and its events' ids. In a run that keeps a `rowIdTime` they are ordered by it and
 * the row (`orderedId`), so the log's indexes take them in order; in a run begun before, the record's id is
 * name-based and the events' are derived from the request, as then.
 */
function rowIds(status: ImportStatus, line: number): { recordId: string; eventId?: Ids['eventId'] } {
  const requestId = rowRequestId(status.id, line);
  if (!status.rowIdTime) return { recordId: stableUuid(`import:${status.id}:row:${line}`) };
  const time = Date.parse(status.rowIdTime);
  return {
    recordId: orderedId(time, line, requestId),
    eventId: (eventRequestId, streamId, index) => orderedId(time, line, `${eventRequestId}\u0000${streamId}\u0000${index}`),
  };
}

/**
 * Runs an import: plans every row as the dry run does, then writes the creates and updates part
 * by part, each part's counts and failures noted in the import (`ImportProgressed`), as one batch. Resumable: after
 * a stop it starts after the last part noted; a row's writes carry a request id and a record id derived from the
 * import and the row, so a row written before the stop is recognised, never written twice.
 */
export async function runImport(deps: ImportDeps, importId: string, actor: Actor, meta: RequestMeta): Promise<void> {
  const status = await importStatus(deps, importId);
  if (!status || status.status !== 'running' || !status.request || !status.batchId) return;
  const batchId = status.batchId;
  await startBatch(deps, { kind: 'import', resource: status.resource, summary: { importId, fileName: status.fileName, rows: status.rows } }, actor, meta, batchId);
  const bytes = await deps.blobs.get(status.sha256);
  if (!bytes) throw new DomainError('import.file_gone', `The file of import ${importId} is no longer stored`);
  const table = await readTable(bytes, { maxRows: Number.MAX_SAFE_INTEGER });
  const { settings } = await companySettings(deps);
  const custom = await fieldsOf(deps, status.resource);
  const kind = importKinds[status.resource];
  const plan = await planRows({ deps, readStore: deps.readStore, actor, currency: settings.currency, custom }, kind, table, status.request, (line) => rowIds(status, line).recordId);
  const counts = { created: status.created, updated: status.updated, skipped: status.skipped, failed: status.failed };
  let revision = status.revision;
  for (let start = status.done; start < plan.length; start += PART) {
    const part = plan.slice(start, start + PART);
    const failures: { row: number; errors: { field: string; column?: string; message: string }[] }[] = [];
    const outcomes = await writePart(deps, kind, status, batchId, part, actor, meta);
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.action === 'error') {
        counts.failed += 1;
        failures.push({ row: part[i]!.row, errors: outcome.errors ?? [] });
      } else if (outcome.action === 'create') counts.created += 1;
      else if (outcome.action === 'update') counts.updated += 1;
      else counts.skipped += 1;
    }
    const done = start + part.length;
    const note = factEvent(deps, { ...meta, requestId: `import:${importId}:progress:${done}` }, actor.userId, { type: 'ImportProgressed', data: { importId, done, ...counts, failures } });
    const noted = await appendOrYield(deps, importId, note, revision);
    if (noted === undefined) return;
    revision = noted;
  }
  const completed = factEvent(deps, { ...meta, requestId: `import:${importId}:completed` }, actor.userId, { type: 'ImportCompleted', data: { importId, ...counts } });
  if ((await appendOrYield(deps, importId, completed, revision)) === undefined) return;
  await completeBatch(deps, batchId, { records: counts.created + counts.updated, skipped: counts.skipped + counts.failed }, actor, meta);
}

/** Appends a note to the import; undefined when another run of it got there first (that run goes on, this one stops). */
async function appendOrYield(deps: ImportDeps, importId: string, event: EventToAppend, revision: bigint): Promise<bigint | undefined> {
  try {
    return (await deps.eventStore.append(importStream(importId), [event], revision)).nextExpectedRevision;
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) return undefined;
    throw error;
  }
}

/**
 * Writes a part's rows. Where the store appends to several streams at once, rows go in groups whose claims and
 * records are committed in one transaction (all or nothing); a group in which any row is refused, or which meets
 * a concurrent writer, is written again row by row (nothing of it was written). Otherwise rows are written
 * `IN_FLIGHT` at a time, sharing the store's group commits.
 */
async function writePart(deps: ImportDeps, kind: ImportKind, status: ImportStatus, batchId: string, part: readonly PlannedRow[], actor: Actor, meta: RequestMeta): Promise<PlannedRow[]> {
  const store = deps.eventStore;
  const write = (rowDeps: ImportDeps, row: PlannedRow) => writeRow(rowDeps, kind, status, batchId, row, actor, meta);
  if (!store.appendAtomically) return inParallel(part, IN_FLIGHT, (row) => write(deps, row));
  const atomic = store as EventStore & Required<Pick<EventStore, 'appendAtomically'>>;
  const outcomes: PlannedRow[] = [];
  for (let i = 0; i < part.length; i += GROUP) {
    const group = part.slice(i, i + GROUP);
    const unit = new DeferredAppends(atomic);
    let written: PlannedRow[] | undefined = [];
    try {
      for (const row of group) {
        const outcome = await write({ ...deps, eventStore: unit }, row);
        if (outcome.action === 'error') throw new NotDeferrableError(`row ${row.row} was refused`);
        written.push(outcome);
      }
      await unit.commit();
    } catch (error) {
      if (!(error instanceof NotDeferrableError || error instanceof WrongExpectedRevisionError)) throw error;
      written = undefined;
    }
    outcomes.push(...(written ?? (await inParallel(group, IN_FLIGHT, (row) => write(deps, row)))));
  }
  return outcomes;
}

/** Writes one planned row; a refusal at write time (a value taken meanwhile) makes it a failed row. */
async function writeRow(deps: ImportDeps, kind: ImportKind, status: ImportStatus, batchId: string, row: PlannedRow, actor: Actor, meta: RequestMeta): Promise<PlannedRow> {
  const requestId = rowRequestId(status.id, row.row);
  if (!row.write) {
    // An update written before a stop plans as unchanged when resumed: its events say it was this row's update.
    if (row.action === 'skip' && row.recordId && (await deps.eventStore.readStream(recordStream(specOf(kind.resource), row.recordId))).some((event) => event.metadata.requestId === requestId)) return { ...row, action: 'update' };
    return row;
  }
  const { recordId, eventId } = rowIds(status, row.row);
  const seeded = seededIds(requestId, deps.clock.now().getTime());
  let first = true;
  const ids: Ids = { newId: () => (first ? ((first = false), recordId) : seeded.newId()), ...(eventId ? { eventId } : {}) };
  const step: RequestMeta = { ...inBatch(meta, batchId), requestId, ids };
  try {
    if ('create' in row.write) {
      await kind.create(deps, row.write, actor, step);
      return { ...row, recordId };
    }
    await kind.change(deps, row.recordId!, row.write.update, actor, step);
    return row;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { row: row.row, action: 'error', errors: [{ field: String(error.details?.field ?? 'row'), message: error.message }] };
  }
}

/** Maps items with at most `limit` promises pending, results in the items' order. */
async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
