import { z } from 'zod';
import { changeTarget, removeTarget, setTarget } from '../../commands/targets.ts';
import { TargetShape, type TargetState } from '../../domain/target/index.ts';
import { fieldColumns } from '../csv.ts';
import { recordRoutes } from '../records.ts';
import type { AnyRoute } from '../route.ts';

const TargetView = TargetShape.extend({ id: z.string(), revision: z.number().int(), status: z.enum(['active', 'removed']), createdAt: z.string(), updatedAt: z.string() }).meta({ id: 'Target' });
const TargetInput = TargetShape.strict()
  .refine((t) => !t.employeeId !== !t.departmentId, { message: 'name either employeeId or departmentId', path: ['employeeId'] })
  .refine((t) => (t.metric === 'newCustomers' ? typeof t.value === 'number' : typeof t.value === 'object'), { message: 'orderAmount and collections take Money { amount, currency }; newCustomers a whole number', path: ['value'] })
  .meta({ id: 'TargetInput', examples: [{ employeeId: '0193…', month: '2026-12', metric: 'orderAmount', value: { amount: 50_000_000, currency: 'CNY' } }] });

/** Sales targets (销售目标): per employee or department, month and metric; their attainment is in the KPI report and the ranking. */
export const targetRoutes: AnyRoute[] = [
  ...recordRoutes<TargetState>({
    resource: 'targets',
    view: TargetView,
    pageSchemaId: 'TargetPage',
    columns: fieldColumns('id', 'employeeId', 'departmentId', 'month', 'metric', 'value', 'createdAt', 'updatedAt'),
    asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, status: state.status }),
    create: {
      summary: 'Set a sales target (销售目标) for an employee or a department, a month and a metric: orderAmount or collections (Money), newCustomers (a count)',
      description: 'One per employee or department, metric and month (409 target.already_exists names it: change its value instead). GET /api/v1/reports/kpi and /reports/ranking show attainment against it.',
      body: TargetInput,
      run: ({ body, actor, services, meta }) => setTarget(services.deps, body as never, actor, meta),
    },
    patch: {
      summary: "Change a target's value (its employee or department, month and metric stay)",
      fields: TargetShape,
      schemaId: 'TargetPatch',
      run: ({ params, body, actor, services, meta }) => changeTarget(services.deps, params.id, body, actor, meta),
    },
    remove: { summary: 'Remove a target', done: 'Removed', run: ({ params, actor, services, meta }) => removeTarget(services.deps, params.id, actor, meta) },
  }),
];
