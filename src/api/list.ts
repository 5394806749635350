import { authorize, isAllowed } from '../commands/authorization.ts';
import type { Actor } from '../commands/context.ts';
import { fieldsOf } from '../commands/custom-fields.ts';
import { getListView, savedViews } from '../commands/customization.ts';
import { type FieldDefinition, ownValue, queryValue } from '../domain/customization/fields.ts';
import { readScopeOf, type ResourceName, specOf } from '../domain/customization/resources.ts';
import { personalFieldPaths } from '../domain/customization/personal-data.ts';
import type { RouteServices as Services } from './route.ts';
import { countList, listInBatches, listPage, publicView } from '../projections/lists.ts';
import { InvalidCursorError } from '../projections/paging.ts';
import { readFilter, UNRESTRICTED } from '../access/scope.ts';
import { type CsvColumn, csvResponse, csvStream, wantsCsv } from './csv.ts';
import { wantsXlsx, xlsxResponse, xlsxStream } from './xlsx.ts';
import { hiddenFields, isHidden } from './field-security.ts';
import { HttpProblem } from './problem.ts';
import type { RouteResult } from './route.ts';

type ListParams = { limit: number; cursor?: string | undefined; sort?: string | undefined; q?: string | undefined; view?: string | undefined } & Record<string, unknown>;
/** Rows an export reads per batch; it yields to other requests between batches. */
const EXPORT_BATCH_ROWS = 500;

const SORTABLE: readonly FieldDefinition['type'][] = ['text', 'integer', 'decimal', 'date', 'datetime', 'boolean', 'select', 'phone', 'email', 'url', 'reference'];
const invalid = (path: string, message: string) => new HttpProblem(400, 'validation', 'Invalid request', message, { errors: [{ path, message }] });

/** Turns `custom.<key>` query parameters into typed equality filters, and checks a custom sort field. */
async function customQuery(services: Services, resource: ResourceName, collection: string | undefined, params: Record<string, unknown>, sortField: string) {
  const customKeys = Object.keys(params).filter((key) => key.startsWith('custom.'));
  if (customKeys.length === 0 && !sortField.startsWith('custom.')) return { filters: {}, fields: undefined };
  const fields = await fieldsOf(services.deps, resource);
  const filters: Record<string, unknown> = {};
  for (const key of customKeys) {
    const field = ownValue(fields, key.slice('custom.'.length));
    if (!field) throw invalid(`query.${key}`, `No custom field ${key} on ${resource}`);
    const parsed = queryValue(field, String(params[key]));
    if (!parsed.ok) throw invalid(`query.${key}`, parsed.message);
    filters[key] = parsed.value;
  }
  if (sortField.startsWith('custom.')) {
    const field = ownValue(fields, sortField.slice('custom.'.length));
    if (!field) throw invalid('query.sort', `No custom field ${sortField} on ${resource}`);
    if (!SORTABLE.includes(field.type)) throw invalid('query.sort', `A ${field.type} field cannot be sorted`);
  }
  // Indexes on demand: the first filter or sort on a custom field creates its index (a no-op afterwards).
  if (collection)
    for (const key of new Set([...Object.keys(filters), ...(sortField.startsWith('custom.') ? [sortField] : [])]))
      await services.readStore.collection(collection).createIndex({ [key]: 1 });
  return { filters, fields };
}

/**
 * What a list's query selects: the caller's scoped documents matching its filters (a saved view's, then those given),
 * `q` and custom-field filters, in its order; hidden fields can be neither filtered nor sorted by. A list page, an
 * export and a campaign's audience read the same selection.
 */
