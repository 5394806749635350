import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { ReadStore } from '../infra/readstore/port.ts';

/**
 * A read model: the event categories it follows, the collections it owns (dropped on rebuild), and an
 * idempotent `apply`. Bump `version` when its documents change shape: the runner then rebuilds it.
 */
export interface Projection {
  name: string;
  version: number;
  categories: readonly string[];
  collections: readonly string[];
  /**
   * Collections of other read models it reads while applying (the company's time zone). A replay into a staging
   * store copies them in first, so the staged replay sees what the live one would.
   */
  reads?: readonly string[];
  setup(store: ReadStore): Promise<void>;
  apply(event: RecordedEvent, store: ReadStore): Promise<void>;
  /**
   * Whether it certainly does nothing with this event of its categories, decided from the event alone (its type,
   * its metadata) and cheaply: the runner then does not hand it over. Its `apply` must do nothing with such an
   * event either (both ask the same rule), so handing it over anyway changes nothing. For a projection that follows
   * a category for a few of its events: a replay of the 100k benchmark log hands the reading thread's projections
   * about 1.7 million events fewer, each an async call and a turn of the microtask queue.
   */
  ignores?(event: RecordedEvent): boolean;
}

/** Read documents carry `_position`: the global position of the last event applied to them. */
export const alreadyApplied = (doc: { _position?: unknown } | null | undefined, event: RecordedEvent): boolean =>
  typeof doc?._position === 'number' && BigInt(doc._position) >= event.position;

/** A read document's key: `_id` for the store, `id` as the API shows it. */
export const keyed = (id: string) => ({ _id: id, id });
