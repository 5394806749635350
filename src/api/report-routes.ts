import type { z } from 'zod';
import { authorize } from '../commands/authorization.ts';
import type { Actor } from '../commands/context.ts';
import { reportOwners, UnknownDepartmentError } from '../projections/reports.ts';
import { HttpProblem } from './problem.ts';
import { type CsvColumn, csvResponse, toCsv, wantsCsv } from './csv.ts';
import { commonErrors } from './responses.ts';
import { wantsXlsx, xlsxResponse, xlsxStream } from './xlsx.ts';
import { type AnyRoute, defineRoute, type RouteServices } from './route.ts';

const tags = ['Reports 报表'];

/**
 * A report: `GET /api/v1/reports/<name>` with its query, for callers with reports `view`, answered from the
 * pre-aggregated read models it names (X-Min-Position waits for those only). What it counts is the report's
 * business, always within the caller's data scope.
 */
export function reportRoute<Q>(report: {
  name: string;
  summary: string;
  /** The 200 answer's description. */
  answer: string;
  reads: readonly string[];
  query: z.ZodType<Q>;
  compute(query: Q, actor: Actor, services: RouteServices): Promise<unknown>;
  /** The rows of its CSV or XLSX export (default: the answer's items, or stages, or the answer as one row). */
  table?(answer: unknown): Record<string, unknown>[];
}): AnyRoute {
  return defineRoute({
    method: 'get',
    path: `/api/v1/reports/${report.name}`,
    reads: report.reads,
    summary: report.summary,
    tags,
    permission: ['reports', 'view'],
    query: report.query,
    description: 'With `Accept: text/csv` or `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (XLSX), the same report as a table (reports `export`): a row per item, nested values as dotted columns (`total.amount`).',
    responses: { 200: { description: report.answer }, ...commonErrors },
    async handler({ query, actor, services, koa }) {
      const accept = koa.get('Accept');
      const exported = wantsCsv(accept) || wantsXlsx(accept);
      if (exported) authorize(actor, 'reports', 'export');
      const answer = await report.compute(query, actor, services);
      if (!exported) return { status: 200, body: answer };
      const rows = (report.table ?? defaultTable)(answer).map((row) => flatten(row));
      const columns: CsvColumn<Record<string, unknown>>[] = [...new Set(rows.flatMap((row) => Object.keys(row)))].map((header) => ({ header, value: (row) => row[header] }));
      const name = `report-${report.name}`;
      return wantsXlsx(accept) ? xlsxResponse(xlsxStream(oneBatch(rows), columns, rows.length, name), name) : csvResponse(toCsv(rows, columns), name);
    },
  });
}

/** A report's rows by default: its items, or its stages, or the whole answer as one row. */
function defaultTable(answer: unknown): Record<string, unknown>[] {
  const fields = answer as Record<string, unknown>;
  return (Array.isArray(fields.items) ? fields.items : Array.isArray(fields.stages) ? fields.stages : [fields]) as Record<string, unknown>[];
}

/** A row with its nested objects as dotted columns (`{ total: { amount } }` → `total.amount`); lists stay whole. */
export function flatten(row: Record<string, unknown>, prefix = '', into: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of Object.entries(row)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) flatten(value as Record<string, unknown>, `${prefix}${key}.`, into);
    else into[`${prefix}${key}`] = value;
  }
  return into;
}

async function* oneBatch<T>(rows: T[]): AsyncIterable<T[]> {
  yield rows;
}

/**
 * The owners a report counts (null: everyone): the caller's data scope, narrowed by an owner or a department; an
 * unknown department is the caller's mistake (400 naming query.departmentId).
 */
export async function reportScope(services: RouteServices, actor: Actor, query: { ownerId?: string | undefined; departmentId?: string | undefined }): Promise<string[] | null> {
  try {
    return await reportOwners(services.readStore, actor, query);
  } catch (error) {
    if (error instanceof UnknownDepartmentError) throw new HttpProblem(400, 'validation', 'Invalid request', error.message, { errors: [{ path: 'query.departmentId', message: error.message }] });
    throw error;
  }
}
