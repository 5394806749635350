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

export const importEventSchemas = { ImportUploaded };
export type ImportEvent = EventsOf<typeof importEventSchemas>;

export const importCategory = 'import';
export const importStream = (importId: string): string => `${importCategory}-${importId}`;
