import { createHash } from 'node:crypto';
import { type RecordedEvent, WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
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

/** A request still running after this long is presumed dead, and a retry may resume it. */
export const IN_PROGRESS_TIMEOUT_MS = 30_000;
/** Responses replayed as they were: success and refusals; transient answers are not remembered. */
const REMEMBER = (status: number) => status < 500 && status !== 429 && status !== 503;

type KeyState =
  | { status: 'none' }
  | { status: 'started'; requestHash: string; seed: string; at: number }
  | { status: 'completed'; requestHash: string; response: StoredResponse };

function foldKey(events: RecordedEvent[]): KeyState {
  let state = { status: 'none' } as KeyState;
  for (const event of events) {
    const data = event.data as Record<string, unknown>;
    if (event.type === 'IdempotentRequestStarted')
      state = { status: 'started', requestHash: String(data.requestHash), seed: String(data.seed), at: Number(data.at) };
    else if (event.type === 'IdempotentRequestCompleted' && state.status === 'started')
      state = { status: 'completed', requestHash: state.requestHash, response: data.response as StoredResponse };
    else if (event.type === 'IdempotentRequestAbandoned' && state.status === 'started') state = { ...state, at: 0 };
  }
  return state;
}

export const requestHash = (...parts: string[]): string => createHash('sha256').update(parts.join('\n')).digest('hex');

export async function runIdempotent(
  deps: CommandDeps,
  scope: { userId: string; key: string; requestHash: string; correlationId: string },
  handle: (seed: string, seedTimeMs: number) => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const streamId = `idempotency-${createHash('sha256').update(`${scope.userId}\n${scope.key}`).digest('hex').slice(0, 40)}`;
  const metadata = (requestId: string) => ({
    actor: scope.userId,
    at: deps.clock.now().toISOString(),
    correlationId: scope.correlationId,
    requestId,
    schemaVersion: 1,
  });
  for (let attempt = 0; ; attempt++) {
    const events = await deps.eventStore.readStream(streamId);
    const state = foldKey(events);
    if (state.status !== 'none' && state.requestHash !== scope.requestHash) throw new IdempotencyKeyReusedError();
    if (state.status === 'completed') return { ...state.response, replayed: true };
    const now = deps.clock.now().getTime();
    if (state.status === 'started' && now - state.at < IN_PROGRESS_TIMEOUT_MS)
      throw new IdempotencyInProgressError(Math.max(1, Math.ceil((IN_PROGRESS_TIMEOUT_MS - (now - state.at)) / 1000)));
    const seed = state.status === 'started' ? state.seed : randomToken();
    const seedTime = state.status === 'started' && events[0] ? new Date(events[0].metadata.at).getTime() : now;
    const revision = events.length ? events[events.length - 1]!.revision : -1n;
    const startId = `${seed}:start:${events.length}`;
    try {
      await deps.eventStore.append(
        streamId,
        [{ id: derivedEventId(startId, streamId, 0), type: 'IdempotentRequestStarted', data: { requestHash: scope.requestHash, seed, at: now }, metadata: metadata(startId) }],
        revision < 0n ? 'no_stream' : revision,
      );
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError && attempt === 0) continue;
      if (error instanceof WrongExpectedRevisionError) throw new IdempotencyInProgressError(1);
      throw error;
    }
    let response: StoredResponse;
    try {
      response = await handle(seed, seedTime);
    } catch (error) {
      await deps.eventStore
        .append(streamId, [{ id: derivedEventId(`${startId}:abandon`, streamId, 0), type: 'IdempotentRequestAbandoned', data: {}, metadata: metadata(`${seed}:abandon`) }], 'any')
        .catch(() => undefined);
      throw error;
    }
    const outcome = REMEMBER(response.status)
      ? { type: 'IdempotentRequestCompleted', data: { response } }
      : { type: 'IdempotentRequestAbandoned', data: { status: response.status } };
    await deps.eventStore.append(
      streamId,
      [{ id: derivedEventId(`${startId}:end`, streamId, 0), ...outcome, metadata: metadata(`${seed}:end`) }],
      'any',
    );
    return { ...response, replayed: false };
  }
}
