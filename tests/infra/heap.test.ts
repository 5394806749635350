import { describe, expect, it } from 'vitest';
import { compactHeap } from '../../src/infra/heap.ts';

describe('compacting the heap', () => {
  it('gives back old-space pages a full collection leaves committed, without --expose-gc', () => {
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    // Objects that live long enough to be promoted, three in four of which then die: pages a quarter full.
    const kept = (() => {
      const all = Array.from({ length: 1_000_000 }, (_, i) => ({ i, s: `x${i}`, t: [i] }));
      compactHeap(); // promotes them all
      return all.filter((_, i) => i % 4 === 0);
    })();
    const first = compactHeap();
    const second = compactHeap();
    expect(kept).toHaveLength(250_000);
    // The first compaction frees the dead three quarters' pages (about 100 MB; a plain full collection, about
    // 10 MB); a second finds nothing more to give back. In MB, not as a share: the test runner's own heap is there too.
    expect(first.heapBeforeMb - first.heapAfterMb).toBeGreaterThan(60);
    expect(second.heapBeforeMb - second.heapAfterMb).toBeLessThan(20);
    expect(first.ms).toBeGreaterThanOrEqual(0);
  });
});
