import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { IMPORT_RESOURCES } from './mapping.ts';

export * from './mapping.ts';

/**
 * An import (数据导入), stream `import-<id>`: a file uploaded and read (its columns, its rows counted), then mapped,
 * tried (a dry run) and run as a batch. The file itself is kept as a blob by its SHA-256.
 */
export const ImportUploaded = z.object({
  importId: z.string(),
  resource: z.enum(IMPORT_RESOURCES),
  fileName: z.string(),
  sha256: z.string(),
  size: z.number().int().min(0),
  format: z.enum(['csv', 'xlsx']),
  /** A CSV file's encoding as read. */
  encoding: z.enum(['utf-8', 'utf-8-bom', 'gb18030']).optional(),
  columns: z.array(z.string()),
  rows: z.number().int().min(0),
});

const Counts = { created: z.number().int().min(0), updated: z.number().int().min(0), skipped: z.number().int().min(0), failed: z.number().int().min(0) };
const RowFailure = z.object({ row: z.number().int(), errors: z.array(z.object({ field: z.string(), column: z.string().optional(), message: z.string() })) });

/** The run began, as a batch, with the mapping, key and policy it was asked (the same the dry run took). */
export const ImportStarted = z.object({
  importId: z.string(),
  batchId: z.string(),
  mapping: z.record(z.string(), z.string().nullable()),
  matchBy: z.string().optional(),
  policy: z.record(z.string(), z.enum(['overwrite', 'fillIfEmpty', 'keep'])),
  /**
   * The time that leads the ids of the records and events the rows write, which then follow the rows' order
   * (`orderedId`). Absent in a run begun before 2026-12-03: its rows' ids are name-based, as they were then.
   */
  rowIdTime: z.string().datetime().optional(),
});
/** Rows up to `done` are written (counts so far), with the rows of this part that failed and why. */
export const ImportProgressed = z.object({ importId: z.string(), done: z.number().int().min(0), ...Counts, failures: z.array(RowFailure) });
export const ImportCompleted = z.object({ importId: z.string(), ...Counts });

export const importEventSchemas = { ImportUploaded, ImportStarted, ImportProgressed, ImportCompleted };
export type ImportEvent = EventsOf<typeof importEventSchemas>;

export const importCategory = 'import';
export const importStream = (importId: string): string => `${importCategory}-${importId}`;
