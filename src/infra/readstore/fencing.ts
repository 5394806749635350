import { DuplicateKeyError, type Filter } from './port.ts';

/**
 * A leader's right to write: the fencing token its writes carry (a write under a lower token than the stored one
 * is refused), and whether it may still trust its lease (checked before it does anything).
 */
export interface Fence {
  readonly token: number;
  valid(): boolean;
  /**
   * Asks the store whether the lease still carries this token (a round trip): checked before a write the store
   * cannot fence itself (an append to the event log by a scheduler).
   */
  confirm?(): Promise<boolean>;
}

/** A write refused because a leader with a higher fencing token has written since: the writer was deposed. */
export class FencedError extends Error {
  constructor(what: string) {
    super(`${what} was refused: another worker leads now`);
    this.name = 'FencedError';
  }
}

/** The filter that lets a fenced write through only over a document no later leader has written (no fence: by id). */
export const fencedFilter = (id: string, fence: Fence | undefined): Filter =>
  fence ? { _id: id, $or: [{ fence: { $exists: false } }, { fence: { $lte: fence.token } }] } : { _id: id };

/** The field a fenced write sets beside its own (none without a fence). */
export const fenceField = (fence: Fence | undefined): { fence?: number } => (fence ? { fence: fence.token } : {});

/**
 * Runs an upsert through `fencedFilter`: a later leader's document makes its filter match nothing, so the upsert
 * collides with it (FencedError). A writer that cannot trust its lease any more writes nothing.
 */
export async function fencedWrite<R>(fence: Fence | undefined, what: string, write: () => Promise<R>): Promise<R> {
  if (fence && !fence.valid()) throw new FencedError(what);
  try {
    return await write();
  } catch (error) {
    if (!fence || !(error instanceof DuplicateKeyError)) throw error;
  }
  // Two upserts of a document that did not exist yet collide too: tried again, the write now finds the document,
  // and only a later leader's token refuses it.
  try {
    return await write();
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw new FencedError(what);
    throw error;
  }
}