export async function listSelection(
  context: { query: { sort?: string | undefined; q?: string | undefined; view?: string | undefined } & Record<string, unknown>; actor: Actor; services: Services },
  options: { resource: ResourceName; defaultSort?: string; collection?: string; fixed?: Record<string, unknown>; unowned?: boolean },
) {
  const { query, actor, services } = context;
  const spec = specOf(options.resource);
  const defaultSort = options.defaultSort ?? spec.list.defaultSort;
  authorize(actor, spec.module, 'view');
  // (Paging is the caller's: a page reads `limit` and `cursor`, an export and an audience read everything.)
  const { limit: _limit, cursor: _cursor, sort: givenSort, view: viewId, ...given } = query;
  // A saved view supplies filters, sort and columns; parameters given explicitly win over it.
  const saved = viewId ? (await savedViews(services.deps, actor.userId, options.resource)).views.find((v) => v.id === viewId) : undefined;
  if (viewId && !saved) throw invalid('query.view', `You have no saved ${options.resource} view ${viewId}`);
  const company = await getListView(services.deps, options.resource);
  const params: Record<string, unknown> = { ...saved?.filter, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  const { q, ...filterParams } = params as { q?: string } & Record<string, unknown>;
  // A hidden field must not leak through the list: no filter on it (which answers yes or no), no sort by it
  // (which orders by its value), and `q` searches only the fields the caller may see.
  for (const key of Object.keys(filterParams))
    if (isHidden(actor, options.resource, key)) throw invalid(`query.${key}`, `You may not filter by ${key}: it is hidden for your role`);
  if (givenSort && isHidden(actor, options.resource, givenSort.replace(/^-/, ''))) throw invalid('query.sort', `You may not sort by ${givenSort.replace(/^-/, '')}: it is hidden for your role`);
  const preferred = givenSort ?? saved?.sort ?? (company.revision >= 0n ? company.view.sort : undefined) ?? defaultSort;
  // A view's sort on a field hidden for this caller falls back to the list's default order.
  const sort = isHidden(actor, options.resource, preferred.replace(/^-/, '')) ? defaultSort : preferred;
  const columns = saved?.columns ?? (company.revision >= 0n ? company.view.columns : undefined);
  const sortField = sort.replace(/^-/, '');
  const collection = options.collection ?? options.resource;
  const custom = await customQuery(services, options.resource, collection, filterParams, sortField);
  const standard = Object.fromEntries(Object.entries(filterParams).filter(([key]) => !key.startsWith('custom.')));
  const unlessAsked = spec.list.unlessAsked && standard[spec.list.unlessAsked.field] === undefined ? { [spec.list.unlessAsked.field]: { $ne: spec.list.unlessAsked.value } } : {};
  const searchable = spec.search.filter((field) => !isHidden(actor, options.resource, field));
  const request = {
    sortField,
    direction: sort.startsWith('-') ? (-1 as const) : (1 as const),
    q,
    ...(searchable.length < spec.search.length ? { searchIn: searchable } : {}),
    filters: { ...unlessAsked, ...standard, ...custom.filters, ...options.fixed },
  };
  const scope = options.unowned ? UNRESTRICTED : readFilter(actor, readScopeOf(spec));
  return { spec, collection, request, scope, sort, columns, custom };
}

/**
 * A list route's answer: a page of the actor's scoped documents, or with `Accept: text/csv` (or the XLSX type) every matching
 * document as CSV (or an XLSX workbook; either needs the module's export permission), custom fields included.
 */
export async function listOrExport<T extends { _id: string } & Record<string, unknown>>(
  context: { query: ListParams; actor: Actor; services: Services; koa: { get(name: string): string } },
  options: {
    resource: ResourceName;
    /** Default: the resource's. */
    defaultSort?: string;
    name?: string;
    /** The read model listed (default: the collection named like the resource). */
    collection?: string;
    columns: CsvColumn<T>[];
    /** Filters every answer of this list carries (the customer pool: `inPool: true`). */
    fixed?: Record<string, unknown>;
    /** Listed whatever the caller's data scope (the customer pool). */
    unowned?: boolean;
    present?: (doc: T) => T;
  },
): Promise<RouteResult> {
  const { query, actor, services, koa } = context;
  const { spec, collection, request, scope, sort, columns, custom } = await listSelection(context, options);
  const { limit, cursor } = query;
  const accept = koa.get('Accept');
  if (wantsCsv(accept) || wantsXlsx(accept)) {
    authorize(actor, spec.module, 'export');
    // Counted first, so an export too large is refused (413) before a byte of it is sent.
    const total = await countList(services.readStore, collection, scope, request);
    const cap = services.config.CRM_EXPORT_MAX_ROWS;
    if (total > cap)
      throw new HttpProblem(413, 'export.too_large', 'Export too large', `This export would hold ${total} rows; at most ${cap} may be exported at once. Narrow it with filters (e.g. ownerId, status, a custom field) or q, and export the parts`, { rows: total, maxRows: cap });
    const fields = custom.fields ?? (await fieldsOf(services.deps, options.resource));
    const customColumns: CsvColumn<T>[] = Object.values(fields)
      .filter((field) => !field.retired)
      .map((field) => ({ header: `custom.${field.key}`, value: (doc: T) => (doc.custom as Record<string, unknown> | undefined)?.[field.key] }));
    // Personal fields leave the service in an export only with the personalData export grant.
    const withheld = isAllowed(actor, 'personalData', 'export') ? [] : personalFieldPaths(options.resource, fields);
    const hidden = new Set([...hiddenFields(actor, options.resource), ...withheld]);
    const all: CsvColumn<T>[] = [...options.columns, ...customColumns].filter((column) => !hidden.has(column.field ?? column.header));
    // With a chosen set of columns (a saved view or the company list view), export those, in that order.
    const chosen = columns ? columns.filter((name) => !hidden.has(name)).map((name) => all.find((c) => c.header === name) ?? { header: name, value: (doc: T) => doc[name] }) : all;
    const csvColumns = [all.find((c) => c.header === 'id') ?? { header: 'id', value: (doc: T) => doc._id }, ...chosen.filter((c) => c.header !== 'id')];
    const batches = listInBatches<T>(services.readStore, collection, scope, request, EXPORT_BATCH_ROWS);
    const name = options.name ?? options.resource;
    return wantsXlsx(accept) ? xlsxResponse(xlsxStream(batches, csvColumns, cap, name), name) : csvResponse(csvStream(batches, csvColumns, cap), name);
  }
  // Cursors leave the server sealed (encrypted and authenticated) for this caller, list and order: a client can
  // neither read the sort value inside nor forge or reuse one elsewhere.
  const cursorContext = `${actor.userId}\u0000${options.name ?? options.resource}\u0000${sort}`;
  const opened = cursor === undefined ? undefined : services.keys.open('cursor', cursorContext, cursor);
  if (cursor !== undefined && opened === undefined) throw new InvalidCursorError();
  const page = await listPage<T>(services.readStore, collection, scope, { ...request, limit, ...(opened ? { cursor: opened } : {}) });
  const present = options.present ?? ((doc: T) => doc);
  const nextCursor = page.nextCursor === null ? null : services.keys.seal('cursor', cursorContext, page.nextCursor);
  return { status: 200, body: { items: page.items.map((doc) => publicView(present(doc))), nextCursor, ...(columns ? { columns } : {}), sort } };
}
