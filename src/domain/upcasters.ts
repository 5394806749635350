import { competitorReferences } from './competitor/references.ts';

// (A module of its own, with no schemas: a thread that only reads the log loads this, not zod and every record type.)

/**
 * Upcasting, in one place. Events are facts and never rewritten: when an event's shape grows, the stored old
 * shape is turned into today's here, on every read (command handlers, projections, the Kafka relay and history
 * all read through it), so data written by an earlier version keeps working. An upcaster is pure and idempotent
 * (an event already in today's shape passes through), and it never invents facts: a new field gets the value
 * that means "unknown" or "not set". Add one entry per change, oldest first, with the version that needed it.
 */
const upcasters: Readonly<Record<string, readonly ((data: Record<string, unknown>) => Record<string, unknown>)[]>> = {
  CustomerRegistered: [
    // 2026-11 (issue 12): the customer's code in the ERP (往来单位编码), null until the ERP bridge links it.
    (data) => ('erpCode' in data ? data : { ...data, erpCode: null }),
  ],
  // 2026-11 (issue 12): an opportunity's competitors were free text; they are references to the competitors
  // archive now. An old name reads as the id of the competitor made from it (`competitorIdFor`), which the
  // start-up migration `migrateCompetitorNames` creates.
  OpportunityCreated: [(data) => withCompetitorReferences(data, 'fields')],
  OpportunityChanged: [(data) => withCompetitorReferences(data, 'changes')],
};

function withCompetitorReferences(data: Record<string, unknown>, key: 'fields' | 'changes'): Record<string, unknown> {
  const inner = data[key] as Record<string, unknown> | undefined;
  const competitors = inner?.competitors;
  if (!Array.isArray(competitors)) return data;
  return { ...data, [key]: { ...inner, competitors: competitorReferences(competitors as string[]) } };
}

/** An event's data in today's shape. */
export function upcastData(type: string, data: unknown): unknown {
  const steps = upcasters[type];
  if (!steps || !data || typeof data !== 'object') return data;
  return steps.reduce((current, step) => step(current), data as Record<string, unknown>);
}

/** An event as it reads today: its data upcast, or the event itself when nothing changed. */
export function upcastEvent<E extends { type: string; data: unknown }>(event: E): E {
  const data = upcastData(event.type, event.data);
  return data === event.data ? event : { ...event, data };
}
