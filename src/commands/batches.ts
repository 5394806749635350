import { type BatchConflict, type BatchKind, type BatchState, batchCategory, batchDecider, batchStream, MAX_LISTED_CONFLICTS } from '../domain/batch/index.ts';
import { fold } from '../domain/shared/decider.ts';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { factEvent, load } from './pipeline.ts';

/** A bulk operation's request facts: its events carry the batch id. */
export const inBatch = (meta: RequestMeta, batchId: string): RequestMeta => ({ ...meta, batchId });

export interface BatchStart {
  kind: BatchKind;
  resource: string;
  summary: Record<string, unknown>;
  undoes?: string;
  force?: boolean;
}

/** Opens a batch (`batch-<id>`); starting one that exists already (a retried request) changes nothing. */
export async function startBatch(deps: CommandDeps, start: BatchStart, actor: Actor, meta: RequestMeta, batchId: string = meta.ids.newId()): Promise<{ batchId: string; position: bigint }> {
  const { kind, resource, summary, undoes, force } = start;
  const event = factEvent(deps, meta, actor.userId, { type: 'BatchStarted', data: { batchId, kind, resource, summary, ...(undoes ? { undoes } : {}), ...(force ? { force } : {}) } });
  try {
    const result = await deps.eventStore.append(batchStream(batchId), [event], 'no_stream');
    return { batchId, position: result.position };
  } catch (error) {
    if (!(error instanceof WrongExpectedRevisionError)) throw error;
    const events = await deps.eventStore.readStream(batchStream(batchId));
    return { batchId, position: events[0]!.position };
  }
}

export interface BatchOutcome {
  records: number;
  skipped: number;
  conflicts?: BatchConflict[];
}

/** Closes a batch with what it did; closing a closed one (a resumed run that raced another) changes nothing. */
export async function completeBatch(deps: CommandDeps, batchId: string, outcome: BatchOutcome, actor: Actor, meta: RequestMeta): Promise<bigint> {
  const events = await deps.eventStore.readStream(batchStream(batchId));
  const last = events[events.length - 1];
  if (!last) throw new Error(`Batch ${batchId} was never started`);
  const done = events.find((event) => event.type === 'BatchCompleted');
  if (done) return done.position;
  const conflicts = outcome.conflicts?.slice(0, MAX_LISTED_CONFLICTS);
  const event = factEvent(deps, meta, actor.userId, { type: 'BatchCompleted', data: { batchId, records: outcome.records, skipped: outcome.skipped, ...(conflicts?.length ? { conflicts } : {}) } }, `${batchId}:completed`);
  try {
    return (await deps.eventStore.append(batchStream(batchId), [event], last.revision)).position;
  } catch (error) {
    if (!(error instanceof WrongExpectedRevisionError)) throw error;
    return completeBatch(deps, batchId, outcome, actor, meta);
  }
}

/** A batch as its stream tells it, with the position of its last event. */
export async function loadBatch(deps: CommandDeps, batchId: string): Promise<{ state: BatchState; position: bigint }> {
  const loaded = await load(deps, batchDecider, batchStream(batchId));
  return { state: loaded.state, position: loaded.events[loaded.events.length - 1]?.position ?? 0n };
}

/** The batches of these kinds that were started and never completed (a crash or a stop interrupted them). */
export async function unfinishedBatches(deps: CommandDeps, kinds: readonly BatchKind[]): Promise<{ batchId: string; state: BatchState; actorId: string }[]> {
  const events = await deps.eventStore.readAll({ filter: { categories: [batchCategory] } });
  const open = new Map<string, { actorId: string }>();
  for (const event of events) {
    const data = event.data as { batchId: string; kind?: BatchKind };
    if (event.type === 'BatchStarted' && kinds.includes(data.kind!)) open.set(data.batchId, { actorId: event.metadata.actor });
    if (event.type === 'BatchCompleted') open.delete(data.batchId);
  }
  const found = [];
  for (const [batchId, { actorId }] of open) {
    const stream = events.filter((event) => event.streamId === batchStream(batchId)).map((event) => ({ type: event.type, data: event.data }));
    found.push({ batchId, actorId, state: fold(batchDecider, stream as never) });
  }
  return found;
}
