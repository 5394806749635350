import { z } from 'zod';
import { authorize } from '../commands/authorization.ts';
import type { Actor } from '../commands/context.ts';
import { reportOwners, UnknownDepartmentError } from '../projections/reports.ts';
import { HttpProblem } from './problem.ts';
import { type CsvColumn, csvResponse, toCsv, wantsCsv } from './csv.ts';
import { commonErrors } from './responses.ts';
import { wantsXlsx, xlsxResponse, xlsxStream } from './xlsx.ts';
import { type AnyRoute, defineRoute, type RouteResult, type RouteServices } from './route.ts';
import type { AsOfModel } from '../projections/as-of.ts';
import type { ReadStore } from '../infra/readstore/port.ts';

const tags = ['Reports 报表'];

/** A report's definition: what it reads, its query, how it is computed and exported. */
interface ReportSpec<S extends z.ZodObject> {
  name: string;
  summary: string;
  /** The 200 answer's description. */
  answer: string;
  reads: readonly string[];
  query: S;
  compute(query: z.output<S>, actor: Actor, services: RouteServices): Promise<unknown>;
  /** The rows of its CSV or XLSX export (default: the answer's items, or stages, or the answer as one row). */
  table?(answer: unknown): Record<string, unknown>[];
}

const AsOf = z.iso.datetime({ offset: true }).optional().describe('The report as the event log stood at this past instant (every event recorded at or before it); omitted: now');

/** What a report job answers when polled: the report, computed for whoever polls, over the past instant's read model. */
type ReportAnswer = (actor: Actor, services: RouteServices, accept: string, store: ReadStore) => Promise<RouteResult>;

/**
 * A report: `GET /api/v1/reports/<name>` with its query, for callers with reports `view`, answered from the
 * pre-aggregated read models it names (X-Min-Position waits for those only). What it counts is the report's
 * business, always within the caller's data scope. With `?asOf=` it is answered from those read models as the
 * log stood at that instant (AsOfModels); one that takes longer than CRM_ASOF_WAIT_MS answers 202 with the
 * Location of a job to poll (asOfJobRoute).
 */
export function reportRoute<S extends z.ZodObject>(report: ReportSpec<S>): AnyRoute {
  const answer = answerFor(report);
  return defineRoute({
    method: 'get',
    path: `/api/v1/reports/${report.name}`,
    reads: report.reads,
    summary: report.summary,
    tags,
    permission: ['reports', 'view'],
    query: report.query.safeExtend({ asOf: AsOf }),
    description:
      'With `Accept: text/csv` or `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (XLSX), the same report as a table (reports `export`): a row per item, nested values as dotted columns (`total.amount`). ' +
      '`?asOf=` answers the report as the event log stood at that past instant (its read models rebuilt from the log cut there, cached a while; your data scope and the settings are today\'s); the JSON answer then carries `asOf`. ' +
      'A past instant that takes longer than a moment to compute answers 202 with a `Location` to poll (GET /api/v1/reports/as-of/{jobId}).',
    responses: { 200: { description: report.answer }, 202: { description: 'Being computed as of the past instant: poll the Location (body: the job, with status and events applied so far)' }, ...commonErrors },
    async handler({ query, actor, services, koa }) {
      const { asOf, ...rest } = query as z.output<S> & { asOf?: string };
      const accept = koa.get('Accept');
      if (asOf === undefined) return answer(rest as z.output<S>)(actor, services, accept, services.readStore);
      const instant = new Date(asOf);
      if (instant > services.clock.now())
        throw new HttpProblem(400, 'validation', 'Invalid request', 'asOf is in the future; leave it out for the report as of now', { errors: [{ path: 'query.asOf', message: 'Must not be in the future' }] });
      if (wantsCsv(accept) || wantsXlsx(accept)) authorize(actor, 'reports', 'export');
      const respond = answer({ ...rest, asOf } as z.output<S>);
      const model = services.asOf.model(instant, report.reads);
      const waitMs = services.config.CRM_ASOF_WAIT_MS;
      const store = model.state === 'ready' ? await model.ready : waitMs > 0 ? await settledWithin(model.ready.catch(() => undefined), waitMs) : undefined;
      if (model.state === 'failed') throw asOfFailed(instant, model);
      if (store) return respond(actor, services, accept, store);
      const jobId = services.asOf.startJob<ReportAnswer>(actor.userId, instant, report.reads, respond);
      return { status: 202, body: jobBody(jobId, asOf, model), headers: { Location: `/api/v1/reports/as-of/${jobId}`, 'Retry-After': '1' } };
    },
  });
}

