import { z } from 'zod';
import { ownerInScope } from '../../access/scope.ts';
import { authorize } from '../../commands/authorization.ts';
import type { Actor } from '../../commands/context.ts';
import { fieldsOf } from '../../commands/custom-fields.ts';
import { type ImportStatus, importStatus, recordUpload, startImport } from '../../commands/imports.ts';
import { runImport } from '../../commands/import-run.ts';
import { importDeps, stableMeta } from '../../app/jobs.ts';
import { IMPORT_RESOURCES, type ImportResource, suggestMapping } from '../../domain/import/index.ts';
import { specOf } from '../../domain/customization/resources.ts';
import { MalformedCsvError, MalformedWorkbookError, NotTextError, readTable, RowLimitError, type Table, UnsupportedWorkbookError } from '../../infra/tabular/index.ts';
import { assertFieldsWritable, isHidden } from '../field-security.ts';
import { importKinds } from '../../commands/import-kinds.ts';
import { checkMapping, ImportRequest, MappingError, planRows, rowView, writtenFields } from '../../commands/import-rows.ts';
import { deleteImportTemplate, fittingTemplate, ImportTemplate, importTemplates, saveImportTemplate } from '../../commands/import-templates.ts';
import { companySettings } from '../../commands/company.ts';
import { CONTACTS, CUSTOMERS } from '../../projections/customers.ts';
import { notFound } from '../history.ts';
import { HttpProblem } from '../problem.ts';
import { commonErrors, conflictError, notFoundError } from '../responses.ts';
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
    template: z
      .object({ name: z.string(), matchBy: z.string().optional(), policy: z.record(z.string(), z.string()) })
      .optional()
      .describe('The saved template the mapping came from (named in the upload, or the one that fits the columns best), with its match key and policy'),
  })
  .meta({ id: 'ImportUploaded' });
