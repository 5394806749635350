import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import type { ResourceSpec } from '../customization/resources.ts';
import { DomainError } from '../shared/errors.ts';

/** A day or the Monday of a week (YYYY-MM-DD). */
const Day = z.iso.date();
export const PlanItem = z
  .object({
    id: z.string().min(1).max(100).optional().describe('Given by the server when the item is added; send it back to change the item'),
    text: z.string().trim().min(1).max(500),
    status: z.enum(['planned', 'done', 'dropped']).default('planned'),
    note: z.string().trim().min(1).max(1000).optional().describe('Why dropped, or how it went'),
  })
  .strict();
export type PlanItem = z.infer<typeof PlanItem> & { id: string };

/** A work plan (工作计划): what one person plans for a day or a week, and how it went. */
export const PlanFields = z.object({
  period: z.enum(['day', 'week']),
  date: Day.describe('The day, or any day of the week (kept as its Monday)'),
  items: z.array(PlanItem).max(100),
});
export type PlanFields = { period: 'day' | 'week'; date: string; items: PlanItem[] };

export const PlanComment = z.object({ commentId: z.string(), authorId: z.string(), text: z.string(), at: z.string() });
export const PlanCreated = z.object({ planId: z.string(), ownerId: z.string(), period: z.enum(['day', 'week']), date: z.string(), items: z.array(z.object({ id: z.string(), text: z.string(), status: z.string(), note: z.string().optional() })) });
export const PlanItemsChanged = z.object({ planId: z.string(), items: PlanCreated.shape.items });
export const PlanCommented = z.object({ planId: z.string(), comment: PlanComment });

export const planEventSchemas = { PlanCreated, PlanItemsChanged, PlanCommented };
export type PlanEvent = EventsOf<typeof planEventSchemas>;
export type PlanComment = z.infer<typeof PlanComment>;
export type PlanState = { status: 'none' } | { status: 'active'; planId: string; ownerId: string; period: 'day' | 'week'; date: string; items: PlanItem[]; comments: PlanComment[] };
export type PlanCommand =
  | { type: 'CreatePlan'; planId: string; ownerId: string; period: 'day' | 'week'; date: string; items: PlanItem[] }
  | { type: 'ChangePlanItems'; planId: string; items: PlanItem[] }
  | { type: 'CommentOnPlan'; planId: string; comment: PlanComment };

export const initialState: PlanState = { status: 'none' };

export function evolve(state: PlanState, event: PlanEvent): PlanState {
  if (event.type === 'PlanCreated') return { status: 'active', planId: event.data.planId, ownerId: event.data.ownerId, period: event.data.period, date: event.data.date, items: event.data.items as PlanItem[], comments: [] };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'PlanItemsChanged':
      return { ...state, items: event.data.items as PlanItem[] };
    case 'PlanCommented':
      return { ...state, comments: [...state.comments, event.data.comment] };
  }
}

/** Items name each other by id once: an id given twice is refused. */
function assertDistinct(items: readonly PlanItem[]): void {
  if (new Set(items.map((item) => item.id)).size !== items.length) throw new DomainError('plan.item_repeated', 'Each item once: an item id is given twice', { field: 'items' });
}

export function decide(command: PlanCommand, state: PlanState): PlanEvent[] {
  const { planId } = command;
  if (command.type === 'CreatePlan') {
    if (state.status !== 'none') throw new DomainError('plan.duplicate', `There is a ${command.period} plan for ${command.date} already: change it instead`, { existingPlanId: planId });
    assertDistinct(command.items);
    return [{ type: 'PlanCreated', data: { planId, ownerId: command.ownerId, period: command.period, date: command.date, items: command.items } }];
  }
  if (state.status === 'none') throw new DomainError('plan.not_found', `Plan ${planId} does not exist`, { planId });
  switch (command.type) {
    case 'ChangePlanItems': {
      assertDistinct(command.items);
      return JSON.stringify(command.items) === JSON.stringify(state.items) ? [] : [{ type: 'PlanItemsChanged', data: { planId, items: command.items } }];
    }
    case 'CommentOnPlan':
      return [{ type: 'PlanCommented', data: { planId, comment: command.comment } }];
  }
}

export const planDecider = { initialState, evolve, decide };
export const planCategory = 'plan';

/** The day a plan is kept under: the day itself, or the Monday of its week. */
export function planDate(period: 'day' | 'week', date: string): string {
  if (period === 'day') return date;
  const day = new Date(`${date}T00:00:00.000Z`);
  const offset = (day.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return new Date(day.getTime() - offset * 86_400_000).toISOString().slice(0, 10);
}

const counts = (items: readonly PlanItem[]) => ({
  planned: items.filter((i) => i.status === 'planned').length,
  done: items.filter((i) => i.status === 'done').length,
  dropped: items.filter((i) => i.status === 'dropped').length,
});

/** Work plans as a record type: its registry entry (listed in `resources.ts`). The owner is the person planning. */
export const planResource = {
  name: 'plans',
  singular: 'plan',
  tag: 'Work plans 工作计划',
  module: 'plans',
  category: planCategory,
  decider: planDecider,
  scope: { by: 'owner' },
  referenceField: 'planId',
  personalFields: [],
  standardFields: ['period', 'date', 'items', 'comments', 'ownerId', 'createdAt', 'updatedAt'],
  relatedPanels: [],
  list: {
    filters: { period: z.enum(['day', 'week']).optional(), date: Day.optional(), ownerId: z.string().max(100).optional() },
    sorts: ['date', 'createdAt', 'updatedAt'],
    defaultSort: '-date',
  },
  search: [],
  attachments: false,
  events: planEventSchemas,
  readModel: {
    version: 1,
    view: (state: Exclude<PlanState, { status: 'none' }>) => ({ period: state.period, date: state.date, items: state.items, comments: state.comments, counts: counts(state.items), ownerId: state.ownerId }),
  },
} as const satisfies ResourceSpec;
