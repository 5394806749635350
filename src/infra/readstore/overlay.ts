import type { Collection, Doc, ReadStore } from './port.ts';

/**
 * A read store that answers some collections from another store (a read model built apart, e.g. of a past
 * instant) and every other one from the base store. Reads only: it is handed to report queries, which do not
 * write; flush, ping and close concern the base store, which the overlay does not own.
 */
export class OverlayReadStore implements ReadStore {
  constructor(
    private readonly base: ReadStore,
    private readonly overlay: ReadStore,
    private readonly names: ReadonlySet<string>,
  ) {}

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    return (this.names.has(name) ? this.overlay : this.base).collection<T>(name);
  }

  async flush(): Promise<void> {}

  ping(): Promise<void> {
    return this.base.ping();
  }

  async close(): Promise<void> {}
}
