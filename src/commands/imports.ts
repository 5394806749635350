import { type ImportResource, importStream, type ImportUploaded } from '../domain/import/index.ts';
import type { z } from 'zod';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { factEvent } from './pipeline.ts';

/** An import as its stream tells it (the upload so far; mapping, dry runs and runs join it). */
export interface ImportStatus {
  id: string;
  resource: ImportResource;
  status: 'uploaded';
  fileName: string;
  format: 'csv' | 'xlsx';
  encoding?: string;
  columns: string[];
  rows: number;
  created: number;
  updated: number;
  failed: number;
  batchId: string | null;
  uploadedBy: string;
  uploadedAt: string;
  sha256: string;
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
  return {
    id: importId,
    resource: data.resource,
    status: 'uploaded',
    fileName: data.fileName,
    format: data.format,
    ...(data.encoding ? { encoding: data.encoding } : {}),
    columns: data.columns,
    rows: data.rows,
    created: 0,
    updated: 0,
    failed: 0,
    batchId: null,
    uploadedBy: uploaded.metadata.actor,
    uploadedAt: uploaded.metadata.at,
    sha256: data.sha256,
  };
}
