import { z } from 'zod';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { HttpProblem } from './problem.ts';

export const HistoryQuery = z
  .object({
    from: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const HistoryItem = z.object({
  revision: z.number().int(),
  position: z.number().int(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
  actor: z.string(),
  at: z.string(),
  traceId: z.string().optional().describe('The W3C trace the request that wrote it belonged to (its traceparent trace-id)'),
  batchId: z.string().optional().describe('The bulk operation it belongs to (GET /api/v1/batches/:id): an import, a merge, a handover, a mass update, an undo…'),
  undoes: z.string().optional().describe('An undo\'s event: the batch it reverts'),
});
export const HistoryPage = z.object({ items: z.array(HistoryItem), nextFrom: z.number().int().nullable() }).meta({ id: 'HistoryPage' });

export const AsOfQuery = z.object({ asOf: z.iso.datetime({ offset: true }).optional() }).strict();

/** A page of a stream's events, oldest first, as the auditor reads them. */
export function historyPage(events: RecordedEvent[], from: number, limit: number) {
  const slice = events.filter((e) => Number(e.revision) >= from).slice(0, limit);
  const last = slice[slice.length - 1];
  const more = last !== undefined && Number(last.revision) < Number(events[events.length - 1]!.revision);
  return {
    items: slice.map((e) => ({
      revision: Number(e.revision),
      position: Number(e.position),
      type: e.type,
      data: e.data as Record<string, unknown>,
      actor: e.metadata.actor,
      at: e.metadata.at,
      ...(e.metadata.traceId ? { traceId: e.metadata.traceId } : {}),
      ...(e.metadata.batchId ? { batchId: e.metadata.batchId } : {}),
      ...(e.metadata.undoes ? { undoes: e.metadata.undoes } : {}),
    })),
    nextFrom: more ? Number(last.revision) + 1 : null,
  };
}

export const notFound = (what: string, id: string) => new HttpProblem(404, `${what}.not_found`, 'Not found', `${what[0]!.toUpperCase()}${what.slice(1)} ${id} does not exist or is outside your data scope`);

/** Shared fields of a record folded from its events: identity, revision and times. */
export function recordEnvelope(id: string, events: RecordedEvent[]) {
  return {
    id,
    revision: Number(events[events.length - 1]!.revision),
    createdAt: events[0]!.metadata.at,
    updatedAt: events[events.length - 1]!.metadata.at,
  };
}
