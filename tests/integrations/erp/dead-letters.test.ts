import { describe, expect, it } from 'vitest';
import { bySize, deadLetter } from '../../../src/integrations/erp/kafka-inbound.ts';

describe('dead letters', () => {
  it('go to the broker in requests of bounded size, in order, none left out', () => {
    const letters = Array.from({ length: 500 }, (_, i) => deadLetter('erp.customer', 0, { key: Buffer.from(`C${i}`), value: Buffer.from('x'.repeat(2_000)), offset: String(i), timestamp: '0', attributes: 0, headers: {} }, 'erp.default_owner_missing', '2026-12-03T00:00:00.000Z'));
    const runs = bySize(letters, 256 * 1024);
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.flat()).toEqual(letters);
    for (const run of runs) expect(run.reduce((sum, m) => sum + String(m.value).length, 0)).toBeLessThanOrEqual(256 * 1024);
  });

  it('a letter larger than the bound goes alone', () => {
    const big = { key: 'k', value: 'y'.repeat(10_000) };
    expect(bySize([{ key: 'a', value: 'a' }, big, { key: 'b', value: 'b' }], 1_000).map((run) => run.length)).toEqual([1, 1, 1]);
  });
});