const TemplateName = z.string().trim().min(1).max(100);
const TemplateParams = z.object({ resource: z.enum(IMPORT_RESOURCES), name: TemplateName });
const SavedTemplateView = ImportTemplate.extend({ name: z.string(), resource: z.enum(IMPORT_RESOURCES), savedBy: z.string(), savedAt: z.string() }).meta({ id: 'SavedImportTemplate' });
const ImportView = z
  .object({
    id: z.string(),
    resource: z.enum(IMPORT_RESOURCES),
    status: z.enum(['uploaded', 'running', 'completed']).describe('uploaded → running → completed'),
    fileName: z.string(),
    format: z.enum(['csv', 'xlsx']),
    encoding: z.string().optional(),
    columns: z.array(z.string()),
    rows: z.number().int(),
    done: z.number().int().describe('Rows written so far'),
    created: z.number().int(),
    updated: z.number().int(),
    skipped: z.number().int(),
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
    if (error instanceof UnsupportedWorkbookError) throw new HttpProblem(415, 'import.unsupported_file', 'Not a CSV or XLSX file', error.message);
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

const RowResultView = z.object({
  row: z.number().int().describe('The line in the file (the header is line 1)'),
  action: z.enum(['create', 'update', 'skip', 'error']),
  recordId: z.string().optional().describe('The record an update changes'),
  changes: z.array(z.string()).optional().describe('The fields an update changes'),
  errors: z.array(z.object({ field: z.string(), column: z.string().optional(), message: z.string() })).optional(),
  reason: z.string().optional().describe('Why a row is skipped'),
});
const DryRun = z
  .object({
    rows: z.number().int(),
    summary: z.object({ create: z.number().int(), update: z.number().int(), skip: z.number().int(), error: z.number().int() }),
    results: z.array(RowResultView).describe('The page of rows asked for (offset, limit, action)'),
  })
  .meta({ id: 'ImportDryRun' });

/** Checks a dry run's or a run's request against the file and the caller's field rights; answers the custom fields. */
async function checkRequest(services: RouteServices, actor: Actor, status: ImportStatus, body: ImportRequest) {
  const custom = await fieldsOf(services.deps, status.resource);
  try {
    checkMapping(status.resource, status.columns, body, custom);
  } catch (error) {
    if (error instanceof MappingError) throw new HttpProblem(400, 'validation', 'Invalid mapping', error.message, { errors: error.errors });
    throw error;
  }
  assertFieldsWritable(actor, status.resource, writtenFields(body));
  return custom;
}

/** An import the caller may see (its uploader in their scope), with its table read again from the stored file. */
async function visibleImport(services: RouteServices, actor: Actor, importId: string) {
  const status = await importStatus(services.deps, importId);
  if (!status || !(await ownerInScope(services.deps, actor, status.uploadedBy))) throw notFound('import', importId);
  return status;
}

export const importRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/import-templates',
    reads: [],
    summary: 'Saved import templates (导入模板): column mappings with their match key and policy, by record type',
    tags,
    permission: ['imports', 'view'],
    query: z.object({ resource: z.enum(IMPORT_RESOURCES).optional() }).strict(),
    responses: { 200: { description: 'The templates', schema: z.object({ items: z.array(SavedTemplateView) }) }, ...commonErrors },
    async handler({ query, services }) {
      const items = [];
      for (const resource of query.resource ? [query.resource] : IMPORT_RESOURCES) items.push(...Object.values(await importTemplates(services.deps, resource)).sort((a, b) => a.name.localeCompare(b.name)));
      return { status: 200, body: { items } };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/import-templates/:resource/:name',
    summary: 'Save an import template under a name (replacing one of that name): the next upload whose columns it fits is mapped by it',
    description: 'The body is what a dry run takes (mapping, matchBy, policy); the mapping is checked against the record type\'s fields and custom fields (400 naming a target it lacks). Takes imports create and create on the record type.',
    tags,
    params: TemplateParams,
    body: ImportTemplate,
    responses: { 200: { description: 'Saved', schema: SavedTemplateView }, ...commonErrors },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'imports', 'create');
      authorizeImport(actor, params.resource);
      const custom = await fieldsOf(services.deps, params.resource);
      try {
        checkMapping(params.resource, Object.keys(body.mapping), body, custom);
      } catch (error) {
        if (error instanceof MappingError) throw new HttpProblem(400, 'validation', 'Invalid mapping', error.message, { errors: error.errors });
        throw error;
      }
      return { status: 200, body: await saveImportTemplate(services.deps, params.resource, params.name, body, actor, meta) };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/import-templates/:resource/:name',
    summary: 'Delete an import template',
    tags,
    params: TemplateParams,
    responses: { 204: { description: 'Deleted' }, ...commonErrors, ...notFoundError },
    async handler({ params, actor, services, meta }) {
      authorize(actor, 'imports', 'create');
      authorizeImport(actor, params.resource);
      if (!(await deleteImportTemplate(services.deps, params.resource, params.name, actor, meta))) throw notFound('import_template', params.name);
      return { status: 204, body: null };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/imports',
    upload: true,
    idempotent: false,
    summary: 'Upload a file to import (multipart/form-data: file, resource): customers, contacts, products or leads from CSV (UTF-8, UTF-8 with BOM, GB18030) or XLSX',
    description:
      'The file is read by its content, not its name: a zip is read as a workbook (its first visible worksheet), anything else as CSV text. Answers its columns and a column mapping suggested from the headers in Chinese or English (edit it before the dry run). At most CRM_IMPORT_MAX_BYTES (413 import.too_large) and CRM_IMPORT_MAX_ROWS rows (413 import.too_many_rows); a file that is no CSV or XLSX → 415 import.unsupported_file, an unreadable one → 422 import.malformed_file with the line. Takes imports create, and create and edit on the record type.',
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
      const templates = await importTemplates(services.deps, resource.data);
      const named = typeof fields.template === 'string' && fields.template ? templates[fields.template] : undefined;
      if (typeof fields.template === 'string' && fields.template && !named) throw notFound('import_template', fields.template);
      const template = named ?? fittingTemplate(templates, table.header);
      // A saved template's mapping first (for the columns it names), the headers' suggestions for the others.
      const suggested = { ...suggestMapping(resource.data, table.header, custom), ...(template ? Object.fromEntries(Object.entries(template.mapping).filter(([column]) => table.header.includes(column))) : {}) };
      const suggestedMapping = Object.fromEntries(Object.entries(suggested).map(([column, target]) => [column, target && !isHidden(actor, resource.data, target) ? target : null]));
      return {
        status: 201,
        body: {
          id: importId,
          resource: resource.data,
          columns: table.header,
          suggestedMapping,
          rows: table.rows.length,
          format: table.format,
          ...(table.encoding ? { encoding: table.encoding } : {}),
          ...(template ? { template: { name: template.name, ...(template.matchBy ? { matchBy: template.matchBy } : {}), policy: template.policy } } : {}),
        },
        headers: { Location: `/api/v1/imports/${importId}`, 'X-Position': String(position) },
      };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/imports/:id/dry-run',
    reads: [CUSTOMERS, CONTACTS, 'products', 'leads'],
    summary: 'Dry run: what each row would do (create, update, skip, or error naming the field, the column and what is wrong), nothing written',
    description:
      'Checks each row as the run will write it: its cells read by their fields (amounts as 1234.56 in the company currency, dates, yes/no), the fields against the record type, the owner by login name, the unique name and tax number. With `matchBy`, a row whose key names a record in your scope updates it by `policy` (per field: overwrite, fillIfEmpty — the default — or keep); a row repeating an earlier one is skipped. The summary counts every row; `results` is a page of them (`?offset=&limit=&action=`). Customers are supported now; contacts, products and leads follow.',
    tags,
    params: IdParams,
    query: z
      .object({
        offset: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(5000).default(1000),
        action: z.enum(['create', 'update', 'skip', 'error']).optional().describe('Only rows of this outcome'),
      })
      .strict(),
    body: ImportRequest,
    responses: { 200: { description: 'Per-row results', schema: DryRun }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, query, body, actor, services }) {
      authorize(actor, 'imports', 'create');
      const status = await visibleImport(services, actor, params.id);
      authorizeImport(actor, status.resource);
      const custom = await checkRequest(services, actor, status, body);
      const bytes = await services.blobs.get(status.sha256);
      if (!bytes) throw new HttpProblem(410, 'import.file_gone', 'File gone', 'The uploaded file is no longer stored; upload it again');
      const table = await tableOf(services, bytes);
      const { settings } = await companySettings(services.deps);
      const results = await planRows({ deps: services.deps, readStore: services.readStore, actor, currency: settings.currency, custom }, importKinds[status.resource], table, body);
      const summary = { create: 0, update: 0, skip: 0, error: 0 };
      for (const result of results) summary[result.action] += 1;
      const chosen = query.action ? results.filter((result) => result.action === query.action) : results;
      return { status: 200, body: { rows: results.length, summary, results: chosen.slice(query.offset, query.offset + query.limit).map(rowView) } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/imports/:id/run',
    reads: [CUSTOMERS, CONTACTS, 'products', 'leads'],
    summary: 'Run an import (same body as the dry run): in the background, as one batch that can be undone; follow Location for its progress',
    description: 'Rows are written as the dry run said, part by part; a row refused at write time (a value taken meanwhile) is counted as failed. Resumes after a crash or a restart without writing anything twice. An import runs once (409 import.already_run).',
    tags,
    params: IdParams,
    body: ImportRequest,
    responses: { 202: { description: 'Started', schema: z.object({ id: z.string(), status: z.literal('running'), batchId: z.string() }) }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'imports', 'create');
      const status = await visibleImport(services, actor, params.id);
      authorizeImport(actor, status.resource);
      await checkRequest(services, actor, status, body);
      const { batchId, position } = await startImport(services.deps, status, body, actor, meta);
      services.backgroundOrWorker(`import ${params.id}`, () => runImport(importDeps(services), params.id, actor, stableMeta(services)(`import:${params.id}`)));
      return { status: 202, body: { id: params.id, status: 'running', batchId }, headers: { Location: `/api/v1/imports/${params.id}`, 'X-Position': String(position) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/imports/:id/errors',
    reads: [],
    summary: 'The error report: the rows that failed, as the file had them, with a column saying why (CSV, UTF-8 with a BOM for Excel)',
    tags,
    permission: ['imports', 'view'],
    params: IdParams,
    responses: { 200: { description: 'text/csv', contentType: 'text/csv' }, ...commonErrors, ...notFoundError },
    async handler({ params, actor, services }) {
      const status = await visibleImport(services, actor, params.id);
      const bytes = await services.blobs.get(status.sha256);
      if (!bytes) throw new HttpProblem(410, 'import.file_gone', 'File gone', 'The uploaded file is no longer stored');
      const table = await tableOf(services, bytes);
      const why = new Map(status.failures.map((failure) => [failure.row, failure.errors.map((e) => `${e.column ?? e.field}: ${e.message}`).join('; ')]));
      const escape = (cell: string) => (/[",\r\n]/.test(cell) || /^[=+\-@]/.test(cell) ? `"${(/^[=+\-@]/.test(cell) ? `'${cell}` : cell).replace(/"/g, '""')}"` : cell);
      const lines = [['行 Row', ...table.header, '错误 Errors'].map(escape).join(',')];
      table.rows.forEach((row, index) => {
        const reason = why.get(index + 2);
        if (reason !== undefined) lines.push([String(index + 2), ...table.header.map((_, i) => row[i] ?? ''), reason].map(escape).join(','));
      });
      const ascii = status.fileName.replace(/\.[^.]*$/, '').replace(/[^\x20-\x7e]|["\\]/g, '_');
      return {
        status: 200,
        body: `\ufeff${lines.join('\r\n')}\r\n`,
        headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${ascii}-errors.csv"; filename*=UTF-8''${encodeURIComponent(status.fileName.replace(/\.[^.]*$/, ''))}-errors.csv` },
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
      const { sha256: _sha256, request: _request, failures: _failures, revision: _revision, rowIdTime: _rowIdTime, ...view } = await visibleImport(services, actor, params.id);
      return { status: 200, body: view };
    },
  }),
];
