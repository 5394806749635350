import { systemActor } from '../commands/employees.ts';
import { runHandover, unfinishedHandovers } from '../commands/handover.ts';
import { returnIdleCustomersToPool } from '../commands/pool.ts';
import { seededIds } from '../infra/ids.ts';
import type { Services } from './wiring.ts';

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
  services.background('resume handovers', async () => {
    for (const handoverId of await unfinishedHandovers(services.deps)) {
      services.logger.info('resuming an interrupted handover', { handoverId });
      await runHandover(handoverDeps(services), handoverId, systemActor, stableMeta(services));
    }
  });
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
