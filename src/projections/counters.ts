import { localDate } from '../domain/company/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';

/**
 * Pre-aggregated report counters: documents keyed by their dimensions (day, stage, owner, …) holding sums kept
 * with `$inc`. A projection computes the net change an event makes per counter; each counter remembers the
 * last event position applied, so a replayed event changes nothing twice.
 */
export class CounterDeltas {
  private readonly deltas = new Map<string, { collection: string; key: Record<string, string>; inc: Record<string, number> }>();

  add(collection: string, key: Record<string, string>, inc: Record<string, number>, sign = 1): void {
    const id = `${collection}\u0000${Object.values(key).join('|')}`;
    const entry = this.deltas.get(id) ?? { collection, key, inc: {} };
    for (const [field, value] of Object.entries(inc)) entry.inc[field] = (entry.inc[field] ?? 0) + sign * value;
    this.deltas.set(id, entry);
  }

  async apply(store: ReadStore, event: RecordedEvent): Promise<void> {
    const position = Number(event.position);
    for (const { collection, key, inc } of this.deltas.values()) {
      if (Object.values(inc).every((v) => v === 0)) continue;
      const _id = Object.values(key).join('|');
      const counters = store.collection<Doc & { _position?: number }>(collection);
      const current = await counters.findOne({ _id });
      if (current && (current._position ?? -1) >= position) continue;
      await counters.updateOne({ _id }, { $inc: inc, $set: { ...key, _position: position } }, { upsert: true });
    }
  }
}

/** The day (YYYY-MM-DD) an instant falls on in the company's time zone: counters bucket by the company's days. */
export const dayOf = (iso: string, timeZone: string): string => localDate(iso, timeZone);
/** The month (YYYY-MM) an instant falls in, in the company's time zone. */
export const monthOf = (iso: string, timeZone: string): string => localDate(iso, timeZone).slice(0, 7);
