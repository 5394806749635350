import { createHash } from 'node:crypto';
import { reservationCategory, reservationDecider } from '../domain/reservation/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { execute, load } from './pipeline.ts';

/** How long a claim whose holder has not (yet) written its own stream is presumed to be in flight. */
export const IN_FLIGHT_GRACE_MS = 30_000;

export const reservationStream = (scope: string, value: string): string =>
  `${reservationCategory}-${scope}.${createHash('sha256').update(value).digest('hex').slice(0, 40)}`;

export interface ReservationHolderCheck {
  /** True when the holder's own stream shows it still holds `value`. */
  holds(holderId: string): Promise<boolean>;
  /** True when the holder's stream exists at all (then a claim it does not hold is certainly stale). */
  exists(holderId: string): Promise<boolean>;
}

/** Current holder of a value, if any claim on it is live. */
export async function currentHolder(deps: CommandDeps, scope: string, value: string): Promise<string | undefined> {
  return (await load(deps, reservationDecider, reservationStream(scope, value))).state.holderId;
}

/**
 * Claims `value` in `scope` for `holderId`. A claim left behind by a crashed or abandoned write (its holder
 * does not hold the value) is taken over; a live claim refuses with `reservation.held` naming the holder.
 */
export async function claim(
  deps: CommandDeps,
  scope: string,
  value: string,
  holderId: string,
  check: ReservationHolderCheck,
  actor: Actor,
  meta: RequestMeta,
): Promise<void> {
  const streamId = reservationStream(scope, value);
  const loaded = await load(deps, reservationDecider, streamId);
  const holder = loaded.state.holderId;
  let takeOver = false;
  if (holder !== undefined && holder !== holderId && !(await check.holds(holder))) {
    const claimedAt = new Date(loaded.events[loaded.events.length - 1]!.metadata.at).getTime();
    takeOver = (await check.exists(holder)) || deps.clock.now().getTime() - claimedAt > IN_FLIGHT_GRACE_MS;
  }
  await execute(
    deps,
    reservationDecider,
    streamId,
    { type: 'ClaimReservation', scope, value, holderId, takeOver },
    actor,
    { ...meta, ifMatch: undefined },
  );
}

export async function release(
  deps: CommandDeps,
  scope: string,
  value: string,
  holderId: string,
  actor: Actor,
  meta: RequestMeta,
): Promise<void> {
  await execute(
    deps,
    reservationDecider,
    reservationStream(scope, value),
    { type: 'ReleaseReservation', scope, value, holderId },
    actor,
    // A release may follow this request's own claim on the same stream: it is a step of its own.
    { ...meta, requestId: `${meta.requestId}:release`, ifMatch: undefined },
  );
}

/** Releases without letting a failure hide the error that made us release. */
export async function releaseQuietly(...args: Parameters<typeof release>): Promise<void> {
  await release(...args).catch(() => undefined);
}

export const isHeld = (error: unknown): error is DomainError =>
  error instanceof DomainError && error.code === 'reservation.held';
