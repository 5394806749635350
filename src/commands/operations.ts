import { operationsCategory } from '../domain/categories.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { factEvent } from './pipeline.ts';

/** Administrators' decisions about the running service, kept as events (and so in the audit trail). */
export { operationsCategory };

export type OperationsEvent =
  | { type: 'ProjectionEventSkipped'; data: { projection: string; eventId: string; position: number; error: string } }
  | { type: 'ProjectionRebuildRequested'; data: { projection: string; reason: string } };

/** Records an operations decision on the projection's stream (any revision: decisions are facts, not state). */
export async function recordOperation(deps: CommandDeps, projection: string, event: OperationsEvent, actor: Actor, meta: RequestMeta): Promise<bigint> {
  const result = await deps.eventStore.append(
    `${operationsCategory}-projection.${projection}`,
    [factEvent(deps, meta, actor.userId, event)],
    'any',
  );
  return result.position;
}
