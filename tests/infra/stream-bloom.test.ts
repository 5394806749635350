import { describe, expect, it } from 'vitest';
import { StreamBloom } from '../../src/infra/eventstore/stream-bloom.ts';

describe('the stream filter', () => {
  it('never says a stream written is absent, through its resizes, and rarely says an unwritten one may be there', () => {
    const written: string[] = [];
    let rebuilds = 0;
    const filter = new StreamBloom(() => {
      rebuilds += 1;
      return written;
    });
    for (let i = 0; i < 200_000; i++) {
      const id = `customer-0193${i.toString(16).padStart(8, '0')}-7000-8000-${i}`;
      written.push(id);
      filter.add(id);
    }
    expect(rebuilds).toBeGreaterThan(1);
    expect(written.every((id) => filter.mightHold(id))).toBe(true);
    let positives = 0;
    for (let i = 0; i < 100_000; i++) if (filter.mightHold(`reservation-${i}`)) positives += 1;
    expect(positives / 100_000).toBeLessThan(0.01);
  });

  it('starts with what the log holds', () => {
    const filter = new StreamBloom(() => ['a', 'b']);
    expect([filter.mightHold('a'), filter.mightHold('b'), filter.mightHold('c')]).toEqual([true, true, false]);
  });
});
