import type { z } from 'zod';
import type { Actor } from '../commands/context.ts';
import { reportOwners, UnknownDepartmentError } from '../projections/reports.ts';
import { HttpProblem } from './problem.ts';
import { commonErrors } from './responses.ts';
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
}): AnyRoute {
  return defineRoute({
    method: 'get',
    path: `/api/v1/reports/${report.name}`,
    reads: report.reads,
    summary: report.summary,
    tags,
    permission: ['reports', 'view'],
    query: report.query,
    responses: { 200: { description: report.answer }, ...commonErrors },
    async handler({ query, actor, services }) {
      return { status: 200, body: await report.compute(query, actor, services) };
    },
  });
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
