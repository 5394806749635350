import { idempotencyCategory } from '../domain/categories.ts';
import { createHash } from 'node:crypto';
import { type EventToAppend, type RecordedEvent, WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import { derivedEventId, randomToken } from '../infra/ids.ts';
import type { CommandDeps } from './context.ts';

/**
 * Durable idempotency keys. Each (user, key) pair has a stream `idempotency-<hash>` in the event store, so a
 * retry is recognised after a restart and in both store adapters alike:
 *   Started { requestHash, seed, at } → Completed { response }  |  Abandoned (a 5xx; may be retried at once)
 * The seed makes a retried request re-create the very same ids and event ids, so a request interrupted after
 * some of its appends resumes without writing anything twice.
 */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export class IdempotencyKeyReusedError extends Error {
  constructor() {
    super('This Idempotency-Key was already used with a different request');
    this.name = 'IdempotencyKeyReusedError';
  }
}

export class IdempotencyInProgressError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('A request with this Idempotency-Key is still being processed');
    this.name = 'IdempotencyInProgressError';
  }
}

/** How long a completed request is remembered: after that its key may be used again (CRM_IDEMPOTENCY_TTL_HOURS). */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3600_000;

/** A request still running after this long is presumed dead, and a retry may resume it. */
export const IN_PROGRESS_TIMEOUT_MS = 30_000;
/** Responses replayed as they were: success and refusals; transient answers are not remembered. */
const REMEMBER = (status: number) => status < 500 && status !== 429 && status !== 503;

/** How a request's hash was made: a keyed HMAC (`hmac-sha256`) since this version; plain SHA-256 before. */
type HashAlgorithm = 'hmac-sha256' | 'sha256';

type KeyState =
  | { status: 'none' }
  | { status: 'started'; requestHash: string; algorithm: HashAlgorithm; seed: string; at: number }
  | { status: 'completed'; requestHash: string; algorithm: HashAlgorithm; response: StoredResponse; completedAt: number };

/** The key's state; a request completed longer than `ttlMs` ago is forgotten, and its key may be used again. */
function foldKey(events: RecordedEvent[], now: number, ttlMs: number): KeyState {
  let state = { status: 'none' } as KeyState;
  for (const event of events) {
    const data = event.data as Record<string, unknown>;
    if (event.type === 'IdempotentRequestStarted')
      state = { status: 'started', requestHash: String(data.requestHash), algorithm: data.hashAlgorithm === 'hmac-sha256' ? 'hmac-sha256' : 'sha256', seed: String(data.seed), at: Number(data.at) };
    else if (event.type === 'IdempotentRequestCompleted' && state.status === 'started')
      state = { status: 'completed', requestHash: state.requestHash, algorithm: state.algorithm, response: data.response as StoredResponse, completedAt: new Date(event.metadata.at).getTime() };
    else if (event.type === 'IdempotentRequestAbandoned' && state.status === 'started') state = { ...state, at: 0 };
  }
  if (state.status === 'completed' && now - state.completedAt >= ttlMs) return { status: 'none' };
  return state;
}

/**
 * The request's fingerprint, as a keyed hash: bodies may hold passwords, and a plain hash of a password is a
 * fast-to-test guess target. `keyed` is the server's HMAC; `legacy` (plain SHA-256) only matches records an
 * earlier version wrote.
 */
export interface RequestFingerprint {
  keyed: string;
  legacy(): string;
}

export const requestFingerprint = (hmac: (data: string) => string, ...parts: string[]): RequestFingerprint => ({
  keyed: hmac(parts.join('\n')),
  legacy: () => createHash('sha256').update(parts.join('\n')).digest('hex'),
});

const sameRequest = (state: Exclude<KeyState, { status: 'none' }>, fingerprint: RequestFingerprint) =>
  state.requestHash === (state.algorithm === 'hmac-sha256' ? fingerprint.keyed : fingerprint.legacy());

