import { z } from 'zod';
import { readFilter, UNRESTRICTED } from '../../access/scope.ts';
import { authorize, isAllowed } from '../../commands/authorization.ts';
import { fieldsOf } from '../../commands/custom-fields.ts';
import { readScopeOf, type ResourceName, resourceSpecs, type ResourceSpec } from '../../domain/customization/resources.ts';
import { QueryTimeLimitError, ReadStoreUnavailableError } from '../../infra/readstore/port.ts';
import { ALLOWED_STAGES, leavingOut, MAX_STAGES, refusalOf } from '../analytics-pipeline.ts';
import { documentSchema } from '../read-model-schema.ts';
import { hiddenPaths, isHidden } from '../field-security.ts';
import { HttpProblem } from '../problem.ts';
import { commonErrors, problem } from '../responses.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import type { Actor } from '../../commands/context.ts';

/**
 * The read models' own bookkeeping, never shown: search text, phone keys, folded state (which holds every field,
 * hidden ones too), positions, follow-up bases, activity day counts, the versions sent to the ERP and answered.
 */
export const INTERNAL_FIELDS = ['_search', '_phones', '_state', '_position', '_contactBase', '_activityDays', '_erpVersion', '_erpSentAt', '_erpAnsweredVersion', '_erpAwaiting'] as const;

/** The collections an analyst may query: each record type's read model, named like it. */
export const queryableCollections = (): ResourceSpec[] => Object.values(resourceSpecs);

/** What every document loses before the analyst's stages see it: the bookkeeping and the fields hidden from them. */
const excludedPaths = (actor: Actor, spec: ResourceSpec): Record<string, 0> => leavingOut([...INTERNAL_FIELDS, ...hiddenPaths(actor, spec.name)]);

const QueryBody = z
  .object({
    collection: z.string().min(1).max(60).describe('A record type\'s read model, e.g. "opportunities" (see the list in the 400 answer for another)'),
    pipeline: z
      .array(z.record(z.string(), z.unknown()))
      .max(MAX_STAGES)
      .describe(`Aggregation stages, from ${ALLOWED_STAGES.join(' ')}; no regular expressions, no scripts, no other collections`),
  })
  .strict()
  .meta({
    id: 'AnalyticsQuery',
    examples: [{ collection: 'opportunities', pipeline: [{ $match: { status: 'open' } }, { $group: { _id: '$stage', count: { $sum: 1 }, amount: { $sum: '$amount.amount' } } }, { $sort: { amount: -1 } }] }],
  });

const ReadModelView = z
  .object({
    name: z.string().describe('The collection, as POST /api/v1/analytics/query names it'),
    module: z.string().describe('The permission module whose view it needs'),
    scope: z.enum(['company', 'owner', 'parent', 'parties']).describe('How its documents are scoped: company-wide, by owner, by the record they belong to, or by the parties of a ticket'),
    schema: z.record(z.string(), z.unknown()).describe('JSON Schema (2020-12) of its documents as you see them'),
    indexes: z.array(z.object({ name: z.string(), keys: z.record(z.string(), z.union([z.literal(1), z.literal(-1)])), unique: z.boolean() })).describe('Its indexes besides _id: a $match or $sort on their first field is cheap'),
    feeds: z.object({ categories: z.array(z.string()).describe('The event-stream categories its projection follows'), events: z.array(z.string()).describe('The event types of its own stream that declare a schema') }),
  })
  .meta({ id: 'ReadModel' });

