import { findEmployeeByUsername } from '../commands/employees.ts';
import { loadConfig } from '../infra/config.ts';
import { jsonLogger } from '../infra/logger.ts';
import { openServices } from '../app/wiring.ts';
import { progressBar } from './progress.ts';
import { DEMO_PASSWORD, seedCompany } from './seed-company.ts';
import { departments, employees, serviceTeam } from './seed-data.ts';

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
    const started = performance.now();
    const bar = progressBar('seeding customers');
    const seeded = await seedCompany(services, count, (done, total) => bar(done, total, done === total));
    process.stderr.write('\n');
    await services.runner.waitFor(await services.eventStore.headPosition(), 120_000);
    logger.info('seeded', {
      departments: departments.map((d) => d.name),
      employees: employees.length + serviceTeam.length,
      ...seeded,
      seconds: Math.round((performance.now() - started) / 10) / 100,
      login: `any of ${[...employees, ...serviceTeam].map((e) => e.username).join(', ')} with password ${DEMO_PASSWORD}`,
    });
  } finally {
    await services.close();
  }
}

seed().catch((error: unknown) => {
  process.stderr.write(`seed failed: ${(error as Error).message}\n`);
  process.exit(1);
});