export async function runIdempotent(
  deps: CommandDeps,
  scope: { userId: string; key: string; fingerprint: RequestFingerprint; correlationId: string; ttlMs?: number },
  handle: (seed: string, seedTimeMs: number) => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const streamId = `${idempotencyCategory}-${createHash('sha256').update(`${scope.userId}\n${scope.key}`).digest('hex').slice(0, 40)}`;
  const metadata = (requestId: string) => ({
    actor: scope.userId,
    at: deps.clock.now().toISOString(),
    correlationId: scope.correlationId,
    requestId,
    schemaVersion: 1,
  });
  for (let attempt = 0; ; attempt++) {
    const events = await deps.eventStore.readStream(streamId);
    const now = deps.clock.now().getTime();
    const state = foldKey(events, now, scope.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS);
    if (state.status !== 'none' && !sameRequest(state, scope.fingerprint)) throw new IdempotencyKeyReusedError();
    if (state.status === 'completed') return { ...state.response, replayed: true };
    if (state.status === 'started' && now - state.at < IN_PROGRESS_TIMEOUT_MS)
      throw new IdempotencyInProgressError(Math.max(1, Math.ceil((IN_PROGRESS_TIMEOUT_MS - (now - state.at)) / 1000)));
    const seed = state.status === 'started' ? state.seed : randomToken();
    // The first attempt with this seed fixes the time its ids are made from (a resumed request makes the same ids).
    const started = state.status === 'started' ? events.find((event) => event.type === 'IdempotentRequestStarted' && (event.data as { seed?: string }).seed === seed) : undefined;
    const seedTime = started ? new Date(started.metadata.at).getTime() : now;
    const revision = events.length ? events[events.length - 1]!.revision : -1n;
    const startId = `${seed}:start:${events.length}`;
    let startRevision: bigint;
    try {
      ({ nextExpectedRevision: startRevision } = await deps.eventStore.append(
        streamId,
        [{ id: derivedEventId(startId, streamId, 0), type: 'IdempotentRequestStarted', data: { requestHash: scope.fingerprint.keyed, hashAlgorithm: 'hmac-sha256', seed, at: now }, metadata: metadata(startId) }],
        revision < 0n ? 'no_stream' : revision,
      ));
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError && attempt === 0) continue;
      if (error instanceof WrongExpectedRevisionError) throw new IdempotencyInProgressError(1);
      throw error;
    }
    let response: StoredResponse;
    try {
      response = await handle(seed, seedTime);
    } catch (error) {
      await appendAfter(deps, streamId, [{ id: derivedEventId(`${startId}:abandon`, streamId, 0), type: 'IdempotentRequestAbandoned', data: {}, metadata: metadata(`${seed}:abandon`) }], startRevision).catch(() => undefined);
      throw error;
    }
    const outcome = REMEMBER(response.status)
      ? { type: 'IdempotentRequestCompleted', data: { response } }
      : { type: 'IdempotentRequestAbandoned', data: { status: response.status } };
    await appendAfter(deps, streamId, [{ id: derivedEventId(`${startId}:end`, streamId, 0), ...outcome, metadata: metadata(`${seed}:end`) }], startRevision);
    return { ...response, replayed: false };
  }
}

/**
 * Appends the end of a request right after its start, at that exact revision: a repeated append is then
 * recognised by the event store after any restart (EventStoreDB recognises ids at `any` only while it remembers
 * them). Another attempt that took over the key meanwhile moved the stream on: the end is still recorded.
 */
async function appendAfter(deps: Pick<CommandDeps, 'eventStore'>, streamId: string, events: EventToAppend[], startRevision: bigint): Promise<void> {
  try {
    await deps.eventStore.append(streamId, events, startRevision);
  } catch (error) {
    if (!(error instanceof WrongExpectedRevisionError)) throw error;
    await deps.eventStore.append(streamId, events, 'any');
  }
}
