import type Database from 'better-sqlite3';
import { type ChainRow, type ChainVerification, GENESIS, verifyChain } from './chain.ts';

/** A link of the chain as SQLite answers it (raw), and an event as the verifier reads it (raw). */
export type ChainLink = [position: number, eventId: string, payloadHash: string, hash: string, expired: number];
export type ChainedEvent = [position: number, id: string, streamId: string, revision: number, type: string, data: string, metadata: string];

/**
 * The links with their events (merged by position), one object reused for all of them (the verifier reads each
 * before asking for the next): a million rows make no garbage beyond their strings.
 */
function* chainRows(links: readonly ChainLink[], events: readonly ChainedEvent[]): Iterable<ChainRow> {
  const event = { id: '', streamId: '', revision: 0, type: '', data: '', metadata: '' };
  const row: ChainRow = { position: 0, eventId: '', payloadHash: '', hash: '', expired: false, event };
  let e = 0;
  for (const link of links) {
    while (e < events.length && events[e]![0] < link[0]) e += 1;
    row.position = link[0];
    row.eventId = link[1];
    row.payloadHash = link[2];
    row.hash = link[3];
    row.expired = link[4] === 1;
    const stored = events[e];
    if (stored === undefined || stored[0] !== link[0]) row.event = null;
    else {
      row.event = event;
      [, event.id, event.streamId, event.revision, event.type, event.data, event.metadata] = stored;
    }
    yield row;
  }
}

/** The first event of the range that no link covers (written around the store), if any. */
function firstUnchained(links: readonly ChainLink[], events: readonly ChainedEvent[]): number | undefined {
  let l = 0;
  for (const [position] of events) {
    while (l < links.length && links[l]![0] < position) l += 1;
    if (links[l]?.[0] !== position) return position;
  }
  return undefined;
}

/** Positions the verifier reads per query. */
export const VERIFY_SLICE = 20_000;

/**
 * Verification of a range of positions of the embedded store's chain, over one connection: the links and the events
 * of each slice read apart (each in position order, through its primary key; hashes as hex text, cheaper to hand to
 * JavaScript than buffers) and merged, a join being slower. The store runs it in process, a worker thread over a
 * connection of its own (see chain-verify-worker.ts).
 */
export class ChainRangeVerifier {
  private readonly links: Database.Statement<[number, number], ChainLink>;
  private readonly events: Database.Statement<[number, number], ChainedEvent>;
  private readonly before: Database.Statement<[number], string>;

  constructor(db: Database.Database) {
    this.links = db.prepare<[number, number], ChainLink>('SELECT position, event_id, lower(hex(payload_hash)), lower(hex(hash)), expired FROM event_chain WHERE position >= ? AND position <= ? ORDER BY position').raw();
    this.events = db.prepare<[number, number], ChainedEvent>('SELECT position, id, stream_id, revision, type, data, metadata FROM events WHERE position >= ? AND position <= ? ORDER BY position').raw();
    this.before = db.prepare<[number], string>('SELECT lower(hex(hash)) FROM event_chain WHERE position < ? ORDER BY position DESC LIMIT 1').pluck();
  }

  /** The link stored before a position (the chain's start for the first). */
  linkBefore(position: number): string {
    return this.before.get(position) ?? GENESIS;
  }

  /** Checks one slice, from the link before it; answers the verification and the slice's last stored link. */
  slice(start: number, last: number, previous: string): { part: ChainVerification; lastLink: string } {
    const links = this.links.all(start, last) as unknown as ChainLink[];
    const events = this.events.all(start, last) as unknown as ChainedEvent[];
    const part = verifyChain(chainRows(links, events), previous, firstUnchained(links, events));
    return { part, lastLink: links.length ? links[links.length - 1]![3] : previous };
  }

  /** Checks `from`..`to` (both included) slice by slice, calling `between` after each but the last; stops at the first break. */
  async range(from: number, to: number, between: () => Promise<void> = async () => {}): Promise<ChainVerification> {
    let previous = this.linkBefore(from);
    const parts: ChainVerification[] = [];
    for (let start = from; start <= to; start += VERIFY_SLICE) {
      const last = Math.min(to, start + VERIFY_SLICE - 1);
      const { part, lastLink } = this.slice(start, last, previous);
      parts.push(part);
      if (!part.ok) break;
      previous = lastLink;
      if (last < to) await between();
    }
    return joinVerifications(parts);
  }
}

/** The verifications of consecutive ranges as one: counted up to the first break, which is the answer's. */
export function joinVerifications(parts: readonly ChainVerification[]): ChainVerification {
  const total: ChainVerification = { ok: true, checked: 0, expired: 0 };
  for (const part of parts) {
    total.checked += part.checked;
    total.expired += part.expired;
    if (part.head) total.head = part.head;
    if (!part.ok) return { ...total, ok: false, firstBreak: part.firstBreak! };
  }
  return total;
}
