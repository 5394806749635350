import { addContact } from '../commands/contacts.ts';
import { registerCustomer } from '../commands/customers.ts';
import { findEmployeeByUsername, hireEmployee, systemActor } from '../commands/employees.ts';
import { createDepartment, ensureRoleTemplates } from '../commands/org.ts';
import { loadConfig } from '../infra/config.ts';
import { jsonLogger } from '../infra/logger.ts';
import { openServices } from '../infra/wiring.ts';
import { progressBar } from './progress.ts';
import { departments, employees, seedCustomers } from './seed-data.ts';
import { seedPipeline } from './seed-pipeline.ts';

export const DEMO_PASSWORD = 'demo-password-2026';

/** `npm run seed [-- --customers N]`: a demo company in the embedded store (skipped when already seeded). */
async function seed(): Promise<void> {
  const argIndex = process.argv.indexOf('--customers');
  const count = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 1000;
  if (!Number.isInteger(count) || count < 1) throw new Error('--customers takes a positive whole number');
  const config = loadConfig();
  const logger = jsonLogger(config.LOG_LEVEL);
  const services = await openServices(config, { logger, purpose: 'seed' });
  try {
    const { deps } = services;
    if (await findEmployeeByUsername(deps, employees[0]!.username)) {
      logger.info('already seeded; nothing to do (delete the data directory to start again)', { dataDir: config.CRM_DATA_DIR });
      return;
    }
    const meta = () => services.requestMeta('seed');
    const roles = await ensureRoleTemplates(deps, systemActor, meta);
    const departmentIds: Record<string, string> = {};
    for (const department of departments)
      departmentIds[department.key] = (await createDepartment(deps, { name: department.name, parentId: department.parent ? departmentIds[department.parent]! : null }, systemActor, meta())).departmentId;
    const ownerIds: string[] = [];
    for (const employee of employees) {
      const fields = { name: employee.name, title: employee.title, departmentId: departmentIds[employee.department]! };
      const account = { username: employee.username, password: DEMO_PASSWORD, mustChangePassword: false };
      ownerIds.push((await hireEmployee(deps, { fields, roleIds: employee.roles.map((key) => roles[key]!), account }, systemActor, meta())).employeeId);
    }
    const bar = progressBar('seeding customers');
    const started = performance.now();
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
      bar(index + 1, customers.length);
    }
    bar(customers.length, customers.length, true);
    process.stderr.write('\n');
    const pipeline = await seedPipeline(deps, meta, ownerIds, customerIds, Math.max(1, Math.round(count / 10)));
    await services.runner.waitFor(await services.eventStore.headPosition(), 120_000);
    logger.info('seeded', {
      departments: departments.map((d) => d.name),
      employees: employees.length,
      customers: customers.length,
      contacts,
      ...pipeline,
      seconds: Math.round((performance.now() - started) / 10) / 100,
      login: `any of ${employees.map((e) => e.username).join(', ')} with password ${DEMO_PASSWORD}`,
    });
  } finally {
    await services.close();
  }
}

seed().catch((error: unknown) => {
  process.stderr.write(`seed failed: ${(error as Error).message}\n`);
  process.exit(1);
});
