import { z } from 'zod';
import { ownerInScope } from '../../access/scope.ts';
import { authorize } from '../../commands/authorization.ts';
import type { Actor } from '../../commands/context.ts';
import { fieldsOf } from '../../commands/custom-fields.ts';
import { importStatus, recordUpload } from '../../commands/imports.ts';
import { IMPORT_RESOURCES, type ImportResource, suggestMapping } from '../../domain/import/index.ts';
import { specOf } from '../../domain/customization/resources.ts';
import { MalformedCsvError, MalformedWorkbookError, NotTextError, readTable, RowLimitError, type Table } from '../../infra/tabular/index.ts';
import { isHidden } from '../field-security.ts';
import { notFound } from '../history.ts';
import { HttpProblem } from '../problem.ts';
import { commonErrors, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute, IdParams, type RouteServices } from '../route.ts';
import { readUpload } from '../upload.ts';

const tags = ['Imports 数据导入'];

const Mapping = z.record(z.string(), z.string().nullable()).describe('Per column (by its header), the field it fills: a standard field, custom.<key>, ownerUsername (the owner by login name) or, for contacts, customerName (their customer by name); null leaves the column out');
const Uploaded = z
  .object({
    id: z.string(),
    resource: z.enum(IMPORT_RESOURCES),
    columns: z.array(z.string()).describe('The header row, as written'),
    suggestedMapping: Mapping,
    rows: z.number().int().describe('Rows under the header'),
    format: z.enum(['csv', 'xlsx']),
    encoding: z.enum(['utf-8', 'utf-8-bom', 'gb18030']).optional().describe('How a CSV file was read'),
  })
  .meta({ id: 'ImportUploaded' });
const ImportView = z
  .object({
    id: z.string(),
    resource: z.enum(IMPORT_RESOURCES),
    status: z.enum(['uploaded']).describe('uploaded → running → completed'),
    fileName: z.string(),
    format: z.enum(['csv', 'xlsx']),
    encoding: z.string().optional(),
    columns: z.array(z.string()),
    rows: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    failed: z.number().int(),
    batchId: z.string().nullable().describe('The batch its run is (GET /api/v1/batches/:id; undo it there)'),
    uploadedBy: z.string(),
    uploadedAt: z.string(),
  })
  .meta({ id: 'Import' });

const tooLarge = (maxBytes: number) => new HttpProblem(413, 'import.too_large', 'File too large', `An import file may be at most ${maxBytes} bytes`, { maxBytes });

/** The file as a table, or the 4xx that says what is wrong with it. */
async function tableOf(services: RouteServices, bytes: Uint8Array): Promise<Table> {
  const maxRows = services.config.CRM_IMPORT_MAX_ROWS;
  try {
    return await readTable(bytes, { maxRows });
  } catch (error) {
    if (error instanceof RowLimitError) throw new HttpProblem(413, 'import.too_many_rows', 'Too many rows', `An import may hold at most ${maxRows} rows; split the file`, { maxRows });
    if (error instanceof NotTextError) throw new HttpProblem(415, 'import.unsupported_file', 'Not a CSV or XLSX file', `${error.message}. Upload CSV (UTF-8 or GB18030) or an XLSX workbook`);
    if (error instanceof MalformedCsvError) throw new HttpProblem(422, 'import.malformed_file', 'Malformed CSV', error.message, { line: error.line });
    if (error instanceof MalformedWorkbookError) throw new HttpProblem(422, 'import.malformed_file', 'Malformed workbook', error.message);
    throw error;
  }
}

/** Importing records creates and changes them: it takes the import grant and the record type's create and edit. */
function authorizeImport(actor: Actor, resource: ImportResource): void {
  authorize(actor, 'imports', 'create');
  authorize(actor, specOf(resource).module, 'create');
  authorize(actor, specOf(resource).module, 'edit');
}

export const importRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/imports',
    upload: true,
    idempotent: false,
    summary: 'Upload a file to import (multipart/form-data: file, resource): customers, contacts, products or leads from CSV (UTF-8, UTF-8 with BOM, GB18030) or XLSX',
    description:
      'The file is read by its content, not its name: a zip is read as a workbook (its first worksheet), anything else as CSV text. Answers its columns and a column mapping suggested from the headers in Chinese or English (edit it before the dry run). At most CRM_IMPORT_MAX_BYTES (413 import.too_large) and CRM_IMPORT_MAX_ROWS rows (413 import.too_many_rows); a file that is no CSV or XLSX → 415 import.unsupported_file, an unreadable one → 422 import.malformed_file with the line. Takes imports create, and create and edit on the record type.',
    tags,
    responses: { 201: { description: 'Uploaded and read', schema: Uploaded }, ...commonErrors, 413: { description: 'Too large' }, 415: { description: 'Not CSV or XLSX' }, 422: { description: 'Malformed' } },
    async handler({ actor, services, meta, koa }) {
      authorize(actor, 'imports', 'create');
      const { name, bytes, fields } = await readUpload(koa, services.config.CRM_IMPORT_MAX_BYTES, tooLarge);
      const resource = z.enum(IMPORT_RESOURCES).safeParse(fields.resource);
      if (!resource.success)
        throw new HttpProblem(400, 'validation', 'Invalid request', `Name what the file holds in the field resource: one of ${IMPORT_RESOURCES.join(', ')}`, { errors: [{ path: 'resource', message: `Expected one of ${IMPORT_RESOURCES.join(', ')}` }] });
      authorizeImport(actor, resource.data);
      const table = await tableOf(services, bytes);
      const sha256 = await services.blobs.put(bytes);
      const upload = { resource: resource.data, fileName: name, sha256, size: bytes.length, format: table.format, ...(table.encoding ? { encoding: table.encoding } : {}), columns: table.header, rows: table.rows.length };
      const { importId, position } = await recordUpload(services.deps, upload, actor, meta);
      // Custom fields as columns may name them; one hidden for the caller is never suggested.
      const custom = Object.values(await fieldsOf(services.deps, resource.data)).filter((field) => !field.retired && !isHidden(actor, resource.data, `custom.${field.key}`));
      const suggested = suggestMapping(resource.data, table.header, custom);
      const suggestedMapping = Object.fromEntries(Object.entries(suggested).map(([column, target]) => [column, target && !isHidden(actor, resource.data, target) ? target : null]));
      return {
        status: 201,
        body: { id: importId, resource: resource.data, columns: table.header, suggestedMapping, rows: table.rows.length, format: table.format, ...(table.encoding ? { encoding: table.encoding } : {}) },
        headers: { Location: `/api/v1/imports/${importId}`, 'X-Position': String(position) },
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/imports/:id',
    reads: [],
    summary: 'An import: its file, its status and, once run, its counts (rows done, created, updated, failed) and its batch',
    description: 'Visible to whoever may view imports and whose data scope covers the person who uploaded it.',
    tags,
    permission: ['imports', 'view'],
    params: IdParams,
    responses: { 200: { description: 'The import', schema: ImportView }, ...commonErrors, ...notFoundError },
    async handler({ params, actor, services }) {
      const status = await importStatus(services.deps, params.id);
      if (!status || !(await ownerInScope(services.deps, actor, status.uploadedBy))) throw notFound('import', params.id);
      const { sha256: _sha256, ...view } = status;
      return { status: 200, body: view };
    },
  }),
];
