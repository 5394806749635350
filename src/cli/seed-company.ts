import { addContact } from '../commands/contacts.ts';
import { registerCustomer } from '../commands/customers.ts';
import { hireEmployee, systemActor } from '../commands/employees.ts';
import { changeDepartment, createDepartment, ensureRoleTemplates } from '../commands/org.ts';
import { seedExpenses } from './seed-expenses.ts';
import type { Services } from '../app/wiring.ts';
import { departments, employees, seedCustomers, serviceTeam } from './seed-data.ts';
import { seedService } from './seed-service.ts';
import { seedCampaignResults, seedMailing } from './seed-marketing.ts';
import { seedPipeline } from './seed-pipeline.ts';
import { seedSalesDays } from './seed-days.ts';
import { companyToday } from '../commands/company.ts';
import { changeMemberLevelRules, evaluateMemberLevels } from '../commands/member-levels.ts';
import { EXAMPLE_MEMBER_LEVELS } from '../domain/customer/member-levels.ts';

export const DEMO_PASSWORD = 'demo-password-2026';

/**
 * A demo company written through the commands: departments, employees with logins, `count` customers with
 * their contacts, and a sales pipeline of about a tenth that size. Used by `npm run seed`, benchmarks and tests.
 */
/**
 * `salesDays`: how many days back each salesperson's activities, plans and tasks go (default: four weeks for the
 * demo's 1,000 customers, fewer for a smaller company, at least one).
 */
export async function seedCompany(services: Services, count: number, onProgress: (done: number, total: number) => void = () => {}, options: { salesDays?: number } = {}) {
  const { deps } = services;
  const meta = () => services.requestMeta('seed');
  const roles = await ensureRoleTemplates(deps, systemActor, meta);
  const departmentIds: Record<string, string> = {};
  for (const department of departments)
    departmentIds[department.key] = (await createDepartment(deps, { name: department.name, parentId: department.parent ? departmentIds[department.parent]! : null }, systemActor, meta())).departmentId;
  const hire = async (employee: (typeof employees)[number]) => {
    const fields = { name: employee.name, title: employee.title, departmentId: departmentIds[employee.department]!, email: `${employee.username}@demo.crm.example` };
    const account = { username: employee.username, password: DEMO_PASSWORD, mustChangePassword: false };
    return (await hireEmployee(deps, { fields, roleIds: employee.roles.map((key) => roles[key]!), account }, systemActor, meta())).employeeId;
  };
  const ownerIds: string[] = [];
  for (const employee of employees) ownerIds.push(await hire(employee));
  const serviceIds: string[] = [];
  for (const employee of serviceTeam) serviceIds.push(await hire(employee));
  // Each department's manager (approvals go to the submitter's manager, then up the tree): its first manager or service manager.
  const staff = [...employees.map((e, i) => ({ ...e, id: ownerIds[i]! })), ...serviceTeam.map((e, i) => ({ ...e, id: serviceIds[i]! }))];
  for (const department of departments) {
    const head = staff.find((e) => e.department === department.key && (e.roles.includes('manager') || e.roles.includes('service_manager')));
    if (head) await changeDepartment(deps, departmentIds[department.key]!, { managerId: head.id }, systemActor, meta());
  }
  const customers = seedCustomers(count);
  let contacts = 0;
  const customerIds: { id: string; ownerId: string }[] = [];
  for (const [index, customer] of customers.entries()) {
    const { customerId } = await registerCustomer(deps, { fields: customer.fields, ownerId: ownerIds[customer.ownerIndex]! }, systemActor, meta());
    customerIds.push({ id: customerId, ownerId: ownerIds[customer.ownerIndex]! });
    for (const contact of customer.contacts) {
      await addContact(deps, { customerId, fields: contact }, systemActor, meta());
      contacts += 1;
    }
    onProgress(index + 1, customers.length);
  }
  // The email campaign is sent now; what people do with it is seeded at the end, a while after delivery.
  const marketer = staff.find((e) => e.roles.includes('manager'))!.id;
  const mailing = await seedMailing(services, marketer);
  const pipeline = await seedPipeline(deps, meta, ownerIds, customerIds, Math.max(1, Math.round(count / 10)));
  const salesDays = options.salesDays ?? Math.min(28, Math.max(1, Math.round(count / 36)));
  const days = await seedSalesDays(deps, meta, customerIds, salesDays);
  await services.runner.waitFor(await services.eventStore.headPosition(), 600_000);
  const salespeople = staff.filter((e) => e.roles.includes('salesperson') && departments.find((d) => d.key === e.department)?.parent === 'sales').map((e) => e.id);
  const expenses = await seedExpenses(services, { salespeople, director: staff.find((e) => e.department === 'sales')!.id, salespersonRoleId: roles.salesperson! });
  const service = await seedService(services, { manager: serviceIds[0]!, engineers: serviceIds.slice(1), queueId: departmentIds.service! }, customerIds, salesDays);
  // Campaigns with results, run by the first manager (the sales director).
  const marketing = await seedCampaignResults(services, mailing, salespeople);
  // Member levels from the orders just seeded (the running service's timer would do the same at its next tick).
  await changeMemberLevelRules(deps, EXAMPLE_MEMBER_LEVELS, systemActor, meta());
  await services.runner.waitFor(await services.eventStore.headPosition(), 600_000);
  const memberLevels = await evaluateMemberLevels(deps, services.readStore, await companyToday(deps), meta());
  return { customers: customers.length, contacts, ...pipeline, ...days, memberLevels, tickets: service, expenses, marketing };
}