/** The analysts' query interface (数据分析): aggregations over the read models, inside the caller's scope and field security. */
export const analyticsRoutes = (routes: readonly AnyRoute[]): AnyRoute[] => [
  defineRoute({
    method: 'get',
    path: '/api/v1/read-models',
    // Index descriptions and field definitions, not a projection's documents: nothing for X-Min-Position to wait for.
    reads: [],
    permission: ['analytics', 'query'],
    summary: 'The read models you may query: each one\'s JSON Schema as you see it, its indexes, and the events that feed it',
    tags: ['Analytics'],
    responses: { 200: { description: 'The read models', schema: z.object({ items: z.array(ReadModelView) }) }, ...commonErrors },
    async handler({ actor, services }) {
      const items = [];
      for (const spec of queryableCollections()) {
        if (!isAllowed(actor, spec.module, 'view')) continue;
        const view = routes.find((route) => route.method === 'get' && route.path === `/api/v1/${spec.name}/:id`)?.responses[200]?.schema;
        const projection = services.runner.projections.find((candidate) => candidate.collections.includes(spec.name));
        items.push({
          name: spec.name,
          module: spec.module,
          scope: spec.scope.by,
          schema: view ? documentSchema(view, await fieldsOf(services.deps, spec.name as ResourceName), hiddenPaths(actor, spec.name)) : {},
          indexes: (await services.readStore.collection(spec.name).listIndexes()).filter((index) => !Object.keys(index.keys).some((field) => INTERNAL_FIELDS.includes(field as never) || isHidden(actor, spec.name, field))),
          feeds: { categories: [...(projection?.categories ?? [])], events: Object.keys(spec.events ?? {}) },
        });
      }
      return { status: 200, body: { items } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/analytics/query',
    permission: ['analytics', 'query'],
    summary: 'Run an aggregation over a record type\'s read model, within your data scope and with the fields hidden from you taken out before your first stage',
    description: `Needs analytics:query and view on the record type's module. Stages: ${ALLOWED_STAGES.join(' ')} (anything else: 400 analytics.stage_not_allowed naming it); operators that run code ($where, $function, $accumulator) or take regular expressions are refused (400 analytics.operator_not_allowed). At most CRM_ANALYTICS_MAX_ROWS rows are answered (10,000 by default; truncated: true beyond), and a query may run CRM_ANALYTICS_MAX_TIME_MS (5 s by default; 422 analytics.time_limit beyond).`,
    tags: ['Analytics'],
    body: QueryBody,
    idempotent: false,
    responses: {
      200: { description: 'The rows', schema: z.object({ items: z.array(z.record(z.string(), z.unknown())), truncated: z.boolean().describe('More rows than CRM_ANALYTICS_MAX_ROWS: the first ones are answered') }) },
      ...commonErrors,
      422: problem('The query ran past its time limit (analytics.time_limit)'),
    },
    async handler({ body, actor, services }) {
      const spec = queryableCollections().find((candidate) => candidate.name === body.collection);
      if (!spec)
        throw new HttpProblem(400, 'analytics.collection_not_allowed', 'Collection not allowed', `${body.collection} cannot be queried; allowed: ${queryableCollections().map((s) => s.name).join(', ')}`, {
          errors: [{ path: 'collection', message: 'Not a queryable read model' }],
        });
      authorize(actor, spec.module, 'view');
      const refusal = refusalOf(body.pipeline);
      if (refusal) throw new HttpProblem(400, refusal.code, 'Pipeline not allowed', refusal.detail, { stage: refusal.stage, index: refusal.index, errors: [{ path: `pipeline[${refusal.index}]`, message: refusal.detail }] });
      const scope = spec.scope.by === 'company' ? UNRESTRICTED : readFilter(actor, readScopeOf(spec));
      const { CRM_ANALYTICS_MAX_ROWS: maxRows, CRM_ANALYTICS_MAX_TIME_MS: maxTimeMs } = services.config;
      const pipeline = [...(Object.keys(scope).length ? [{ $match: scope }] : []), { $project: excludedPaths(actor, spec) }, ...body.pipeline, { $limit: maxRows + 1 }];
      let rows: Record<string, unknown>[];
      try {
        rows = await services.readStore.collection(spec.name).aggregate<Record<string, unknown>>(pipeline, { maxTimeMs });
      } catch (error) {
        if (error instanceof QueryTimeLimitError)
          throw new HttpProblem(422, 'analytics.time_limit', 'Query too slow', `The query ran longer than ${maxTimeMs} ms; narrow it with a $match first (indexed fields: the list's filters and sorts)`, { maxTimeMs });
        if (error instanceof ReadStoreUnavailableError) throw error;
        // The stages passed the allow-list but the engine refused them (a negative $limit, a malformed $group).
        const message = error instanceof Error ? error.message.slice(0, 300) : String(error);
        throw new HttpProblem(400, 'analytics.invalid_pipeline', 'Invalid pipeline', `The pipeline cannot run: ${message}`, { errors: [{ path: 'pipeline', message }] });
      }
      const truncated = rows.length > maxRows;
      return { status: 200, body: { items: truncated ? rows.slice(0, maxRows) : rows, truncated } };
    },
  }),
];
