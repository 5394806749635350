import type { Actor } from '../commands/context.ts';
import { localDate, nextDay, startOfLocalDay } from '../domain/company/index.ts';
import { planDate } from '../domain/plan/index.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { CONTACTS, CUSTOMERS } from './customers.ts';
import { OPPORTUNITIES } from './opportunities.ts';
import { ORDERS } from './orders.ts';

type Row = Doc & Record<string, unknown>;

export interface AgendaTask {
  id: string;
  subject: string;
  dueAt: string;
  remindAt?: string;
  priority: string;
  customerId?: string;
  activityId?: string;
  overdue: boolean;
}

export interface Agenda {
  date: string;
  timeZone: string;
  planItems: { planId: string; period: 'day' | 'week'; itemId: string; text: string; status: string }[];
  tasks: AgendaTask[];
  nextSteps: AgendaTask[];
  care: {
    birthdays: { contactId: string; name: string; customerId: string; customerName: string; birthday: string }[];
    orderAnniversaries: { customerId: string; customerName: string; firstOrderAt: string; years: number }[];
  };
  overdueOpportunities: { id: string; name: string; customerId: string; stage: string; expectedCloseDate: string; amount: unknown }[];
}

const taskOf = (doc: Row, startOfDay: string): AgendaTask => ({
  id: doc._id,
  subject: String(doc.subject),
  dueAt: String(doc.dueAt),
  ...(doc.remindAt ? { remindAt: String(doc.remindAt) } : {}),
  priority: String(doc.priority),
  ...(doc.customerId ? { customerId: String(doc.customerId) } : {}),
  ...(doc.activityId ? { activityId: String(doc.activityId) } : {}),
  overdue: String(doc.dueAt) < startOfDay,
});

/**
 * One person's day (their own work, not their team's): the day's and the week's plan items, their open tasks
 * due by the end of the day (overdue ones flagged) split into tasks and activities' next steps, the birthdays of
 * the contacts of their customers and the first-order anniversaries of their customers, and their open
 * opportunities whose expected close date has passed. Days are the company's (`timeZone`).
 */
export async function agendaOf(store: ReadStore, actor: Actor, date: string, timeZone: string): Promise<Agenda> {
  const startOfDay = startOfLocalDay(date, timeZone);
  const endOfDay = startOfLocalDay(nextDay(date), timeZone);
  const me = actor.userId;
  const [plans, tasks, contacts, orders, opportunities] = await Promise.all([
    store.collection<Row>('plans').find({ ownerId: me, $or: [{ period: 'day', date }, { period: 'week', date: planDate('week', date) }] }),
    store.collection<Row>('tasks').find({ ownerId: me, status: 'open', dueAt: { $lt: endOfDay } }, { sort: { dueAt: 1, _id: 1 } }),
    store.collection<Row>(CONTACTS).find({ ownerId: me, birthday: { $exists: true } }, { projection: { _id: 1, name: 1, customerId: 1, customerName: 1, birthday: 1 } }),
    store.collection<Row>(ORDERS).find({ ownerId: me }, { projection: { _id: 1, customerId: 1, createdAt: 1, status: 1 } }),
    store.collection<Row>(OPPORTUNITIES).find({ ownerId: me, status: 'open', expectedCloseDate: { $lt: date } }, { sort: { expectedCloseDate: 1, _id: 1 } }),
  ]);
  const monthDay = date.slice(5);
  const planItems = plans
    .sort((a, b) => (a.period === b.period ? 0 : a.period === 'day' ? -1 : 1))
    .flatMap((plan) => (plan.items as { id: string; text: string; status: string }[]).map((item) => ({ planId: plan._id, period: plan.period as 'day' | 'week', itemId: item.id, text: item.text, status: item.status })));
  const all = tasks.map((task) => taskOf(task, startOfDay));
  // A customer's first order (not cancelled), by its day in the company's time zone.
  const firstOrder = new Map<string, string>();
  for (const order of orders) {
    if (order.status === 'cancelled' || typeof order.createdAt !== 'string') continue;
    const customerId = String(order.customerId);
    const known = firstOrder.get(customerId);
    if (!known || order.createdAt < known) firstOrder.set(customerId, order.createdAt);
  }
  const anniversaries = [...firstOrder].filter(([, at]) => localDate(at, timeZone).slice(5) === monthDay && localDate(at, timeZone).slice(0, 4) < date.slice(0, 4));
  const names = anniversaries.length ? await store.collection<Row>(CUSTOMERS).find({ _id: { $in: anniversaries.map(([id]) => id) } }, { projection: { _id: 1, name: 1 } }) : [];
  return {
    date,
    timeZone,
    planItems,
    tasks: all.filter((task) => !task.activityId),
    nextSteps: all.filter((task) => task.activityId),
    care: {
      birthdays: contacts
        .filter((contact) => typeof contact.birthday === 'string' && contact.birthday.slice(5) === monthDay)
        .map((contact) => ({ contactId: contact._id, name: String(contact.name), customerId: String(contact.customerId), customerName: String(contact.customerName), birthday: String(contact.birthday) })),
      orderAnniversaries: anniversaries.map(([customerId, at]) => ({
        customerId,
        customerName: String(names.find((c) => c._id === customerId)?.name ?? ''),
        firstOrderAt: at,
        years: Number(date.slice(0, 4)) - Number(localDate(at, timeZone).slice(0, 4)),
      })),
    },
    overdueOpportunities: opportunities.map((o) => ({ id: o._id, name: String(o.name), customerId: String(o.customerId), stage: String(o.stage), expectedCloseDate: String(o.expectedCloseDate), amount: o.amount })),
  };
}
