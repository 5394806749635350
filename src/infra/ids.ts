import { hash, randomBytes, randomFillSync } from 'node:crypto';
import type { Clock } from './clock.ts';

/** Id generation as a port. Ids are UUIDv7: time ordered, so lists sorted by id follow creation order. */
export interface Ids {
  newId(): string;
  /**
   * The id of the `index`th event request `requestId` appends to `streamId`, where the ids are ordered (an import's
   * row: see `orderedId`); without it, they are derived from the same three (`derivedEventId`). Either way the
   * same three give the same id, so a retried request appends nothing new.
   */
  eventId?(requestId: string, streamId: string, index: number): string;
}

const format = (bytes: Uint8Array): string => {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

/** Builds a UUIDv7 from a millisecond time, a 12-bit sequence and 8 bytes of entropy. */
export function uuidv7(timeMs: number, sequence: number, entropy: Uint8Array): string {
  const bytes = new Uint8Array(16);
  let time = BigInt(timeMs);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(time & 0xffn);
    time >>= 8n;
  }
  bytes[6] = 0x70 | ((sequence >> 8) & 0x0f);
  bytes[7] = sequence & 0xff;
  bytes.set(entropy.subarray(0, 8), 8);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  return format(bytes);
}

/**
 * Random bytes drawn from the system in blocks of 4 KiB, not in a call per use (a call for 16 bytes costs about
 * as much as one for 4,096). Each slice handed out is used once; it is overwritten by a later refill.
 */
export function entropyPool(): (bytes: number) => Buffer {
  const pool = Buffer.alloc(4096);
  let used = pool.length;
  return (bytes) => {
    if (used + bytes > pool.length) {
      randomFillSync(pool);
      used = 0;
    }
    used += bytes;
    return pool.subarray(used - bytes, used);
  };
}

/** Random UUIDv7s, strictly increasing within one process (a 12-bit counter orders ids of the same millisecond). */
export function randomIds(clock: Clock): Ids {
  let lastMs = -1;
  let sequence = 0;
  const random = entropyPool();
  return {
    eventId: requestOrderedEventId,
    newId() {
      let ms = clock.now().getTime();
      if (ms <= lastMs) {
        sequence += 1;
        if (sequence > 0xfff) {
          lastMs += 1;
          sequence = 0;
        }
        ms = lastMs;
      } else {
        lastMs = ms;
        sequence = random(2).readUInt16BE() & 0x3ff;
      }
      return uuidv7(ms, sequence, random(8));
    },
  };
}

const digest = (...parts: string[]): Buffer => hash('sha256', parts.join('\u0000'), 'buffer');

/**
 * Deterministic ids from a seed: a retried request that reuses its seed creates the very same ids, so a
 * retry after a crash re-targets the records the first attempt may already have written.
 */
export function seededIds(seed: string, timeMs: number): Ids {
  let counter = 0;
  return {
    newId() {
      const bytes = digest(seed, String(counter++));
      return uuidv7(timeMs, bytes.readUInt16BE(0) & 0xfff, bytes.subarray(2));
    },
  };
}

/**
 * Name-based ids (UUID version 8, SHA-256 of the seed and a counter): the same seed gives the same ids in the same
 * order, whenever and wherever it runs. For writes whose input names them once and for all (an ERP message: its
 * topic, code and version), so a redelivery re-creates exactly what it created before.
 */
export function derivedIds(seed: string): Ids {
  let counter = 0;
  return {
    newId() {
      const bytes = new Uint8Array(digest('id', seed, String(counter++)).subarray(0, 16));
      bytes[6] = 0x80 | (bytes[6]! & 0x0f);
      bytes[8] = 0x80 | (bytes[8]! & 0x3f);
      return format(bytes);
    },
  };
}

/** A byte as two hex digits. */
function octet(value: number): string {
  return value < 16 ? `0${value.toString(16)}` : value.toString(16);
}

/**
 * A UUIDv7 ordered by a time, then by an ordinal (below 2^32), its last 42 bits a hash of `seed`: the same three
 * give the same id. The ids of one series (an import's rows, the time its run began) sort in the order they are
 * written, so an index on them takes each next to the one before, where random ids would each dirty a page of
 * their own (300,000 events with random ids wrote 3 GB of log pages in commits of 300, against 350 MB ordered).
 */
export function orderedId(timeMs: number, ordinal: number, seed: string): string {
  const time = timeMs.toString(16).padStart(12, '0');
  const hashed = hash('sha256', seed, 'hex');
  const o = ordinal >>> 0;
  const clock = `${octet(0x70 | (o >>> 28))}${octet((o >>> 20) & 0xff)}`;
  const sequence = `${octet(0x80 | ((o >>> 14) & 0x3f))}${octet((o >>> 6) & 0xff)}`;
  const node = `${octet(((o & 0x3f) << 2) | (parseInt(hashed[0]!, 16) & 0x03))}${hashed.slice(2, 12)}`;
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-${clock}-${sequence}-${node}`;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The id of an event a request appends, ordered by the request: a request whose id is a UUIDv7 (every request
 * the service numbers itself) gives its events ids that begin with its own time and sequence, then the last 62
 * bits of `derivedEventId` of the same request, stream and index (UUID version 8). The same three give the same id,
 * as with `derivedEventId` (which any other request id gets), but the log's unique index on event ids takes each
 * new one next to the last instead of on a random page: into a log of a million events, create-shaped appends with
 * random ids ran about a third slower (`append_large_log_creates_per_s`), each commit writing an index page per event.
 */
export function requestOrderedEventId(requestId: string, streamId: string, index: number): string {
  const derived = derivedEventId(requestId, streamId, index);
  if (!UUID_V7.test(requestId)) return derived;
  // 8 hex digits of time, 4 more, then the version 8 and the request's 12-bit sequence: the request's order. The
  // derived id's last two groups keep their variant bits.
  return `${requestId.slice(0, 8)}-${requestId.slice(9, 13)}-8${requestId.slice(15, 18)}-${derived.slice(19)}`;
}

/** A name-based UUID (version 8, SHA-256) for an event: the same request, stream and index give the same id. */
export function derivedEventId(seed: string, streamId: string, index: number): string {
  const bytes = new Uint8Array(digest('event', seed, streamId, String(index)).subarray(0, 16));
  bytes[6] = 0x80 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  return format(bytes);
}

export const randomToken = (bytes = 16): string => randomBytes(bytes).toString('base64url');
