import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { answerClientErrors, createApp } from './api/app.ts';
import { ConfigError, loadConfig } from './infra/config.ts';
import { jsonLogger } from './infra/logger.ts';
import { resumeCampaignSends, resumeHandovers, startPeriodicJobs } from './app/jobs.ts';
import { openServices } from './app/wiring.ts';
import { runMarketingAutomation } from './integrations/marketing/automation.ts';

/** Composition root: configuration → adapters → projections → HTTP. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = jsonLogger(config.LOG_LEVEL);
  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const services = await openServices(config, { logger });
  const app = createApp(services, version);
  resumeHandovers(services);
  resumeCampaignSends(services);
  const marketing = runMarketingAutomation(services);
  const stopJobs = startPeriodicJobs(services);
  const server: Server = app.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info('listening', { url: `http://localhost:${port}`, docs: `http://localhost:${port}/docs`, dataDir: config.CRM_DATA_DIR, version });
  });
  server.keepAliveTimeout = 65_000;
  // Slow or stuck clients cannot hold the server: headers within 10 s, a whole request within 30 s.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  answerClientErrors(server);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    server.close();
    server.closeAllConnections();
    stopJobs();
    await marketing.close();
    await services.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'failed to start', error: (error as Error).message })}\n`);
  process.exit(1);
});
