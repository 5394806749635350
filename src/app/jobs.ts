import { systemActor } from '../commands/employees.ts';
import { runHandover, unfinishedHandovers } from '../commands/handover.ts';
import { returnIdleCustomersToPool } from '../commands/pool.ts';
import { seededIds } from '../infra/ids.ts';
import type { Services } from './wiring.ts';
import { runMarketingAutomation } from '../integrations/marketing/automation.ts';

/** What a handover needs from the services. */
export const handoverDeps = (services: Pick<Services, 'deps' | 'readStore' | 'runner'>) => ({
  ...services.deps,
  readStore: services.readStore,
  waitFor: (position: bigint) => services.runner.waitFor(position, 30_000),
});

/** Request facts with ids derived from a stable request id, so a re-run repeats itself exactly. */
export const stableMeta = (services: Pick<Services, 'clock'>) => (requestId: string) => ({
  correlationId: requestId,
  requestId,
  ids: seededIds(requestId, services.clock.now().getTime()),
});

export function resumeHandovers(services: Services): void {
  services.background('resume handovers', () => runUnfinishedHandovers(services));
}

async function runUnfinishedHandovers(services: Services, quiet = false): Promise<void> {
  for (const handoverId of await unfinishedHandovers(services.deps)) {
    if (!quiet) services.logger.info('resuming an interrupted handover', { handoverId });
    await runHandover(handoverDeps(services), handoverId, systemActor, stableMeta(services));
  }
}

/** Resumes the campaign sends a crash or a restart interrupted, once the read models have caught up with the log. */
export function resumeCampaignSends(services: Services): void {
  services.background('resume campaign sends', async () => {
    await services.runner.waitFor(await services.eventStore.headPosition(), 120_000);
    await services.campaigns.resume();
  });
}

/** The server's periodic jobs: the customer-pool rule every hour. Returns a function that stops them. */
export function startPeriodicJobs(services: Services, everyMs = 3_600_000): () => void {
  const timer = setInterval(() => {
    services.background('customer pool rule', async () => {
      const released = await returnIdleCustomersToPool(services.deps, services.readStore, systemActor, () => services.requestMeta('pool-rule'));
      if (released) services.logger.info('customers returned to the pool', { released });
    });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The background work of a process that runs it (CRM_ROLE `all`, or the leading worker): interrupted handovers and
 * campaign sends resumed, the marketing consumer, the periodic jobs. A worker also picks up, every
 * `pickupEveryMs`, the handovers and sends that `api` instances started and left to it. Returns a function that
 * stops it all.
 */
export function startBackgroundWork(services: Services, options: { pickupEveryMs?: number } = {}): () => Promise<void> {
  resumeHandovers(services);
  resumeCampaignSends(services);
  const marketing = runMarketingAutomation(services);
  const stopJobs = startPeriodicJobs(services);
  let pickup: NodeJS.Timeout | undefined;
  let picking: Promise<void> | undefined;
  if (options.pickupEveryMs) {
    pickup = setInterval(() => {
      picking ??= (async () => {
        await runUnfinishedHandovers(services, true);
        await services.campaigns.resume();
      })()
        .catch((error: unknown) => services.logger.error('could not pick up the work API instances left', { error }))
        .finally(() => (picking = undefined));
    }, options.pickupEveryMs);
    pickup.unref();
  }
  return async () => {
    clearInterval(pickup);
    stopJobs();
    await picking;
    await marketing.close();
  };
}
