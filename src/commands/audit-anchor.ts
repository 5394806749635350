import { AuditAnchored, auditAnchorStream } from '../domain/audit/index.ts';
import { localDate, previousDay } from '../domain/company/index.ts';
import type { ChainVerifier } from '../infra/eventstore/chain.ts';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import type { CommandDeps, RequestMeta } from './context.ts';
import { systemActor } from './employees.ts';
import { onceFactEvent } from './pipeline.ts';
import { dailyJob } from './daily-job.ts';

const TIMER = 'audit-anchor';
/** When, in the company's time zone, the day that ended is anchored. */
const ANCHOR_AT = '00:05';

/**
 * Records the chain's last link as the anchor of `day` (once: the day's stream is written only if it does not
 * exist). Answers the anchor, or null when the store keeps no chain or the day is anchored already.
 */
export async function anchorDay(deps: CommandDeps, chain: ChainVerifier, day: string, meta: RequestMeta): Promise<AuditAnchored | null> {
  const head = await chain.chainHead();
  if (!head) return null;
  const anchor = AuditAnchored.parse({ day, position: head.position.toString(), hash: head.hash });
  const stream = auditAnchorStream(day);
  try {
    await deps.eventStore.append(stream, [onceFactEvent(deps, meta, systemActor.userId, stream, { type: 'AuditAnchored', data: anchor })], 'no_stream');
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) return null;
    throw error;
  }
  return anchor;
}

/**
 * The daily anchor: at 00:05 company time, the chain's last link is recorded for the day that just ended (a run
 * late after a restart anchors the day before the one it runs on), then the next run is scheduled.
 */
const anchors = dailyJob(TIMER, ANCHOR_AT, async (deps, { meta, ports, now, timeZone }) => {
  if (ports.chain) await anchorDay(deps, ports.chain, previousDay(localDate(now, timeZone)), meta);
});
export const auditAnchorTimer = anchors.timer;
/** Starts the daily anchors on the first start of a version that has them (another instance may have started them). */
export const startAuditAnchors = anchors.start;
