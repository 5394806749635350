import { type Decider, type DomainEvent, fold } from '../domain/shared/decider.ts';
import { type EventMetadata, EventStoreOutcomeUnknownError, type EventToAppend, type RecordedEvent, WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import { freezeOwned } from '../infra/frozen.ts';
import { derivedEventId } from '../infra/ids.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { ConcurrencyConflictError, PreconditionFailedError } from './errors.ts';

export const SCHEMA_VERSION = 1;

/**
 * An event appended directly (a fact no decider decides: a login, a setting, an operations decision), with the
 * metadata every event carries. `actorId` defaults to the request's actor; `requestId` to the request's.
 */
export function factEvent(
  deps: CommandDeps,
  meta: RequestMeta,
  actorId: string,
  event: { type: string; data: Record<string, unknown> },
  requestId: string = meta.requestId,
): EventToAppend {
  return {
    id: meta.ids.newId(),
    type: event.type,
    data: event.data,
    metadata: eventMetadata(meta, actorId, deps.clock.now().toISOString(), requestId),
  };
}

/** The metadata every event a request appends carries: who, when, the request and its trace, and the batch it belongs to. */
export const eventMetadata = (meta: RequestMeta, actorId: string, at: string, requestId: string = meta.requestId): EventMetadata => ({
  actor: actorId,
  at,
  correlationId: meta.correlationId,
  requestId,
  ...(meta.traceId ? { traceId: meta.traceId } : {}),
  ...(meta.fence !== undefined ? { fence: meta.fence } : {}),
  ...(meta.batchId ? { batchId: meta.batchId } : {}),
  ...(meta.undoes ? { undoes: meta.undoes } : {}),
  ...(meta.undoForced ? { undoForced: true } : {}),
  schemaVersion: SCHEMA_VERSION,
});

/**
 * A fact written once per request and stream: its id is derived from the two (as a command's events' are), so a
 * retried request (a timer firing again after a crash) appends nothing new.
 */
export const onceFactEvent = (deps: CommandDeps, meta: RequestMeta, actorId: string, streamId: string, event: { type: string; data: Record<string, unknown> }): EventToAppend => ({
  ...factEvent(deps, meta, actorId, event),
  id: meta.ids.eventId?.(meta.requestId, streamId, 0) ?? derivedEventId(meta.requestId, streamId, 0),
});

/**
 * A request's events for one stream, ready to append: ids derived from the request, the stream and each event's
 * index (so a retried request appends nothing new), one time and the request's metadata.
 */
export function requestEvents(deps: CommandDeps, meta: RequestMeta, actorId: string, streamId: string, events: readonly DomainEvent[]): EventToAppend[] {
  const at = deps.clock.now().toISOString();
  return events.map((event, index) => ({ id: meta.ids.eventId?.(meta.requestId, streamId, index) ?? derivedEventId(meta.requestId, streamId, index), type: event.type, data: event.data, metadata: eventMetadata(meta, actorId, at) }));
}

export interface Loaded<State> {
  state: State;
  /** -1n when the stream does not exist. */
  revision: bigint;
  events: RecordedEvent[];
}

/** The outcome of a command; `events` are those the stream held before it. */
export interface Executed<State> extends Loaded<State> {
  /** Global position of the last event written (or, if nothing changed, of the stream's last event). */
  position: bigint;
  /** False when the command produced no events (or a retried request had already produced them). */
  changed: boolean;
}

type AnyDecider<C, E extends DomainEvent, S> = Decider<C, E, S>;

const asDomainEvent = <E extends DomainEvent>(event: RecordedEvent): E => ({ type: event.type, data: event.data }) as E;

/**
 * States folded from streams the event store serves from memory (frozen arrays, the same one for as long as the
 * stream is unchanged), per decider: a warm command does not fold the actor's roles or the field definitions
 * again. The states are frozen, as they are shared.
 */
const foldedStates = new WeakMap<readonly RecordedEvent[], WeakMap<object, unknown>>();

/** Reads a stream and folds it into the decider's state. */
export async function load<C, E extends DomainEvent, S>(
  deps: Pick<CommandDeps, 'eventStore'>,
  decider: AnyDecider<C, E, S>,
  streamId: string,
): Promise<Loaded<S>> {
  const events = await deps.eventStore.readStream(streamId);
  const revision = events.length ? events[events.length - 1]!.revision : -1n;
  if (!Object.isFrozen(events)) return { state: fold(decider, events.map(asDomainEvent<E>)), events, revision };
  let states = foldedStates.get(events);
  if (!states) foldedStates.set(events, (states = new WeakMap()));
  if (!states.has(decider)) states.set(decider, freezeOwned(fold(decider, events.map(asDomainEvent<E>))));
  return { state: states.get(decider) as S, events, revision };
}

/** Folds only the events recorded at or before `asOf` (point-in-time view). */
export function foldAsOf<C, E extends DomainEvent, S>(decider: AnyDecider<C, E, S>, events: RecordedEvent[], asOf: Date): Loaded<S> {
  const upTo = events.filter((event) => new Date(event.metadata.at) <= asOf);
  return {
    state: fold(decider, upTo.map(asDomainEvent<E>)),
    events: upTo,
    revision: upTo.length ? upTo[upTo.length - 1]!.revision : -1n,
  };
}

/**
 * The command pipeline: load the stream → pure decide → append with the expected revision.
 * - `command` may be a function of the current state (for commands that need it to be built).
 * - `If-Match` (meta.ifMatch) that does not equal the current revision → PreconditionFailedError.
 * - A concurrent writer: with If-Match → PreconditionFailedError; without, the command is re-decided once
 *   against the new state, then ConcurrencyConflictError.
 * - A retried request whose events are already in the stream returns the first outcome and appends nothing.
 * - An append whose outcome is unknown (a timeout) is followed by a fresh load, which finds the request's
 *   events if they were written; after two such answers, EventStoreOutcomeUnknownError (an API 503).
 */
export async function execute<C, E extends DomainEvent, S>(
  deps: CommandDeps,
  decider: AnyDecider<C, E, S>,
  streamId: string,
  command: C | ((state: S) => C),
  actor: Actor,
  meta: RequestMeta,
): Promise<Executed<S>> {
  let unknownOutcomes = 0;
  for (let attempt = 0; ; attempt++) {
    const loaded = await load(deps, decider, streamId);
    const earlier = loaded.events.filter((event) => event.metadata.requestId === meta.requestId);
    if (earlier.length > 0) {
      const last = earlier[earlier.length - 1]!;
      return { ...loaded, position: last.position, changed: false };
    }
    if (meta.ifMatch !== undefined && meta.ifMatch !== loaded.revision)
      throw new PreconditionFailedError(streamId, meta.ifMatch, loaded.revision);
    const resolved = typeof command === 'function' ? (command as (state: S) => C)(loaded.state) : command;
    const decided = decider.decide(resolved, loaded.state);
    if (decided.length === 0) {
      const last = loaded.events[loaded.events.length - 1];
      return { ...loaded, position: last?.position ?? 0n, changed: false };
    }
    const toAppend = requestEvents(deps, meta, actor.userId, streamId, decided);
    try {
      const expected = loaded.revision < 0n ? 'no_stream' : loaded.revision;
      const result = await deps.eventStore.append(streamId, toAppend, expected);
      const state = decided.reduce(decider.evolve, loaded.state);
      return { state, revision: result.nextExpectedRevision, events: loaded.events, position: result.position, changed: true };
    } catch (error) {
      // The append may or may not have been written: the next load finds the request's events if it was (their
      // ids are the request's, so appending them again at the same revision cannot write them twice).
      if (error instanceof EventStoreOutcomeUnknownError && unknownOutcomes++ < 2) continue;
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      if (meta.ifMatch !== undefined)
        throw new PreconditionFailedError(streamId, meta.ifMatch, typeof error.actual === 'bigint' ? error.actual : -1n);
      if (attempt >= 1) throw new ConcurrencyConflictError(streamId);
    }
  }
}
