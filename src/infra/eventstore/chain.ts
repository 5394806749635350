import { hash } from 'node:crypto';

/**
 * The hash chain over the global log (tamper evidence). Each event's link is
 * `H(previous link, event id, H(payload))` with H = SHA-256, the first event's previous link 32 zero bytes. The
 * payload hash covers the event as stored: its stream, revision, type, data and metadata (each length-prefixed,
 * so no two events' fields can be shifted into the same bytes). A link kept while its event's payload has expired
 * (retention) still proves the order and the event id; the verifier counts such events as expired, not broken.
 */
export const GENESIS = '0'.repeat(64);

/** The stored fields of an event that its payload hash covers (as the store keeps them: data and metadata as JSON text). */
export interface StoredPayload {
  streamId: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
}

/** A field as text, or as the UTF-8 bytes SQLite holds (the verifier reads them without decoding). */
type Bytes = string | Buffer;

/** Where the hashed bytes are laid out before one SHA-256 call (grown for a larger event). */
let scratch = Buffer.alloc(64 * 1024);

/** The most bytes the fields can take, length prefixes included (UTF-8 takes at most 3 bytes per UTF-16 unit). */
const bound = (fields: readonly Bytes[]): number => fields.reduce((n, f) => n + 4 + (typeof f === 'string' ? f.length * 3 : f.length), 0);

/** Writes each field, prefixed with its length in bytes, into the scratch buffer from `offset`; answers the end. */
function layOut(fields: readonly Bytes[], offset: number): number {
  let at = offset;
  for (const value of fields) {
    const length = typeof value === 'string' ? scratch.write(value, at + 4, 'utf8') : value.copy(scratch, at + 4);
    scratch.writeUInt32BE(length, at);
    at += 4 + length;
  }
  return at;
}

/** SHA-256 of the laid-out bytes, as lower-case hex (a string: no buffer per hash). */
const sha256 = (end: number): string => hash('sha256', scratch.subarray(0, end), 'hex');

/** H(payload), hex: the event's stored fields, each prefixed with its length in bytes. */
export function payloadHash(payload: StoredPayload | NonNullable<ChainRow['event']>): string {
  const fields = [payload.streamId, String(payload.revision), payload.type, payload.data, payload.metadata];
  const size = bound(fields);
  if (size > scratch.length) scratch = Buffer.alloc(size * 2);
  return sha256(layOut(fields, 0));
}

/** H(previous link, event id, H(payload)), hex; the links and the payload hash given as hex. */
export function linkHash(previous: string, eventId: Bytes, payload: string): string {
  if (64 + 4 + eventId.length * 3 > scratch.length) scratch = Buffer.alloc(2 * (64 + 4 + eventId.length * 3));
  scratch.write(previous, 0, 'hex');
  const end = layOut([eventId], 32);
  scratch.write(payload, end, 'hex');
  return sha256(end + 32);
}

/** One position of the chain as stored: its link, its payload hash, and the event if its payload is still held. */
export interface ChainRow {
  position: number;
  /** The event id the link covers (kept with the link, so an expired event's link is still checked). */
  eventId: string;
  /** Hex, as every hash here. */
  payloadHash: string;
  hash: string;
  /** Whether retention removed the event's payload (the link stays). */
  expired: boolean;
  /** The event as stored (its fields as text or as their UTF-8 bytes); null when no event row is at this position. */
  event: { id: string; streamId: Bytes; revision: number; type: Bytes; data: Bytes; metadata: Bytes } | null;
}

/**
 * Why the chain does not hold at a position: the event no longer hashes to its payload hash (`payload_changed`);
 * a link does not follow from the previous link, the event id and the payload hash (`link_broken`: a link
 * rewritten, or events removed or reordered); the event is gone and retention did not remove it
 * (`event_missing`); an event the chain does not cover, written around the store (`event_unchained`).
 */
export const chainBreakReasons = ['payload_changed', 'link_broken', 'event_missing', 'event_unchained'] as const;
export type ChainBreakReason = (typeof chainBreakReasons)[number];

export interface ChainBreak {
  position: number;
  reason: ChainBreakReason;
}

export interface ChainVerification {
  ok: boolean;
  /** Positions checked. */
  checked: number;
  /** Of those, events whose payload expired (their links checked, their payloads not). */
  expired: number;
  /** The last link checked (hex), what a daily anchor holds for the day's last event. */
  head?: string;
  firstBreak?: ChainBreak;
}

/**
 * Checks chain rows in position order, starting from the link before the first (`previous`); `unchained` gives
 * the first position in the same range that holds an event without a link, if any. Stops at the first break.
 */
export function verifyChain(rows: Iterable<ChainRow>, previous: string, unchained?: number): ChainVerification {
  let checked = 0;
  let expired = 0;
  let link = previous;
  let firstBreak: ChainBreak | undefined;
  for (const row of rows) {
    if (unchained !== undefined && unchained < row.position) {
      firstBreak = { position: unchained, reason: 'event_unchained' };
      break;
    }
    if (row.event) {
      if (row.event.id !== row.eventId || payloadHash(row.event) !== row.payloadHash) {
        firstBreak = { position: row.position, reason: 'payload_changed' };
        break;
      }
    } else if (row.expired) expired += 1;
    else {
      firstBreak = { position: row.position, reason: 'event_missing' };
      break;
    }
    if (linkHash(link, row.eventId, row.payloadHash) !== row.hash) {
      firstBreak = { position: row.position, reason: 'link_broken' };
      break;
    }
    link = row.hash;
    checked += 1;
  }
  if (!firstBreak && unchained !== undefined) firstBreak = { position: unchained, reason: 'event_unchained' };
  return { ok: !firstBreak, checked, expired, ...(checked ? { head: link } : {}), ...(firstBreak ? { firstBreak } : {}) };
}

/** The hash chain of an event store that keeps one (the embedded store): verification and its last link. */
export interface ChainVerifier {
  verifyChain(range?: { from?: bigint; to?: bigint }): Promise<ChainVerification>;
  chainHead(): Promise<{ position: bigint; hash: string } | null>;
}
