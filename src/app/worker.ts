import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Fence } from '../infra/readstore/fencing.ts';
import { startBackgroundWork } from './jobs.ts';
import { campaignForLeadership, LeaderLease } from './leader.ts';
import type { Services } from './wiring.ts';

/** The lease workers campaign for. */
export const WORKER_LEASE = 'worker';

/** How often the leading worker picks up the handovers and campaign sends `api` instances left to it. */
const PICKUP_EVERY_MS = 2_000;

export interface Worker {
  /** Whether this process leads now. */
  leading(): boolean;
  /** The lease as this process holds it: its fencing token, or undefined. */
  token(): number | undefined;
  /** Stops the background work, then (once the caller has flushed) releases the lease: `release` to call before the stores close. */
  stop(): Promise<{ release(): Promise<void> }>;
}

/**
 * CRM_ROLE=worker: campaigns for the workers' lease; the leader runs the projections, timers, relay, witness and
 * background jobs, its writes fenced by the lease's token. Deposed (its lease taken after it could not renew it),
 * it stops its work and calls `onDeposed` (the process exits there, and its supervisor starts it again as a
 * standby: nothing it began is trusted to go on).
 */
export function runWorker(services: Services, onDeposed: () => void): Worker {
  const { config, logger } = services;
  const settings = {
    name: WORKER_LEASE,
    holder: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    ttlMs: config.CRM_LEASE_TTL_MS,
    renewEveryMs: config.CRM_LEASE_RENEW_MS,
  };
  const lease = new LeaderLease(services.readStore, settings);
  let stopWork: (() => Promise<void>) | undefined;
  const campaign = campaignForLeadership(
    lease,
    settings,
    {
      async onElected(token) {
        const fence: Fence = { token, valid: () => lease.token === token, confirm: async () => lease.token === token && (await lease.current())?.token === token };
        await services.lead!(fence);
        stopWork = startBackgroundWork(services, { pickupEveryMs: PICKUP_EVERY_MS });
        services.leadership.leading = true;
        services.leadership.fencingToken = token;
        logger.info('leading: projections, relay, timers and jobs run here', { fencingToken: token, holder: settings.holder });
      },
      async onDeposed() {
        services.leadership.leading = false;
        // Its fenced writes are refused already; the rest stops with the process.
        onDeposed();
      },
    },
    logger.child({ component: 'leadership' }),
  );
  return {
    leading: () => campaign.leading(),
    token: () => lease.token,
    async stop() {
      await stopWork?.();
      return { release: () => campaign.stop() };
    },
  };
}
