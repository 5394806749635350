import { z } from 'zod';
import type { ResourceSpec } from '../customization/resources.ts';
import { targetCategory, targetDecider, targetEventSchemas, type TargetState } from './index.ts';

const optional = (schema: z.ZodType) => schema.optional();

/** Sales targets as a record type (销售目标): company-wide for whoever holds the targets module. */
export const targetResource = {
  name: 'targets',
  singular: 'target',
  tag: 'Targets 销售目标',
  module: 'targets',
  category: targetCategory,
  decider: targetDecider,
  scope: { by: 'company' },
  personalFields: [],
  standardFields: ['employeeId', 'departmentId', 'month', 'metric', 'value', 'status', 'createdAt', 'updatedAt'],
  relatedPanels: [],
  list: {
    filters: { month: optional(z.string().max(7)), employeeId: optional(z.string().max(100)), departmentId: optional(z.string().max(100)), metric: optional(z.string().max(40)) },
    sorts: ['month', 'createdAt', 'updatedAt'],
    defaultSort: '-month',
  },
  search: [],
  attachments: false,
  events: targetEventSchemas,
  readModel: { version: 1, view: (state: Extract<TargetState, { status: 'active' | 'removed' }>) => ({ ...state.fields, status: state.status }), gone: (state: TargetState) => state.status === 'removed' },
} as const satisfies ResourceSpec;
