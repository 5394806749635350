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
}

/** Read documents carry `_position`: the global position of the last event applied to them. */
export const alreadyApplied = (doc: { _position?: unknown } | null | undefined, event: RecordedEvent): boolean =>
  typeof doc?._position === 'number' && BigInt(doc._position) >= event.position;

/** A read document's key: `_id` for the store, `id` as the API shows it. */
export const keyed = (id: string) => ({ _id: id, id });
