import { authorize, type Module } from '../commands/authorization.ts';
import type { Actor } from '../commands/context.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import type { Services } from '../infra/wiring.ts';
import { publicView } from '../projections/customer-queries.ts';
import type { Page, PageRequest } from '../projections/paging.ts';
import { type DataScope, scopeFor } from '../projections/scope.ts';
import { collectPages, type CsvColumn, csvResponse, toCsv, wantsCsv } from './csv.ts';
import type { RouteResult } from './route.ts';

type ListParams = { limit: number; cursor?: string | undefined; sort: string; q?: string | undefined } & Record<string, unknown>;
type Lister<T> = (store: ReadStore, scope: DataScope, request: PageRequest & { q?: string | undefined; filters: Record<string, string | undefined> }) => Promise<Page<T>>;

/**
 * A list route's answer: a page of the actor's scoped documents, or with `Accept: text/csv` every matching
 * document as CSV (which needs the module's export permission).
 */
export async function listOrExport<T extends { _id: string } & Record<string, unknown>>(
  context: { query: ListParams; actor: Actor; services: Services; koa: { get(name: string): string } },
  options: { module: Module; name: string; columns: CsvColumn<T>[]; list: Lister<T> },
): Promise<RouteResult> {
  const { query, actor, services, koa } = context;
  authorize(actor, options.module, 'view');
  const { limit, cursor, sort, q, ...filters } = query;
  const request = {
    sortField: sort.replace('-', ''),
    direction: sort.startsWith('-') ? (-1 as const) : (1 as const),
    q,
    filters: filters as Record<string, string | undefined>,
  };
  const scope = scopeFor(actor);
  if (wantsCsv(koa.get('Accept'))) {
    authorize(actor, options.module, 'export');
    const rows = await collectPages((next) => options.list(services.readStore, scope, { ...request, limit: 200, ...(next ? { cursor: next } : {}) }));
    return csvResponse(toCsv(rows, options.columns), options.name);
  }
  const page = await options.list(services.readStore, scope, { ...request, limit, ...(cursor ? { cursor } : {}) });
  return { status: 200, body: { items: page.items.map(publicView), nextCursor: page.nextCursor } };
}
