import { compareValues, NOT_PLAIN, sortValue, split } from './fast-path.ts';
import type { Doc } from './port.ts';

type Entry = { value: unknown; id: string };

/** Entries per block: a block is split when it grows past twice this. */
const BLOCK = 512;

const compareEntries = (a: Entry, b: Entry): number => compareValues(a.value, b.value) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The first position in `items` whose entry is not before `entry` (the one to insert at). */
function lowerBound(items: readonly Entry[], entry: Entry): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (compareEntries(items[middle]!, entry) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The documents of a collection in the order of one field, then `_id` (MongoDB's order of plain values: missing
 * and null, numbers, strings, booleans), as sorted blocks: adding or removing a document costs O(log n) plus
 * moving at most a block, and a page sorted by the field walks it from either end, stopping after the page
 * instead of sorting the whole collection. A document whose value is an object or an array cannot be placed
 * (MongoDB orders those by rules of their own): while one is held, the index declines to answer.
 */
export class SortedIndex {
  private readonly parts: string[];
  private blocks: Entry[][] = [];
  private readonly unplaced = new Set<string>();

  constructor(readonly field: string) {
    this.parts = split(field);
  }

  private entryOf(doc: Doc): Entry | undefined {
    const value = sortValue(doc, this.parts);
    return value === NOT_PLAIN ? undefined : { value, id: doc._id };
  }

  /** The block an entry belongs in: the first whose last entry is not before it (the last block past the end). */
  private blockFor(entry: Entry): number {
    let low = 0;
    let high = this.blocks.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      const block = this.blocks[middle]!;
      if (compareEntries(block[block.length - 1]!, entry) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  add(doc: Doc): void {
    const entry = this.entryOf(doc);
    if (!entry) {
      this.unplaced.add(doc._id);
      return;
    }
    if (this.blocks.length === 0) {
      this.blocks.push([entry]);
      return;
    }
    const b = this.blockFor(entry);
    const block = this.blocks[b]!;
    block.splice(lowerBound(block, entry), 0, entry);
    if (block.length > 2 * BLOCK) this.blocks.splice(b, 1, block.slice(0, BLOCK), block.slice(BLOCK));
  }

  remove(doc: Doc): void {
    const entry = this.entryOf(doc);
    if (!entry) {
      this.unplaced.delete(doc._id);
      return;
    }
    if (this.blocks.length === 0) return;
    const b = this.blockFor(entry);
    const block = this.blocks[b]!;
    const at = lowerBound(block, entry);
    if (at < block.length && compareEntries(block[at]!, entry) === 0) {
      block.splice(at, 1);
      if (block.length === 0) this.blocks.splice(b, 1);
    }
  }

  /** Builds the index over many documents at once (a sort, then blocks), for a new index or a loaded snapshot. */
  load(docs: Iterable<Doc>): void {
    const entries: Entry[] = [];
    for (const doc of docs) {
      const entry = this.entryOf(doc);
      if (entry) entries.push(entry);
      else this.unplaced.add(doc._id);
    }
    entries.sort(compareEntries);
    this.blocks = [];
    for (let start = 0; start < entries.length; start += BLOCK) this.blocks.push(entries.slice(start, start + BLOCK));
  }

  /** Whether every document is placed, so a walk visits them all. */
  get complete(): boolean {
    return this.unplaced.size === 0;
  }

  /**
   * The ids whose value lies in a range of one type (numbers or strings, as MongoDB compares only values of the
   * bound's type), in order: from the first not below `lower` (strictly above it with `lowerOpen`) while below
   * `upper` (or not above it with `upperClosed`).
   */
  *idsInRange(range: { lower?: number | string; lowerOpen?: boolean; upper?: number | string; upperClosed?: boolean }): Generator<string> {
    const kind = typeof (range.lower ?? range.upper);
    const start: Entry = { value: range.lower ?? (kind === 'number' ? -Infinity : ''), id: '' };
    if (this.blocks.length === 0) return;
    for (let b = this.blockFor(start), i = lowerBound(this.blocks[b]!, start); b < this.blocks.length; b++, i = 0) {
      const block = this.blocks[b]!;
      for (; i < block.length; i++) {
        const { value, id } = block[i]!;
        if (typeof value !== kind) return;
        if (range.lowerOpen && value === range.lower) continue;
        if (range.upper !== undefined && (range.upperClosed ? (value as string | number) > range.upper : (value as string | number) >= range.upper)) return;
        yield id;
      }
    }
  }

  /** The ids in the field's order (1), or the reverse (-1), ties by `_id` in the same direction. */
  *ids(direction: 1 | -1): Generator<string> {
    if (direction === 1) {
      for (const block of this.blocks) for (const entry of block) yield entry.id;
      return;
    }
    for (let b = this.blocks.length - 1; b >= 0; b--) {
      const block = this.blocks[b]!;
      for (let i = block.length - 1; i >= 0; i--) yield block[i]!.id;
    }
  }
}
