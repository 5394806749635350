import { systemActor } from '../commands/employees.ts';
import { runHandover, unfinishedHandovers } from '../commands/handover.ts';
import { returnIdleCustomersToPool } from '../commands/pool.ts';
import { actorOf } from '../commands/access.ts';
import { completeBatch, unfinishedBatches } from '../commands/batches.ts';
import { runMassChange } from '../commands/mass-change.ts';
import { runMerge } from '../commands/merge.ts';
import { runUndo } from '../commands/undo.ts';
import { runImport } from '../commands/import-run.ts';
import { seededIds } from '../infra/ids.ts';
import type { Services } from './wiring.ts';
import { runMarketingAutomation } from '../integrations/marketing/automation.ts';
import { startErpInbound } from '../integrations/erp/kafka-inbound.ts';
import { startErpOutbound, startErpPublisher } from '../integrations/erp/outbound.ts';
import { keepStarting } from '../integrations/keep-starting.ts';

/** What a bulk operation (a handover, an undo) needs from the services: the read models, and a way to wait for them. */
export const bulkDeps = (services: Pick<Services, 'deps' | 'readStore' | 'runner'>) => ({
  ...services.deps,
  readStore: services.readStore,
  waitFor: (position: bigint) => services.runner.waitFor(position, 30_000),
});

/** What an import's run needs: the read models (matching) and the stored files. */
export const importDeps = (services: Pick<Services, 'deps' | 'readStore' | 'blobs'>) => ({ ...services.deps, readStore: services.readStore, blobs: services.blobs });

/** Request facts with ids derived from a stable request id, so a re-run repeats itself exactly. */
export const stableMeta = (services: Pick<Services, 'clock'>) => (requestId: string) => ({
  correlationId: requestId,
  requestId,
  ids: seededIds(requestId, services.clock.now().getTime()),
});

export function resumeHandovers(services: Services, running: Set<string> = new Set()): void {
  services.background('resume handovers', () => runUnfinishedHandovers(services));
  services.background('resume batches', () => runUnfinishedBatches(services, running));
}

/** Mass changes, merges, imports and undos a crash or a stop interrupted (or an API instance left to the worker), run to the end as whoever started them. */
async function runUnfinishedBatches(services: Services, running: Set<string>, quiet = false): Promise<void> {
  for (const { batchId, state, actorId } of await unfinishedBatches(services.deps, ['mass-update', 'mass-assign', 'undo', 'pool-return', 'import', 'merge'])) {
    // One this process runs already (picked up earlier, still going) is left to that run.
    if (state.status !== 'running' || running.has(batchId)) continue;
    // A pool return run a stop interrupted is not resumed (the rule runs again within the hour): at start, it is
    // closed with what it did. (A later pick-up leaves it: this process may be running it.)
    if (state.kind === 'pool-return') {
      if (quiet) continue;
      await completeBatch(services.deps, batchId, { records: 0, skipped: 0 }, systemActor, stableMeta(services)(`batch:${batchId}`));
      continue;
    }
    if (!quiet) services.logger.info('resuming an interrupted batch', { batchId, kind: state.kind });
    const actor = (await actorOf(services.deps, actorId)) ?? systemActor;
    const meta = stableMeta(services)(`batch:${batchId}`);
    running.add(batchId);
    try {
      if (state.kind === 'undo') await runUndo(bulkDeps(services), batchId, actor, meta);
      else if (state.kind === 'merge') await runMerge(bulkDeps(services), batchId, actor, meta);
      else if (state.kind === 'import') await runImport(importDeps(services), String(state.summary.importId), actor, stableMeta(services)(`import:${String(state.summary.importId)}`));
      else await runMassChange(services.deps, batchId, actor, meta);
    } finally {
      running.delete(batchId);
    }
  }
}

async function runUnfinishedHandovers(services: Services, quiet = false): Promise<void> {
  for (const handoverId of await unfinishedHandovers(services.deps)) {
    if (!quiet) services.logger.info('resuming an interrupted handover', { handoverId });
    await runHandover(bulkDeps(services), handoverId, systemActor, stableMeta(services));
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

/** How long a stop waits for the consumers to leave their groups. */
const CONSUMER_CLOSE_MS = 5_000;

/**
 * The background work of a process that runs it (CRM_ROLE `all`, or the leading worker): interrupted handovers and
 * campaign sends resumed, the marketing consumer, the periodic jobs. A worker also picks up, every
 * `pickupEveryMs`, the handovers and sends that `api` instances started and left to it. Returns a function that
 * stops it all.
 */
export function startBackgroundWork(services: Services, options: { pickupEveryMs?: number } = {}): () => Promise<void> {
  const running = new Set<string>();
  resumeHandovers(services, running);
  resumeCampaignSends(services);
  const marketing = runMarketingAutomation(services);
  // The ERP bridge's consumers run where the company has an ERP (CRM_ERP_BRIDGE=on).
  const kafka = services.config.CRM_ERP_BRIDGE ? services.kafka : undefined;
  const erpInbound = kafka ? keepStarting('ERP bridge (inbound)', () => startErpInbound(kafka.client, kafka.topics, services, undefined, { referenceWaitMs: services.config.CRM_ERP_REFERENCE_WAIT_MS }), services.logger) : undefined;
  const erpOutbound = services.config.CRM_ERP_BRIDGE ? keepStarting('ERP bridge (outbound)', () => startErpOutbound(services), services.logger) : undefined;
  const erpPublisher = kafka ? keepStarting('ERP bridge (publisher)', () => startErpPublisher(kafka.client, kafka.topics, services), services.logger) : undefined;
  const stopJobs = startPeriodicJobs(services);
  let pickup: NodeJS.Timeout | undefined;
  let picking: Promise<void> | undefined;
  if (options.pickupEveryMs) {
    pickup = setInterval(() => {
      picking ??= (async () => {
        await runUnfinishedHandovers(services, true);
        await runUnfinishedBatches(services, running, true);
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
    // A consumer group's leave can hang on a broker that waits for a dead member: the stop goes on after 5 s
    // (the broker drops this member at its session timeout; its commits cover only what it handled).
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([Promise.all([marketing.close(), erpInbound?.close(), erpOutbound?.close(), erpPublisher?.close()]).then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CONSUMER_CLOSE_MS)))]);
    clearTimeout(timer);
    if (!closed) services.logger.warn('the consumers did not leave their groups in time; stopping without them', { waitedMs: CONSUMER_CLOSE_MS });
  };
}
