import { logActivity } from '../commands/activities.ts';
import type { CommandDeps, RequestMeta } from '../commands/context.ts';
import { systemActor } from '../commands/employees.ts';
import { createPlan } from '../commands/plans.ts';
import { completeTask, createTask } from '../commands/tasks.ts';
import { BUILT_IN_KINDS } from '../domain/activity/index.ts';
import { prng } from './seed-data.ts';

const DAY_MS = 86_400_000;
const summaries = ['确认采购计划与预算', '介绍新一代产品', '跟进报价反馈', '了解设备运行情况', '讨论付款方式', '安排技术交流', '回访售后满意度', '确认交期'];
const outcomes = ['客户有兴趣，约下次拜访', '需要内部讨论', '同意看方案', '价格仍有分歧', '已确认'];
const planTexts = ['拜访重点客户', '整理报价单', '电话回访老客户', '跟进回款', '准备技术交流材料', '更新商机阶段'];

/**
 * A believable last `days` days (four weeks for the demo) for each salesperson: two to four activities a working day on their own customers
 * (some with a next step, which becomes a task: a few still open and overdue), a day plan each working day (past
 * items done or dropped) and a week plan each week, and some tasks of their own.
 */
export async function seedSalesDays(deps: CommandDeps, meta: () => RequestMeta, customers: { id: string; ownerId: string }[], days = 28) {
  const random = prng(11);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const now = deps.clock.now().getTime();
  const owners = [...new Set(customers.map((c) => c.ownerId))];
  let activities = 0;
  let plans = 0;
  let tasks = 0;
  for (const ownerId of owners) {
    const actor = { ...systemActor, userId: ownerId };
    const own = customers.filter((c) => c.ownerId === ownerId);
    for (let daysAgo = days - 1; daysAgo >= 0; daysAgo--) {
      const day = new Date(now - daysAgo * DAY_MS);
      if (day.getUTCDay() === 0 || day.getUTCDay() === 6) continue;
      const date = day.toISOString().slice(0, 10);
      if (day.getUTCDay() === 1 || daysAgo === days - 1) {
        await createPlan(deps, { period: 'week', date, items: [{ text: `本周拜访 ${2 + Math.floor(random() * 3)} 家客户`, status: daysAgo >= 7 ? 'done' : 'planned' }] }, actor, meta());
        plans += 1;
      }
      const items = [pick(planTexts), pick(planTexts), pick(planTexts)].map((text) => ({ text, status: (daysAgo === 0 ? 'planned' : random() < 0.8 ? 'done' : 'dropped') as 'planned' | 'done' | 'dropped' }));
      await createPlan(deps, { period: 'day', date, items }, actor, meta());
      plans += 1;
      const count = 2 + Math.floor(random() * 3);
      for (let i = 0; i < count && own.length; i++) {
        const occurredAt = new Date(day.getTime() - (6 - i) * 3_600_000).toISOString();
        if (Date.parse(occurredAt) > now) continue;
        const nextStep = random() < 0.3 ? { subject: `跟进：${pick(summaries)}`, dueAt: new Date(Date.parse(occurredAt) + (1 + Math.floor(random() * 5)) * DAY_MS).toISOString() } : undefined;
        const logged = await logActivity(deps, { kind: pick(BUILT_IN_KINDS), customerId: pick(own).id, occurredAt, durationMinutes: 5 + Math.floor(random() * 60), summary: pick(summaries), outcome: pick(outcomes), ...(nextStep ? { nextStep } : {}) }, actor, meta());
        activities += 1;
        // Most next steps are done by now; some stay open (and are overdue).
        if ('taskId' in logged && logged.taskId && nextStep && Date.parse(nextStep.dueAt) < now && random() < 0.7) await completeTask(deps, logged.taskId, undefined, actor, meta());
        if ('taskId' in logged && logged.taskId) tasks += 1;
      }
    }
    await createTask(deps, { subject: '月底对账', dueAt: new Date(now + 3 * DAY_MS).toISOString(), remindAt: new Date(now + 2 * DAY_MS).toISOString(), priority: 'high', recurrence: { every: 'month' } }, actor, meta());
    tasks += 1;
  }
  return { activities, plans, tasks };
}
