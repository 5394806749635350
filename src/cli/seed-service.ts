import type { Services } from '../app/wiring.ts';
import type { Actor, CommandDeps, RequestMeta } from '../commands/context.ts';
import { systemActor } from '../commands/employees.ts';
import { actorOf } from '../commands/access.ts';
import { answerSurvey, checkTicketSla, closeTicket, logTicketWork, openTicket, reopenTicket, resolveTicket, startTicket, waitOnCustomer, addTicketNote } from '../commands/tickets.ts';
import { ManualClock } from '../infra/clock.ts';
import { prng } from './seed-data.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const subjects: Record<string, string[]> = {
  repair: ['水泵运行异响', '电机过热报警', '控制柜无法启动', '阀门密封渗漏', '设备需上门检修'],
  complaint: ['交货延误投诉', '发票信息错误', '服务人员迟到', '产品外观划伤'],
  consultation: ['咨询保养周期', '咨询备件价格', '咨询操作培训', '咨询升级方案'],
  return: ['型号发错申请退换', '到货破损申请退货'],
  other: ['索取产品资料', '更新联系人信息'],
};
const TYPES = ['repair', 'repair', 'consultation', 'consultation', 'complaint', 'return', 'other'] as const;
const PRIORITIES = ['low', 'normal', 'normal', 'high', 'urgent'] as const;

/**
 * The service desk's last `days` days, written through the commands on a clock that walks those days (so the SLA
 * clocks, warnings and breaches are those of real time): a few tickets each working day, opened by the service
 * manager into the queue or to an engineer, started, worked, some waiting for the customer, most resolved and
 * closed with the survey answered, a few reopened, some late; the last days' tickets still open in every status.
 */
export async function seedService(services: Services, people: { manager: string; engineers: string[]; queueId: string }, customers: { id: string }[], days = 28) {
  const random = prng(23);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const end = services.deps.clock.now().getTime();
  const clock = new ManualClock(new Date(end - days * DAY));
  const deps: CommandDeps = { ...services.deps, clock };
  const linkDeps = { ...deps, keys: services.keys, publicUrl: services.config.CRM_PUBLIC_URL ?? `http://localhost:${services.config.PORT}` };
  const meta = (): RequestMeta => services.requestMeta('seed');
  // Each acts as themselves, with their role's permissions.
  const actors = new Map<string, Actor>();
  for (const id of [people.manager, ...people.engineers]) actors.set(id, (await actorOf(deps, id)) ?? { ...systemActor, userId: id });
  const as = (userId: string): Actor => actors.get(userId)!;
  const manager = as(people.manager);
  const open: string[] = [];
  const counts = { tickets: 0, closed: 0, surveys: 0, reopened: 0 };
  /** Moves the clock on, checking the open tickets' clocks on the way as the timer would (warnings and breaches on time). */
  const walk = async (ms: number) => {
    const target = Math.min(end, clock.now().getTime() + ms);
    while (clock.now().getTime() < target) {
      clock.set(new Date(Math.min(target, clock.now().getTime() + 6 * HOUR)));
      for (const id of open) await checkTicketSla(deps, id, meta());
    }
  };
  for (let day = 0; day < days; day++) {
    // 09:00 in Shanghai is 01:00 UTC: a working day's morning.
    clock.set(new Date(Math.max(clock.now().getTime(), Math.floor((end - (days - day) * DAY) / DAY) * DAY + HOUR)));
    if (clock.now().getTime() >= end) break;
    const weekday = clock.now().getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    const recent = days - day <= 3;
    for (let i = 0; i < 2 + Math.floor(random() * 3); i++) {
      const type = pick(TYPES);
      const engineer = pick(people.engineers);
      const toQueue = random() < 0.4;
      const { id } = await openTicket(
        deps,
        { type, channel: pick(['phone', 'email', 'web', 'visit'] as const), priority: pick(PRIORITIES), customerId: pick(customers).id, subject: pick(subjects[type]!), description: '客户来电反映，详见附件与沟通记录。', ...(toQueue ? { departmentId: people.queueId } : { assigneeId: engineer }) },
        manager,
        meta(),
      );
      counts.tickets += 1;
      open.push(id);
      await walk(Math.floor(random() * 2 * HOUR));
      if (recent && random() < 0.3) continue; // still new or assigned
      const worker = as(engineer);
      await startTicket(deps, id, worker, meta());
      await addTicketNote(deps, id, { text: '已联系客户，安排处理。', visibility: 'customer' }, worker, meta());
      await logTicketWork(deps, id, { minutes: 15 + Math.floor(random() * 120), kind: pick(['remote', 'on_site', 'travel'] as const) }, worker, meta());
      if (random() < 0.25) {
        await waitOnCustomer(deps, id, '等待客户提供设备序列号', worker, meta());
        if (recent) continue; // waiting still
        await walk(Math.floor(random() * 20 * HOUR));
        await startTicket(deps, id, worker, meta());
      }
      if (recent && random() < 0.5) continue; // in progress
      // Most are resolved within the day; some late (past their targets).
      await walk(random() < 0.2 ? 30 * HOUR : Math.floor(random() * 6 * HOUR));
      await resolveTicket(deps, id, pick(['更换备件后恢复正常', '远程指导完成设置', '已补发并致歉', '已解答客户疑问']), worker, meta());
      open.splice(open.indexOf(id), 1);
      if (random() < 0.15) continue; // resolved, not yet closed
      const closed = await closeTicket(linkDeps, id, worker, meta());
      counts.closed += 1;
      if (random() < 0.1) {
        await reopenTicket(deps, id, '客户反馈问题复现', manager, meta());
        counts.reopened += 1;
        open.push(id);
        continue;
      }
      if (random() < 0.7) {
        const token = new URL(closed.surveyUrl).pathname.split('/').pop()!;
        await answerSurvey(linkDeps, token, { score: pick([3, 4, 4, 5, 5, 5, 2]), ...(random() < 0.3 ? { comment: pick(['响应很快', '工程师很专业', '希望更早上门']) } : {}) }, meta());
        counts.surveys += 1;
      }
    }
  }
  clock.set(new Date(end));
  // This morning's, one in each open status: new, assigned (to the queue), in progress, waiting for the customer.
  for (const status of ['new', 'assigned', 'in_progress', 'waiting'] as const) {
    const engineer = as(pick(people.engineers));
    const type = pick(TYPES);
    const { id } = await openTicket(
      deps,
      { type, channel: 'phone', priority: pick(PRIORITIES), customerId: pick(customers).id, subject: pick(subjects[type]!), description: '今天上午来电。', ...(status === 'new' ? {} : { departmentId: people.queueId }) },
      manager,
      meta(),
    );
    counts.tickets += 1;
    open.push(id);
    if (status === 'in_progress' || status === 'waiting') await startTicket(deps, id, engineer, meta());
    if (status === 'waiting') await waitOnCustomer(deps, id, '等待客户确认上门时间', engineer, meta());
  }
  for (const id of open) await checkTicketSla(deps, id, meta());
  return counts;
}
