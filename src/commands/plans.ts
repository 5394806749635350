import { type PlanCommand, type PlanFields, type PlanItem, type PlanState, planCategory, planDate } from '../domain/plan/index.ts';
import { derivedEventId } from '../infra/ids.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';

export const planRules: RecordRules<PlanCommand, PlanState> = {
  resource: 'plans',
  fieldsOf: (state) => (state.status === 'none' ? undefined : { items: state.items }),
};
const plans = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(planRules, deps, actor, meta);

/** Items as kept: a new one gets an id. */
const withIds = (items: readonly (Omit<PlanItem, 'id'> & { id?: string | undefined })[], meta: RequestMeta): PlanItem[] => items.map((item) => ({ ...item, id: item.id ?? meta.ids.newId() }));

/**
 * One plan per person, period and day: its id is made from the three, so a second one for the same day (or
 * week) answers 409 plan.duplicate naming the first.
 */
export const planIdOf = (ownerId: string, period: 'day' | 'week', date: string): string => derivedEventId(`${ownerId}:${period}:${planDate(period, date)}`, planCategory, 0);

/** A plan as written: items without an id get one. */
export type PlanInput = Omit<PlanFields, 'items'> & { items: (Omit<PlanItem, 'id'> & { id?: string | undefined })[] };

export function createPlan(deps: CommandDeps, input: PlanInput, actor: Actor, meta: RequestMeta) {
  const date = planDate(input.period, input.date);
  const items = withIds(input.items, meta);
  return plans(deps, actor, meta).create({ period: input.period, date, items }, (planId) => ({ type: 'CreatePlan', planId, ownerId: actor.userId, period: input.period, date, items }), planIdOf(actor.userId, input.period, date));
}

/** Replaces the plan's items (send back the ids of those kept; new ones get one). */
export const changePlanItems = (deps: CommandDeps, planId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) =>
  plans(deps, actor, meta).change(planId, changes, (plain) => ({ type: 'ChangePlanItems', planId, items: withIds((plain.items as PlanItem[] | null | undefined) ?? [], meta) }));

/** A comment (a manager's on a subordinate's plan, or the owner's answer). */
export const commentOnPlan = (deps: CommandDeps, planId: string, text: string, actor: Actor, meta: RequestMeta) =>
  plans(deps, actor, meta).run(planId, { type: 'CommentOnPlan', planId, comment: { commentId: meta.ids.newId(), authorId: actor.userId, text, at: deps.clock.now().toISOString() } });
