import { loadConfig } from '../infra/config.ts';
import { jsonLogger } from '../infra/logger.ts';
import { openServices } from '../app/wiring.ts';
import { progressBar } from './progress.ts';

/** `npm run rebuild`: drops every projection's collections and replays the whole log into them. */
async function rebuild(): Promise<void> {
  const config = loadConfig();
  const logger = jsonLogger(config.LOG_LEVEL);
  const services = await openServices(config, { logger, startProjections: false, purpose: 'rebuild' });
  try {
    const head = await services.eventStore.headPosition();
    const bar = progressBar('rebuilding');
    const started = performance.now();
    const count = await services.runner.rebuild((_applied, position) => bar(Number(position), head));
    const seconds = (performance.now() - started) / 1000;
    bar(Number(head), head, true);
    process.stderr.write('\n');
    logger.info('rebuild finished', {
      projections: services.runner.projections.map((p) => p.name),
      events: count,
      seconds: Math.round(seconds * 100) / 100,
      eventsPerSecond: Math.round(count / Math.max(seconds, 1e-6)),
    });
  } finally {
    await services.close();
  }
}

rebuild().catch((error: unknown) => {
  process.stderr.write(`rebuild failed: ${(error as Error).message}\n`);
  process.exit(1);
});
