import { z } from 'zod';
import { changePlanItems, commentOnPlan, createPlan } from '../../commands/plans.ts';
import { PlanFields, PlanItem, type PlanState } from '../../domain/plan/index.ts';
import { fieldColumns } from '../csv.ts';
import { recordAction, recordRoutes } from '../records.ts';
import type { AnyRoute } from '../route.ts';

const PlanView = z
  .object({
    id: z.string(),
    revision: z.number().int(),
    ownerId: z.string(),
    period: z.enum(['day', 'week']),
    date: z.string(),
    items: z.array(PlanItem.extend({ id: z.string() })),
    comments: z.array(z.object({ commentId: z.string(), authorId: z.string(), text: z.string(), at: z.string() })),
    counts: z.object({ planned: z.number().int(), done: z.number().int(), dropped: z.number().int() }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Plan' });

/** Work plans (工作计划): day and week plans per person; items planned → done / dropped; a manager comments. */
export const planRoutes: AnyRoute[] = recordRoutes<PlanState>({
  resource: 'plans',
  view: PlanView,
  pageSchemaId: 'PlanPage',
  columns: fieldColumns('id', 'period', 'date', 'ownerId', 'createdAt', 'updatedAt'),
  asOfView: (state) => (state.status === 'none' ? {} : { period: state.period, date: state.date, items: state.items, comments: state.comments, ownerId: state.ownerId }),
  create: {
    summary: 'Write your plan for a day or a week (one per period and day: a second answers 409 plan.duplicate)',
    body: PlanFields.strict().meta({ id: 'PlanInput', examples: [{ period: 'day', date: '2026-12-01', items: [{ text: '拜访苏州精密机械', status: 'planned' }, { text: '整理报价单', status: 'planned' }] }] }),
    run: ({ body, actor, services, meta }) => createPlan(services.deps, body as never, actor, meta),
  },
  patch: { summary: 'Change the items of a plan (their status: planned → done / dropped, with a note)', fields: PlanFields.pick({ items: true }), schemaId: 'PlanPatch', run: ({ params, body, actor, services, meta }) => changePlanItems(services.deps, params.id, body, actor, meta) },
  actions: [
    recordAction({
      action: 'comments',
      summary: "Comment on a plan (a manager on a subordinate's plan, or its owner answering)",
      body: z.object({ text: z.string().trim().min(1).max(2000) }).strict(),
      bodyNamesFields: false,
      permission: 'view',
      writes: [],
      done: 'Commented',
      run: ({ params, body, actor, services, meta }) => commentOnPlan(services.deps, params.id, body.text, actor, meta),
    }),
  ],
});
