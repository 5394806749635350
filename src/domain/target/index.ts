import { z } from 'zod';
import { Month } from '../budget/index.ts';
import { allotmentDecider, allotmentIdFor } from '../shared/allotment.ts';
import type { EventsOf } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { Money } from '../shared/money.ts';

/** What a sales target (销售目标) can be set for: two amounts and a count, as the KPI report names them. */
export const TARGET_METRICS = ['orderAmount', 'collections', 'newCustomers'] as const;
export type TargetMetric = (typeof TARGET_METRICS)[number];
/** The metrics whose value is Money (the others a count). */
export const MONEY_METRICS: readonly TargetMetric[] = ['orderAmount', 'collections'];

export const TargetValue = z.union([Money.refine((money) => money.amount >= 0, 'an amount of zero or more'), z.number().int().min(0)]);

/** A sales target: a value for one employee or one department (its sub-departments' people included), one metric, one month. */
export const TargetShape = z.object({
  employeeId: z.string().min(1).max(100).optional(),
  departmentId: z.string().min(1).max(100).optional(),
  month: Month,
  metric: z.enum(TARGET_METRICS),
  value: TargetValue.describe('Money (minor units) for orderAmount and collections; a whole number for newCustomers'),
});
export const TargetFields = TargetShape.superRefine((fields, context) => {
  const issue = valueIssue(fields.metric, fields.value);
  if (issue) context.addIssue({ code: 'custom', path: ['value'], message: issue });
});
export type TargetFields = z.infer<typeof TargetFields>;

/** What is wrong with a value for a metric (Money for the amounts, a whole number for the count), if anything. */
function valueIssue(metric: TargetMetric, value: unknown): string | undefined {
  const money = MONEY_METRICS.includes(metric);
  if (money && (typeof value !== 'object' || value === null)) return `${metric} takes Money: { amount, currency }`;
  if (!money && typeof value !== 'number') return `${metric} takes a whole number`;
  return undefined;
}

const words = {
  kind: 'target',
  id: 'targetId',
  key: 'metric',
  value: 'value',
  events: { set: 'TargetSet', changed: 'TargetValueChanged', removed: 'TargetRemoved' },
  commands: { set: 'SetTarget', change: 'ChangeTarget', remove: 'RemoveTarget' },
} as const;

/** One target per employee or department, metric and month: its id follows from them. */
export const targetIdFor = (fields: Pick<TargetFields, 'employeeId' | 'departmentId' | 'metric' | 'month'>): string => allotmentIdFor(words, fields, fields.metric);

export const TargetSet = z.object({ targetId: z.string(), fields: TargetFields });
export const TargetValueChanged = z.object({ targetId: z.string(), value: TargetValue });
export const TargetRemoved = z.object({ targetId: z.string() });
export const targetEventSchemas = { TargetSet, TargetValueChanged, TargetRemoved };
export type TargetEvent = EventsOf<typeof targetEventSchemas>;

export type TargetState = { status: 'none' } | { status: 'active' | 'removed'; targetId: string; fields: TargetFields };
export type TargetCommand =
  | { type: 'SetTarget'; targetId: string; fields: TargetFields }
  | { type: 'ChangeTarget'; targetId: string; changes: Record<string, unknown> }
  | { type: 'RemoveTarget'; targetId: string };

/** Set once per employee or department, metric and month; its value changed; removed (see allotmentDecider). */
const { initialState, evolve, decide } = allotmentDecider<TargetState, TargetCommand, TargetEvent>(words, (value, fields) => {
  const parsed = TargetValue.parse(value);
  const issue = valueIssue(fields.metric as TargetMetric, parsed);
  if (issue) throw new DomainError('target.invalid_value', issue, { metric: fields.metric });
  return parsed;
});
export { decide, evolve, initialState };

export const targetDecider = { initialState, evolve, decide };
export const targetCategory = 'target';
