import { settingsCategory } from '../domain/categories.ts';
import { localDate } from '../domain/company/index.ts';
import { levelFor, MEMBER_LEVELS_SETTING_KEY, MemberLevelRules, NO_MEMBER_LEVELS, rulesCurrency, windowOf } from '../domain/customer/member-levels.ts';
import type { CustomerState } from '../domain/customer/index.ts';
import { nextDailyAt, scheduleCategory } from '../domain/schedule/index.ts';
import { derivedEventId } from '../infra/ids.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { CUSTOMERS } from '../projections/customers.ts';
import { companyView } from '../projections/company.ts';
import { CUSTOMER_SALES_MONTHLY } from '../projections/orders.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { customerHandler } from './customers.ts';
import { systemActor } from './employees.ts';
import { readSetting, writeSetting } from './settings.ts';
import { createTaskOnce } from './tasks.ts';
import { plannedRun, scheduleNextRun, type TimerSpec } from './timers.ts';

const TIMER = 'member-levels';
/** Levels are evaluated again every night (the window moves on with the months), and at once when the rules change. */
const NIGHTLY_AT = '00:30';
const CARE_DUE_DAYS = 3;

export async function memberLevelRules(deps: CommandDeps): Promise<{ value: MemberLevelRules; revision: bigint }> {
  const { value, revision } = await readSetting<MemberLevelRules>(deps, MEMBER_LEVELS_SETTING_KEY);
  return { value: value ?? NO_MEMBER_LEVELS, revision };
}

export const changeMemberLevelRules = (deps: CommandDeps, rules: MemberLevelRules, actor: Actor, meta: RequestMeta) => writeSetting(deps, MEMBER_LEVELS_SETTING_KEY, MemberLevelRules.parse(rules), actor, meta);

/**
 * Evaluates the member level of every active customer on a day: sums what each bought or
 * paid in the rules' window from the per-customer month counters, and for each whose level is no longer what
 * the rules give, first makes a care task for its owner (see careTask), then records the change
 * (CustomerMemberLevelChanged, in its history). The task's id is derived from the customer and the number of its level changes, so a retry
 * after a crash between the two makes neither twice. Answers how many levels changed.
 */
export async function evaluateMemberLevels(deps: CommandDeps, store: ReadStore, today: string, meta: RequestMeta): Promise<number> {
  const { value: rules } = await memberLevelRules(deps);
  const window = windowOf(rules, today);
  const currency = rulesCurrency(rules);
  const field = rules.basis === 'orders' ? '$orderAmount' : '$collected';
  const sums = currency
    ? await store.collection(CUSTOMER_SALES_MONTHLY).aggregate<{ _id: string; amount: number }>([{ $match: { currency, month: { $gte: window.from, $lt: window.to } } }, { $group: { _id: '$customerId', amount: { $sum: field } } }])
    : [];
  const amounts = new Map(sums.map((row) => [row._id, row.amount]));
  const customers = await store.collection(CUSTOMERS).find({ status: 'active' }, { projection: { memberLevel: 1 } });
  let changed = 0;
  for (const customer of customers) {
    const amount = amounts.get(customer._id) ?? 0;
    const level = levelFor(rules, amount);
    if (((customer.memberLevel as string | null | undefined) ?? null) === level) continue;
    const own = { ...meta, requestId: `${meta.requestId}:${customer._id}` };
    const handler = customerHandler(deps, systemActor, own);
    const { state } = await handler.load(customer._id);
    if (state.status !== 'active' || (state.memberLevel ?? null) === level) continue;
    await careTask(deps, state, level, rules, own);
    const result = await handler.run(customer._id, { type: 'SetMemberLevel', customerId: customer._id, level, amount: { amount, currency: currency ?? 'CNY' }, basis: rules.basis, windowMonths: rules.windowMonths });
    if (result.events.length > 0) changed += 1;
  }
  return changed;
}

/**
 * The care task (客户关怀) a level change gives the customer's owner: call, thank, or find out what went wrong. Only
 * for a customer that had a level and moves to another, or below every level: a first level (rules just set) or
 * levels taken away altogether (rules emptied) say nothing about the customer.
 */
async function careTask(deps: CommandDeps, customer: Exclude<CustomerState, { status: 'none' }>, level: string | null, rules: MemberLevelRules, meta: RequestMeta): Promise<void> {
  if (!customer.ownerId || (customer.memberLevel ?? null) === null || rules.levels.length === 0) return;
  const labelOf = (key: string | null | undefined) => rules.levels.find((l) => l.key === key)?.label ?? { 'zh-CN': '无等级', en: 'no level' };
  const from = labelOf(customer.memberLevel);
  const to = labelOf(level);
  const nth = (customer.memberLevelChanges ?? 0) + 1;
  const taskId = derivedEventId(`member-level:${customer.customerId}:${nth}`, `customer-${customer.customerId}`, 0);
  await createTaskOnce(deps, { ...systemActor, userId: customer.ownerId }, meta, {
    type: 'CreateTask',
    taskId,
    ownerId: customer.ownerId,
    createdBy: systemActor.userId,
    fields: {
      subject: `客户关怀 Customer care: ${customer.fields.name} ${from['zh-CN']} → ${to['zh-CN']} (${from.en} → ${to.en})`,
      dueAt: new Date(deps.clock.now().getTime() + CARE_DUE_DAYS * 86_400_000).toISOString(),
      priority: 'normal',
      customerId: customer.customerId,
    },
  });
}

/**
 * The member-levels timer: all customers are evaluated when the rules change and then every night at 00:30
 * (company time), each run scheduling the next.
 */
export const memberLevelsTimer: TimerSpec = {
  name: TIMER,
  categories: [settingsCategory, scheduleCategory],
  plan(event) {
    const data = event.data as { key?: string };
    if (event.type === 'SettingChanged' && data.key === MEMBER_LEVELS_SETTING_KEY) return { schedule: [{ key: 'run', dueAt: event.metadata.at }] };
    return plannedRun(TIMER, event);
  },
  async fire(deps, item, meta, { readStore }) {
    const company = await companyView(readStore);
    const now = deps.clock.now();
    await evaluateMemberLevels(deps, readStore, localDate(now, company.timeZone), meta);
    const after = new Date(Math.max(now.getTime(), Date.parse(item.dueAt)));
    await scheduleNextRun(deps, TIMER, nextDailyAt(NIGHTLY_AT, company.timeZone, after), systemActor, { ...meta, requestId: `${meta.requestId}:next` });
  },
};
