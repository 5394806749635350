import { describe, expect, it } from 'vitest';
import { bucketOf, quantileHours, TURNAROUND_BUCKET_LABELS, TURNAROUND_BUCKETS } from '../../src/projections/approvals.ts';

describe('approval turnaround histogram', () => {
  it('puts business minutes in the bucket of their hours, the last one open-ended', () => {
    expect([0, 59, 60, 119, 120, 239, 4799, 4800, 100_000].map(bucketOf)).toEqual([0, 0, 1, 1, 2, 2, 7, 8, 8]);
    expect(TURNAROUND_BUCKET_LABELS).toEqual(['0-1', '1-2', '2-4', '4-8', '8-16', '16-24', '24-40', '40-80', '80+']);
    expect(TURNAROUND_BUCKET_LABELS).toHaveLength(TURNAROUND_BUCKETS.length + 1);
  });

  it('reads a quantile from the histogram, interpolated within its bucket', () => {
    const empty = TURNAROUND_BUCKET_LABELS.map(() => 0);
    expect(quantileHours(empty, 0.5)).toBeNull();
    // Four decisions in [2, 4) hours: the median is half-way through the bucket, p90 near its top.
    const four = empty.map((_, i) => (i === 2 ? 4 : 0));
    expect(quantileHours(four, 0.5)).toBe(3);
    expect(quantileHours(four, 0.9)).toBe(3.8);
    // One in [0, 1), one in [8, 16): the median is the first one's bucket top, p90 inside the second bucket.
    const spread = empty.map((_, i) => (i === 0 || i === 4 ? 1 : 0));
    expect(quantileHours(spread, 0.5)).toBe(1);
    expect(quantileHours(spread, 0.9)).toBe(14.4);
    // Everything past the last edge: the last edge (the histogram knows no more).
    expect(quantileHours(empty.map((_, i) => (i === 8 ? 3 : 0)), 0.9)).toBe(80);
  });
});
