import { z } from 'zod';
import { isAllowed } from '../../commands/authorization.ts';
import type { Actor } from '../../commands/context.ts';
import { companyView } from '../../projections/company.ts';
import { reportMirror } from '../../projections/reports.ts';
import { TEAM_DAILY, TEAM_RECORDS } from '../../projections/team.ts';
import { TEAM_PART_MODULES, type TeamCounts, teamView } from '../../projections/team-view.ts';
import { Money } from '../../domain/shared/money.ts';
import { daysBetween } from '../../domain/shared/periods.ts';
import { reportScope } from '../report-routes.ts';
import { commonErrors } from '../responses.ts';
import { type AnyRoute, defineRoute, Id } from '../route.ts';

const tags = ['Dashboard 工作台'];
const MAX_DAYS = 731;

const Counts = {
  planItems: z.object({ done: z.number().int(), open: z.number().int() }).nullable().describe("Items of their day and week plans dated in the period (a week plan's Monday): done, still planned"),
  activities: z.object({ total: z.number().int(), byKind: z.record(z.string(), z.number().int()) }).nullable().describe('Activities they logged that took place in the period, by kind'),
  newCustomers: z.number().int().nullable().describe('Customers registered in the period with them as owner'),
  leadsWorked: z.number().int().nullable().describe('Steps their leads took in the period: marked working or qualified, converted, disqualified'),
  opportunities: z.object({ created: z.number().int(), moved: z.number().int(), won: z.number().int(), lost: z.number().int() }).nullable().describe('Their opportunities created, moved to another stage (or reopened), won and lost in the period'),
  quotesSent: z.number().int().nullable().describe('Quotes they sent in the period (a revision sent again counts again)'),
  orders: z.object({ count: z.number().int(), amount: Money }).nullable().describe('Orders confirmed in the period (less those cancelled since), credited to the owner when confirmed'),
  collections: z.object({ count: z.number().int(), amount: Money }).nullable().describe('Payments received in the period on their orders'),
  shipments: z.number().int().nullable().describe('Shipments of their orders in the period'),
  tasksOverdue: z.number().int().nullable().describe('Their tasks due in the period not done by then (open past due, or done late); today counts those due by now'),
};
const TeamMember = z.object({ employeeId: z.string(), name: z.string(), departmentId: z.string().nullable(), ...Counts }).meta({ id: 'TeamMember' });
const TeamViewAnswer = z
  .object({ from: z.string(), to: z.string(), currency: z.string(), items: z.array(TeamMember), totals: z.object(Counts).describe('The sums over the items') })
  .meta({ id: 'TeamView' });

/** A part whose module the caller may not view shows null. */
function permitted<T extends TeamCounts>(counts: T, actor: Actor): { [K in keyof T]: K extends keyof TeamCounts ? T[K] | null : T[K] } {
  const shown: Record<string, unknown> = { ...(counts as object) };
  for (const [part, module] of Object.entries(TEAM_PART_MODULES)) if (!isAllowed(actor, module, 'view')) shown[part] = null;
  return shown as never;
}


export const dashboardRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/dashboard/team',
    reads: [TEAM_DAILY, TEAM_RECORDS],
    summary: 'The team view: for each salesperson in your scope, what they did in [from, to) — plans, activities, customers, leads, opportunities, quotes, orders, collections, shipments, overdue tasks',
    description:
      'Days are the company time zone\'s. Answered from counters kept per day and salesperson (no scan of records). departmentId narrows to a department and its sub-departments. Amounts are in one currency (default: the company\'s). A part whose module you may not view is null.',
    tags,
    permission: ['reports', 'view'],
    query: z
      .object({
        from: z.iso.date().describe('First day, inclusive'),
        to: z.iso.date().describe('Last day, exclusive'),
        departmentId: Id.optional(),
        currency: z.string().regex(/^[A-Z]{3}$/, 'Expected an ISO 4217 code, e.g. CNY').optional(),
      })
      .strict()
      .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] })
      .refine((q) => daysBetween(q.from, q.to) <= MAX_DAYS, { message: `At most ${MAX_DAYS} days`, path: ['to'] }),
    responses: { 200: { description: 'The team view', schema: TeamViewAnswer }, ...commonErrors },
    async handler({ query, actor, services }) {
      const company = await companyView(services.readStore);
      const owners = await reportScope(services, actor, { departmentId: query.departmentId });
      const view = await teamView(services.readStore, reportMirror.employees, owners, { from: query.from, to: query.to, currency: query.currency ?? company.currency }, services.deps.clock.now(), company.timeZone);
      return { status: 200, body: { ...view, items: view.items.map((item) => permitted(item, actor)), totals: permitted(view.totals, actor) } };
    },
  }),
];
