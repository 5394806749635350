import type { z } from 'zod';
import { type ImportCompleted, type ImportProgressed, type ImportResource, type ImportStarted, importStream, type ImportUploaded } from '../domain/import/index.ts';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import { startBatch } from './batches.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import type { ImportRequest } from './import-rows.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { factEvent } from './pipeline.ts';

/** An import as its stream tells it: uploaded, then running (rows done so far), then completed. */
export interface ImportStatus {
  id: string;
  resource: ImportResource;
  status: 'uploaded' | 'running' | 'completed';
  fileName: string;
  format: 'csv' | 'xlsx';
  encoding?: string;
  columns: string[];
  rows: number;
  /** Rows written so far (all of them once completed). */
  done: number;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  batchId: string | null;
  uploadedBy: string;
  uploadedAt: string;
  sha256: string;
  /** The run's mapping, key and policy (once started). */
  request?: ImportRequest;
  /** The failed rows and why, in row order. */
  failures: z.infer<typeof ImportProgressed>['failures'];
  /** The stream's revision (for the next append). */
  revision: bigint;
  /** The time that leads the ids its rows write (see ImportStarted); absent for a run begun before it was kept. */
  rowIdTime?: string;
}

/** Records an uploaded file, read and counted, as a new import. */
export async function recordUpload(deps: CommandDeps, upload: Omit<z.infer<typeof ImportUploaded>, 'importId'>, actor: Actor, meta: RequestMeta): Promise<{ importId: string; position: bigint }> {
  const importId = meta.ids.newId();
  const result = await deps.eventStore.append(importStream(importId), [factEvent(deps, meta, actor.userId, { type: 'ImportUploaded', data: { importId, ...upload } })], 'no_stream');
  return { importId, position: result.position };
}

export async function importStatus(deps: CommandDeps, importId: string): Promise<ImportStatus | undefined> {
  const events = await deps.eventStore.readStream(importStream(importId));
  const uploaded = events.find((event) => event.type === 'ImportUploaded');
  if (!uploaded) return undefined;
  const data = uploaded.data as z.infer<typeof ImportUploaded>;
  const status: ImportStatus = {
    id: importId,
    resource: data.resource,
    status: 'uploaded',
    fileName: data.fileName,
    format: data.format,
    ...(data.encoding ? { encoding: data.encoding } : {}),
    columns: data.columns,
    rows: data.rows,
    done: 0,
    created: 0,
    updated: 0,
    skipped: 0,
    failed: 0,
    batchId: null,
    uploadedBy: uploaded.metadata.actor,
    uploadedAt: uploaded.metadata.at,
    sha256: data.sha256,
    failures: [],
    revision: events[events.length - 1]!.revision,
  };
  for (const event of events) {
    if (event.type === 'ImportStarted') {
      const { batchId, mapping, matchBy, policy, rowIdTime } = event.data as z.infer<typeof ImportStarted>;
      Object.assign(status, { status: 'running', batchId, request: { mapping, policy, ...(matchBy ? { matchBy } : {}) }, ...(rowIdTime ? { rowIdTime } : {}) });
    }
    if (event.type === 'ImportProgressed') {
      const { done, created, updated, skipped, failed, failures } = event.data as z.infer<typeof ImportProgressed>;
      Object.assign(status, { done, created, updated, skipped, failed, failures: [...status.failures, ...failures] });
    }
    if (event.type === 'ImportCompleted') {
      const { created, updated, skipped, failed } = event.data as z.infer<typeof ImportCompleted>;
      Object.assign(status, { status: 'completed', done: status.rows, created, updated, skipped, failed });
    }
  }
  return status;
}

/** Starts an import's run: a batch of its own, the request kept in the import; an import runs once (409 import.already_run). */
export async function startImport(deps: CommandDeps, status: ImportStatus, request: ImportRequest, actor: Actor, meta: RequestMeta): Promise<{ batchId: string; position: bigint }> {
  if (status.status !== 'uploaded') throw new DomainError('import.already_run', `Import ${status.id} has been run already (batch ${status.batchId})`, { batchId: status.batchId });
  const batchId = meta.ids.newId();
  const data = { importId: status.id, batchId, mapping: request.mapping, policy: request.policy, ...(request.matchBy ? { matchBy: request.matchBy } : {}), rowIdTime: deps.clock.now().toISOString() };
  try {
    await deps.eventStore.append(importStream(status.id), [factEvent(deps, meta, actor.userId, { type: 'ImportStarted', data })], status.revision);
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) throw new DomainError('import.already_run', `Import ${status.id} has been run already`);
    throw error;
  }
  return startBatch(deps, { kind: 'import', resource: status.resource, summary: { importId: status.id, fileName: status.fileName, rows: status.rows } }, actor, meta, batchId);
}
