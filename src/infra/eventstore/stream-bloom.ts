/**
 * A Bloom filter of the stream ids a log holds: "certainly absent" or "maybe present". A command creating a
 * record reads streams that do not exist yet (the new record's, a name never claimed before); the filter lets
 * the embedded store answer those without a query. False positives only cost the query they would have cost
 * anyway; there are no false negatives as long as every stream written is added.
 */
const HASHES = 7;
/** The fewest bits per stream before the filter is sized again (about 0.1 % false positives there). */
const BITS_PER_STREAM = 20;
const MIN_BITS = 1 << 20;

/** Murmur's finaliser: spreads a hash's bits (a function of its own, not a closure made per call). */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Two independent 32-bit hashes of a string (FNV-1a with two offsets, then a murmur finaliser). */
function hashes(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
  }
  return [mix(a), mix(b) | 1];
}

export class StreamBloom {
  private bits: Uint32Array;
  private mask: number;
  private count = 0;

  /** `ids` gives every stream id the log holds now (asked again, to build a larger filter, as streams are added). */
  constructor(private readonly ids: () => Iterable<string>) {
    this.bits = new Uint32Array(MIN_BITS / 32);
    this.mask = MIN_BITS - 1;
    this.rebuild();
  }

  private rebuild(): void {
    const all = [...this.ids()];
    let size = MIN_BITS;
    // Room for twice the streams there are before it is sized again.
    while (size < all.length * BITS_PER_STREAM * 2) size *= 2;
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
    this.count = 0;
    for (const id of all) this.set(id);
  }

  private set(id: string): void {
    const [h1, h2] = hashes(id);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count += 1;
  }

  /** Records a stream written (again, harmlessly, for one already there). */
  add(id: string): void {
    if (this.mightHold(id)) return;
    this.set(id);
    // Fuller than that, the false positives climb: size it again from the log.
    if (this.count * BITS_PER_STREAM > this.mask + 1) this.rebuild();
  }

  /** False only when no stream of this id has been written. */
  mightHold(id: string): boolean {
    const [h1, h2] = hashes(id);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
