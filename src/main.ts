import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { answerClientErrors, createApp } from './api/app.ts';
import { ConfigError, loadConfig } from './infra/config.ts';
import { jsonLogger } from './infra/logger.ts';
import { startBackgroundWork } from './app/jobs.ts';
import { openServices } from './app/wiring.ts';
import { runWorker, type Worker } from './app/worker.ts';

/**
 * Composition root: configuration → adapters → projections → HTTP. CRM_ROLE says which part runs here: `all`
 * (everything, one process), `api` (HTTP only) or `worker` (the background work, one worker leading; it serves
 * /healthz, /readyz and /metrics as well).
 */
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
  const role = config.CRM_ROLE;
  const stopWork = role === 'all' ? startBackgroundWork(services) : async () => {};
  const worker: Worker | undefined =
    role === 'worker'
      ? runWorker(services, () => {
          // Deposed: exit at once (fenced writes are refused already); a supervisor starts this worker again as a standby.
          logger.error('this worker lost its lease to another; exiting so that it restarts as a standby');
          process.exit(3);
        })
      : undefined;
  const server: Server = app.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info('listening', { url: `http://localhost:${port}`, docs: `http://localhost:${port}/docs`, dataDir: config.CRM_DATA_DIR, version, role });
  });
  server.keepAliveTimeout = 65_000;
  // Slow or stuck clients cannot hold the server: headers within 10 s, a whole request within 30 s.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  answerClientErrors(server);
  // Requests in flight, so a stop lets them finish (each answered request's writes are then in the log).
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let stopping = false;
  server.on('request', (_request, response) => {
    inFlight++;
    // While stopping, a request on a kept-alive connection is still answered, and that connection closed after it.
    if (stopping) response.setHeader('Connection', 'close');
    response.once('close', () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
  });
  /**
   * Graceful stop: no new connections, idle ones closed, requests in flight given CRM_SHUTDOWN_GRACE_MS to finish
   * (then their connections are closed), then the jobs stop and the services close (projections' checkpoints and the
   * read models flushed, the event store closed); a leading worker releases its lease last, so a standby takes over
   * at its next try.
   */
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const stoppingAt = Date.now();
    logger.info('stopping', { signal, inFlight });
    server.close();
    server.closeIdleConnections();
    if (inFlight > 0) {
      const finished = await Promise.race([
        new Promise<boolean>((resolve) => (drained = () => resolve(true))),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), config.CRM_SHUTDOWN_GRACE_MS).unref()),
      ]);
      if (!finished) logger.warn('requests still in flight at the end of the grace period were cut off', { inFlight, graceMs: config.CRM_SHUTDOWN_GRACE_MS });
    }
    server.closeAllConnections();
    const drainedAt = Date.now();
    await stopWork();
    const lease = await worker?.stop();
    const workStoppedAt = Date.now();
    await services.close(lease ? { beforeStoresClose: () => lease.release() } : {});
    // How long each part of the stop took (the drain of requests, the background work, the stores' flush).
    logger.info('stopped', { signal, drainMs: drainedAt - stoppingAt, workMs: workStoppedAt - drainedAt, closeMs: Date.now() - workStoppedAt });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'failed to start', error: (error as Error).message })}\n`);
  process.exit(1);
});
