import { createHmac, hash } from 'node:crypto';
import { reservationCategory, reservationDecider } from '../domain/reservation/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { execute, load } from './pipeline.ts';

/** How long a claim whose holder has not (yet) written its own stream is presumed to be in flight. */
export const IN_FLIGHT_GRACE_MS = 30_000;

/** The stream of a value as earlier versions named it: by its plain SHA-256, which a dictionary reverses for short values. */
const legacyStream = (scope: string, value: string): string => `${reservationCategory}-${scope}.${hash('sha256', value, 'hex').slice(0, 40)}`;

/** The keyed hash (HMAC-SHA-256 under the reservation key) that stands for a value in its stream's name and events. */
const valueHash = (key: Buffer, scope: string, value: string): string => createHmac('sha256', key).update(`${scope}\u0000${value}`).digest('hex');

/**
 * Where a value is reserved: a stream named by its keyed hash (the key is the service's own, kept with the subject
 * keys, never rotated), and the stream an earlier version named by its plain hash, still read so a value reserved
 * before stays reserved. Without a key (a bare test setup), the earlier naming alone.
 */
function reservationOf(deps: CommandDeps, scope: string, value: string): { streamId: string; valueHash?: string; legacy?: string } {
  if (!deps.reservationKey) return { streamId: legacyStream(scope, value) };
  const keyed = valueHash(deps.reservationKey, scope, value);
  return { streamId: `${reservationCategory}-${scope}.k${keyed.slice(0, 40)}`, valueHash: keyed, legacy: legacyStream(scope, value) };
}

/** The stream a value's reservation lives in (today's naming). */
export const reservationStream = (deps: CommandDeps, scope: string, value: string): string => reservationOf(deps, scope, value).streamId;

export interface ReservationHolderCheck {
  /** True when the holder's own stream shows it still holds `value`. */
  holds(holderId: string): Promise<boolean>;
  /** True when the holder's stream exists at all (then a claim it does not hold is certainly stale). */
  exists(holderId: string): Promise<boolean>;
}

/** Current holder of a value, if any claim on it is live. */
export async function currentHolder(deps: CommandDeps, scope: string, value: string): Promise<string | undefined> {
  const { streamId, legacy } = reservationOf(deps, scope, value);
  const holder = (await load(deps, reservationDecider, streamId)).state.holderId;
  return holder ?? (legacy ? (await load(deps, reservationDecider, legacy)).state.holderId : undefined);
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
  const { streamId, valueHash: hash, legacy } = reservationOf(deps, scope, value);
  const loaded = await load(deps, reservationDecider, streamId);
  const holder = loaded.state.holderId;
  let takeOver = false;
  if (holder !== undefined && holder !== holderId && !(await check.holds(holder))) {
    const claimedAt = new Date(loaded.events[loaded.events.length - 1]!.metadata.at).getTime();
    takeOver = (await check.exists(holder)) || deps.clock.now().getTime() - claimedAt > IN_FLIGHT_GRACE_MS;
  }
  if (holder === undefined && legacy) {
    // Reserved by an earlier version, under the plain hash: held while its holder still holds the value.
    const earlier = (await load(deps, reservationDecider, legacy)).state.holderId;
    if (earlier !== undefined && earlier !== holderId && (await check.holds(earlier)))
      reservationDecider.decide({ type: 'ClaimReservation', scope, value, holderId }, { holderId: earlier });
  }
  await execute(
    deps,
    reservationDecider,
    streamId,
    { type: 'ClaimReservation', scope, value, holderId, takeOver, ...(hash ? { valueHash: hash } : {}) },
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
  const { streamId, valueHash: hash, legacy } = reservationOf(deps, scope, value);
  // A release may follow this request's own claim on the same stream: it is a step of its own.
  const step = { ...meta, requestId: `${meta.requestId}:release`, ifMatch: undefined };
  await execute(deps, reservationDecider, streamId, { type: 'ReleaseReservation', scope, value, holderId, ...(hash ? { valueHash: hash } : {}) }, actor, step);
  // A claim an earlier version made for the same holder is released too (the decider appends nothing where it is not theirs).
  if (legacy) await execute(deps, reservationDecider, legacy, { type: 'ReleaseReservation', scope, value, holderId }, actor, { ...step, requestId: `${meta.requestId}:release-legacy` });
}

/** Releases without letting a failure hide the error that made us release. */
export async function releaseQuietly(...args: Parameters<typeof release>): Promise<void> {
  await release(...args).catch(() => undefined);
}

export const isHeld = (error: unknown): error is DomainError =>
  error instanceof DomainError && error.code === 'reservation.held';