/**
 * How a report answers a query for a caller over a read store: JSON, or its table as CSV or XLSX (reports
 * `export`). Over a past instant's store, "now" is that instant and the JSON answer says `asOf`.
 */
function answerFor<S extends z.ZodObject>(report: ReportSpec<S>) {
  return (query: z.output<S> & { asOf?: string }): ReportAnswer =>
    async (actor, services, accept, store) => {
      const exported = wantsCsv(accept) || wantsXlsx(accept);
      if (exported) authorize(actor, 'reports', 'export');
      const { asOf } = query;
      const then = asOf === undefined ? services : asOfServices(services, store, new Date(asOf));
      const answer = await report.compute(query, actor, then);
      if (!exported) return { status: 200, body: asOf === undefined ? answer : { ...(answer as object), asOf } };
      const rows = (report.table ?? defaultTable)(answer).map((row) => flatten(row));
      const columns: CsvColumn<Record<string, unknown>>[] = [...new Set(rows.flatMap((row) => Object.keys(row)))].map((header) => ({ header, value: (row) => row[header] }));
      const name = `report-${report.name}`;
      return wantsXlsx(accept) ? xlsxResponse(xlsxStream(oneBatch(rows), columns, rows.length, name), name) : csvResponse(toCsv(rows, columns), name);
    };
}

/** The services a report computes with as of a past instant: its read models, and a clock stopped at that instant. */
function asOfServices(services: RouteServices, store: ReadStore, instant: Date): RouteServices {
  const clock = { now: () => new Date(instant) };
  return { ...services, readStore: store, clock, deps: { ...services.deps, clock } };
}

/** The promise's value if it settles within `ms` (a rejection is thrown), else undefined. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const jobBody = (id: string, asOf: string, model: AsOfModel) => ({ id, status: 'running', asOf, eventsApplied: model.applied });

/** A past instant whose log a read model cannot apply (an administrator has been told, as for a live projection). */
const asOfFailed = (instant: Date, model: AsOfModel) =>
  new HttpProblem(503, 'report.as_of_failed', 'Cannot be computed', `The report as of ${instant.toISOString()} cannot be computed: ${model.error ?? 'a read model could not apply the log'}`, {}, { 'Retry-After': '60' });

/**
 * `GET /api/v1/reports/as-of/{jobId}`: a report as of a past instant that took longer than its caller waited. 202
 * while it is being computed, then the report (as the report's own URL answers it, for the caller as they are now:
 * permissions, data scope, Accept); only the caller who asked may poll it (404 for anyone else).
 */
export const asOfJobRoute: AnyRoute = defineRoute({
  method: 'get',
  path: '/api/v1/reports/as-of/:jobId',
  reads: [],
  summary: 'A report as of a past instant that is being computed: 202 until it is ready, then the report',
  description:
    'The job a report with `?asOf=` answered 202 for. While its read model is being built: 202 with `status: running`, `eventsApplied` and `Retry-After`. Then: the report, as its own URL answers it (JSON, or CSV/XLSX by `Accept`). Jobs belong to their caller (404 for anyone else) and are kept 15 minutes after their last poll. ' +
    'A past instant whose log a read model cannot apply answers 503 `report.as_of_failed`.',
  tags,
  permission: ['reports', 'view'],
  params: z.object({ jobId: z.uuid() }).strict(),
  responses: { 200: { description: 'The report' }, 202: { description: 'Still being computed' }, ...commonErrors },
  async handler({ params, actor, services, koa }) {
    const job = services.asOf.job<ReportAnswer>(params.jobId, actor.userId);
    if (!job) throw new HttpProblem(404, 'report.job_not_found', 'Not found', `There is no report job ${params.jobId}`);
    const model = services.asOf.model(job.instant, job.collections);
    if (model.state === 'failed') throw asOfFailed(job.instant, model);
    if (model.state === 'building') return { status: 202, body: jobBody(job.id, job.instant.toISOString(), model), headers: { Location: `/api/v1/reports/as-of/${job.id}`, 'Retry-After': '1' } };
    return job.answer(actor, services, koa.get('Accept'), await model.ready);
  },
});

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
